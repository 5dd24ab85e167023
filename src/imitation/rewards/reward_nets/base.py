"""The reward-net interface: ``RewardNet`` and its wrapper base classes."""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import preprocessing
from torch import nn

from imitation.data import types
from imitation.rewards.persistence import SavableModule
from imitation.util import networks, numpy_forward, util


def cnn_transpose(tensor: th.Tensor) -> th.Tensor:
    """Transpose a batch of images from ``(N, H, W, C)`` to ``(N, C, H, W)``.

    Raises:
        ValueError: If ``tensor`` is not 4-dimensional.
    """
    if tensor.dim() != 4:
        raise ValueError(
            f"cnn_transpose needs a 4-D tensor, got shape {tuple(tensor.shape)}."
        )
    return th.permute(tensor, (0, 3, 1, 2))


def _make_preprocessor(
    space: gym.Space, normalize_images: bool
) -> Callable[[Any], Any]:
    """A function equal to ``preprocess_obs(x, space, normalize_images)``.

    Box and Discrete spaces (the common case, on every environment step) skip
    SB3's per-call image check and pick rows of an identity for the one-hot
    encoding, which is cheaper than ``F.one_hot`` on small batches.
    """
    if isinstance(space, gym.spaces.Box):
        if normalize_images and preprocessing.is_image_space(space):
            return lambda x: x.float() / 255.0
        return lambda x: x.float()
    if isinstance(space, gym.spaces.Discrete):
        identities: dict[th.device, th.Tensor] = {}

        def one_hot(x: th.Tensor) -> th.Tensor:
            eye = identities.get(x.device)
            if eye is None:
                eye = identities[x.device] = th.eye(int(space.n), device=x.device)
            # Rows of the identity; out-of-range values raise, as in one_hot.
            rows = eye.index_select(0, x.long().reshape(-1))
            return rows.reshape(*x.shape, int(space.n))

        return one_hot
    if isinstance(space, gym.spaces.Dict):
        per_key = {
            key: _make_preprocessor(space[key], normalize_images)
            for key in dict_keys(space)
        }

        def preprocess_dict(x: Any) -> dict[str, th.Tensor]:
            return {key: fn(x[key]) for key, fn in per_key.items()}

        return preprocess_dict
    return functools.partial(
        preprocessing.preprocess_obs,
        observation_space=space,
        normalize_images=normalize_images,
    )


def _make_numpy_preprocessor(
    space: gym.Space, normalize_images: bool
) -> Callable[[np.ndarray], np.ndarray | None] | None:
    """Like :func:`_make_preprocessor`, on numpy arrays, for Box and Discrete spaces.

    On the small CPU batches of the per-step reward path, numpy casts and row
    picks cost a fraction of the equivalent torch calls. The function returns
    None for inputs it does not handle (then the torch path runs); None in
    place of a function means the space has no numpy path.
    """
    if isinstance(space, gym.spaces.Box):
        if normalize_images and preprocessing.is_image_space(space):
            return lambda x: x.astype(np.float32) / np.float32(255.0)
        return lambda x: x.astype(np.float32, copy=False)
    if isinstance(space, gym.spaces.Discrete):
        n = int(space.n)
        eye = np.eye(n, dtype=np.float32)

        def one_hot(x: np.ndarray) -> np.ndarray | None:
            if x.dtype.kind not in "iu":
                return None
            index = x.reshape(-1)
            try:
                # ``take`` wraps negative indices around: refuse them first.
                if x.dtype.kind == "i" and index.min(initial=0) < 0:
                    raise IndexError
                rows = eye.take(index, axis=0)
            except IndexError:
                raise ValueError(
                    f"Values outside [0, {n}) for the space {space}: "
                    f"{np.unique(x[(x < 0) | (x >= n)])[:5].tolist()}."
                ) from None
            return rows.reshape(*x.shape, n)

        return one_hot
    if isinstance(space, gym.spaces.Dict):
        per_key_np = {
            key: _make_numpy_preprocessor(space[key], normalize_images)
            for key in dict_keys(space)
        }
        if any(fn is None for fn in per_key_np.values()):
            return None
        fns = cast(dict[str, Callable[[np.ndarray], Any]], per_key_np)

        def preprocess_dict(x: Any) -> Any:
            out = {}
            for key, fn in fns.items():
                value = x[key]
                if not isinstance(value, np.ndarray):
                    return None
                arr = fn(value)
                if arr is None:
                    return None
                out[key] = arr
            return out

        return preprocess_dict
    return None


def dict_keys(space: gym.spaces.Dict) -> list[str]:
    """The keys of a ``Dict`` space in the order reward nets concatenate them.

    Sorted, so the order does not depend on how the space was built.
    """
    return sorted(space.spaces)


def flatten_obs(obs: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
    """A preprocessed observation batch as a 2-D tensor ``(batch, features)``.

    A dict (from a ``Dict`` space) is flattened key by key and concatenated
    in sorted key order (see :func:`dict_keys`); a tensor is flattened.
    """
    if isinstance(obs, dict):
        return th.cat([th.flatten(obs[key], 1) for key in sorted(obs)], dim=1)
    return th.flatten(obs, 1)


def _as_plain_obs(obs: Any) -> Any:
    """A ``DictObs`` as a plain dict of arrays; anything else unchanged."""
    return obs.unwrap() if isinstance(obs, types.DictObs) else obs


def check_dict_obs(obs: Any, space: gym.spaces.Dict, name: str = "observations") -> int:
    """Check a batch of dict observations against ``space``; return its length.

    Args:
        obs: A mapping (or ``DictObs``) from key to a batch of values.
        space: The ``Dict`` observation space.
        name: What ``obs`` is, for the error messages.

    Returns:
        The batch length shared by every key.

    Raises:
        ValueError: Naming the key, if a key is missing or unexpected, a
            value's per-sample shape differs from its subspace's, or the keys'
            batch lengths differ.
    """
    if not isinstance(obs, types.DictObs | dict) and not hasattr(obs, "keys"):
        raise ValueError(
            f"{name} must be a dict of arrays for the Dict space {space}, got "
            f"{type(obs).__name__}.",
        )
    expected, got = set(space.spaces), set(obs.keys())
    if got != expected:
        missing, extra = sorted(expected - got), sorted(got - expected)
        raise ValueError(
            f"{name}: the keys {sorted(got)} do not match the observation "
            f"space's {sorted(expected)} (missing: {missing}, unexpected: "
            f"{extra}).",
        )
    lengths = {}
    for key in dict_keys(space):
        value = obs[key] if not isinstance(obs, types.DictObs) else obs.get(key)
        sub = space[key]
        shape = tuple(np.shape(value))
        if sub.shape is not None and shape[1:] != tuple(sub.shape):
            raise ValueError(
                f"{name}[{key!r}] has per-sample shape {shape[1:]}, but the "
                f"observation space's {key!r} entry {sub} needs "
                f"{tuple(sub.shape)}.",
            )
        lengths[key] = shape[0] if shape else 0
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{name} keys have different batch lengths: {lengths}.")
    return next(iter(lengths.values()))


def _from_numpy(a: np.ndarray) -> th.Tensor:
    """``th.from_numpy``, copying read-only arrays (torch cannot share them)."""
    return th.from_numpy(a if a.flags.writeable else a.copy())


class RewardNet(SavableModule, nn.Module, abc.ABC):
    """Base class of reward networks: maps transitions to rewards."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        normalize_images: bool = True,
    ) -> None:
        """Set up the spaces.

        Args:
            observation_space: The environment's observation space.
            action_space: The environment's action space.
            normalize_images: Scale image observations to [0, 1] in ``preprocess``.
        """
        super().__init__()
        self.observation_space = observation_space
        self.action_space = action_space
        self.normalize_images = normalize_images

    @abc.abstractmethod
    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Rewards for a batch of preprocessed transitions, shape ``(batch,)``."""

    def _check_batch(self, state: Any, action: Any, next_state: Any, done: Any) -> int:
        n = len(done)
        expected = self.observation_space.shape
        is_dict = isinstance(self.observation_space, gym.spaces.Dict)
        lengths = {len(action)}
        for name, value in (("state", state), ("next_state", next_state)):
            if is_dict:
                lengths.add(
                    check_dict_obs(
                        value,
                        cast(gym.spaces.Dict, self.observation_space),
                        name,
                    )
                )
                continue
            if isinstance(value, dict | types.DictObs):
                raise ValueError(
                    f"{name} is a dict, but the reward net's observation space "
                    f"{self.observation_space} is not a Dict space.",
                )
            lengths.add(len(value))
            if expected is None:
                continue
            shape = tuple(np.shape(value))[1:]
            if shape != tuple(expected):
                raise ValueError(
                    f"{name} has per-sample shape {shape}, but the reward net's "
                    f"observation space {self.observation_space} needs "
                    f"{tuple(expected)}.",
                )
        if lengths != {n}:
            raise ValueError(
                f"Batch lengths differ: state, action, next_state and done must all "
                f"have {n} entries.",
            )
        return n

    def preprocess(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Turn numpy batches into tensors ready for :meth:`forward`.

        Tensors go on the net's device; discrete observations and actions are
        one-hot encoded, images scaled (if ``normalize_images``), and ``done``
        is cast to float. For a ``Dict`` observation space, ``state`` and
        ``next_state`` are dicts of arrays (or ``DictObs``) and become dicts of
        tensors, each key preprocessed as its subspace requires.

        Raises:
            ValueError: If shapes do not match the net's spaces or each other.
        """
        state, next_state = _as_plain_obs(state), _as_plain_obs(next_state)
        self._check_batch(state, action, next_state, done)
        device = self.device
        if device.type == "cpu":
            arrays = self._preprocess_arrays(state, action, next_state, done)
            if arrays is not None:
                # A read-only array (or a view of one) cannot be shared with torch.
                return tuple(  # type: ignore[return-value]
                    {k: _from_numpy(v) for k, v in a.items()}
                    if isinstance(a, dict)
                    else _from_numpy(a)
                    for a in arrays
                )

        def to_th(x: Any) -> Any:
            return types.map_maybe_dict(
                lambda v: util.safe_to_tensor(v, device=device), x
            )

        prep_obs = self._preprocessor(self.observation_space)
        state_th = prep_obs(to_th(state))
        action_th = self._preprocessor(self.action_space)(to_th(action))
        next_state_th = prep_obs(to_th(next_state))
        done_th = util.safe_to_tensor(
            np.asarray(done, dtype=np.float32)
            if isinstance(done, np.ndarray)
            else done,
            device=device,
        ).to(th.float32)
        return state_th, action_th, next_state_th, done_th  # type: ignore[return-value]

    def _preprocess_arrays(
        self, state: Any, action: Any, next_state: Any, done: Any
    ) -> tuple[Any, np.ndarray, Any, np.ndarray] | None:
        """:meth:`preprocess` done in numpy (arrays, not tensors), or None.

        Applies to numpy inputs (checked, plain) for Box and Discrete spaces;
        the results equal the torch path's (tested). None where only torch
        applies.
        """
        if not all(
            isinstance(x, np.ndarray | dict) for x in (state, action, next_state, done)
        ) or isinstance(action, dict):
            return None
        prep_obs = self._preprocessor(self.observation_space, numpy=True)
        prep_act = self._preprocessor(self.action_space, numpy=True)
        if prep_obs is None or prep_act is None:
            return None
        arrays = (
            prep_obs(state),
            prep_act(action),
            prep_obs(next_state),
            done.astype(np.float32, copy=False),
        )
        if any(a is None for a in arrays):
            return None
        return arrays  # type: ignore[return-value]

    def _preprocessor(self, space: gym.Space, numpy: bool = False) -> Any:
        """SB3's ``preprocess_obs`` for ``space``, with its per-call checks done once.

        Built on first use and kept (with the space, so a replaced space gets
        its own); the results equal ``preprocess_obs``'s. ``numpy=True`` gives
        the numpy version from :func:`_make_numpy_preprocessor` (or None).
        """
        cache = self.__dict__.setdefault("_preprocessors", {})
        key = (id(space), numpy)
        entry = cache.get(key)
        if entry is None or entry[0] is not space:
            make = _make_numpy_preprocessor if numpy else _make_preprocessor
            entry = (space, make(space, self.normalize_images))
            cache[key] = entry
        return entry[1]

    def predict_th(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        """Rewards for raw numpy batches, as a tensor, without gradients.

        Evaluated in eval mode (the net's mode is restored afterwards).

        Raises:
            ValueError: If the net returns a shape other than ``(batch,)``.
        """
        with networks.predicting(self):
            rew = self._forward_raw(state, action, next_state, done)
        self._check_rewards(rew, len(done))
        return rew

    def _forward_raw(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        """``forward`` on raw batches (a hook for nets that need the raw inputs)."""
        return self(*self.preprocess(state, action, next_state, done))

    def predict(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> np.ndarray:
        """Rewards for raw numpy batches, as a numpy array.

        Evaluated in eval mode without gradients, as :meth:`predict_th`. Nets
        that can (see :meth:`_predict_numpy`) compute it in numpy, which on
        the small batches of the per-step reward path costs a fraction of
        torch's per-call overhead; the results equal torch's up to float32
        rounding (tested).
        """
        fast = self._predict_numpy(state, action, next_state, done)
        if fast is not None:
            return fast
        return self.predict_th(state, action, next_state, done).cpu().numpy()

    def _predict_numpy(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> np.ndarray | None:
        """:meth:`predict` computed in numpy, or None to use torch (the default)."""
        del state, action, next_state, done
        return None

    def _numpy_route_open(self, cls: type[RewardNet]) -> bool:
        """Whether ``cls``'s numpy route may stand in for the torch one on self.

        Not if a subclass overrides what the route replaces (``forward``,
        ``preprocess``, ``predict_th``, ``_forward_raw``) or a hook is set on
        the net: then torch runs, and the override or hook with it.
        """
        kind = type(self)
        return (
            kind.forward is cls.forward
            and kind.preprocess is RewardNet.preprocess
            and kind.predict_th is RewardNet.predict_th
            and kind._forward_raw is RewardNet._forward_raw
            and not numpy_forward.hooked(self)
        )

    def _checked_arrays(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> tuple[Any, np.ndarray, Any, np.ndarray] | None:
        """The batch checked and preprocessed in numpy, or None (see preprocess)."""
        state, next_state = _as_plain_obs(state), _as_plain_obs(next_state)
        self._check_batch(state, action, next_state, done)
        return self._preprocess_arrays(state, action, next_state, done)

    def _check_rewards(self, rew: th.Tensor | np.ndarray, n: int) -> None:
        if rew.shape != (n,):
            raise ValueError(
                f"The reward net returned shape {tuple(rew.shape)}; expected ({n},).",
            )

    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> np.ndarray:
        """Rewards for policy training; the base class applies no processing."""
        del kwargs
        return self.predict(state, action, next_state, done)

    @property
    def device(self) -> th.device:
        """The device of the net's parameters (CPU if it has none)."""
        first = networks.first_parameter(self)
        return first.device if first is not None else th.device("cpu")

    @property
    def dtype(self) -> th.dtype:
        """The dtype of the net's parameters (float32 if it has none)."""
        first = networks.first_parameter(self)
        return first.dtype if first is not None else th.float32


class RewardNetWrapper(RewardNet):
    """A reward net that wraps another (``base``), sharing its spaces."""

    def __init__(self, base: RewardNet) -> None:
        """Wrap ``base``."""
        super().__init__(
            base.observation_space, base.action_space, base.normalize_images
        )
        self._base = base

    @property
    def base(self) -> RewardNet:
        """The wrapped net."""
        return self._base

    def preprocess(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Preprocess as the wrapped net does."""
        return self.base.preprocess(state, action, next_state, done)


class ForwardWrapper(RewardNetWrapper):
    """A wrapper that changes ``forward`` (differentiably); applies everywhere."""


class PredictProcessedWrapper(RewardNetWrapper):
    """A wrapper that changes only ``predict_processed`` (policy-training rewards)."""

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """The wrapped net's ``forward``."""
        return self.base(state, action, next_state, done)

    @abc.abstractmethod
    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> np.ndarray:
        """Processed rewards for policy training."""

    def predict_th(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        """The wrapped net's unprocessed prediction."""
        return self.base.predict_th(state, action, next_state, done)
