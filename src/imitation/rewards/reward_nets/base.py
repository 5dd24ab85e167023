"""The reward-net interface: ``RewardNet`` and its wrapper base classes."""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import preprocessing
from torch import nn

from imitation.data import types
from imitation.rewards.persistence import SavableModule
from imitation.util import networks, util


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
    return None


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
        for name, value in (("state", state), ("next_state", next_state)):
            if isinstance(value, dict) or expected is None:
                continue
            shape = tuple(np.shape(value))[1:]
            if shape != tuple(expected):
                raise ValueError(
                    f"{name} has per-sample shape {shape}, but the reward net's "
                    f"observation space {self.observation_space} needs "
                    f"{tuple(expected)}.",
                )
        lengths = {
            len(x) if not isinstance(x, dict) else n
            for x in (state, action, next_state)
        }
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
        is cast to float.

        Raises:
            ValueError: If shapes do not match the net's spaces or each other.
        """
        self._check_batch(state, action, next_state, done)
        device = self.device
        if device.type == "cpu":
            fast = self._preprocess_numpy(state, action, next_state, done)
            if fast is not None:
                return fast

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

    def _preprocess_numpy(
        self, state: Any, action: Any, next_state: Any, done: Any
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor] | None:
        """:meth:`preprocess` done in numpy, or None where only torch applies.

        Applies to numpy inputs for Box and Discrete spaces; the results equal
        the torch path's (tested).
        """
        if not all(
            isinstance(x, np.ndarray) for x in (state, action, next_state, done)
        ):
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
        # A read-only array (or a view of one) cannot be shared with torch.
        return tuple(  # type: ignore[return-value]
            th.from_numpy(a if a.flags.writeable else a.copy()) for a in arrays
        )

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
        if rew.shape != (len(done),):
            raise ValueError(
                f"The reward net returned shape {tuple(rew.shape)}; expected "
                f"({len(done)},).",
            )
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
        """Rewards for raw numpy batches, as a numpy array."""
        return self.predict_th(state, action, next_state, done).cpu().numpy()

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
