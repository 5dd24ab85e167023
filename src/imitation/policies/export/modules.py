"""Policies and reward nets as modules of raw input tensors, ready for export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import base_class, policies, preprocessing
from torch import nn

from imitation.policies.base import HardCodedPolicy
from imitation.rewards.reward_nets import (
    AddSTDRewardWrapper,
    NormalizedRewardNet,
    PredictProcessedWrapper,
    RewardEnsemble,
    RewardNet,
)
from imitation.util import sb3_compat
from imitation.util.sb3_compat import (  # noqa: F401 - public here, used by files
    no_distribution_validation,
)

Exportable = policies.BasePolicy | base_class.BaseAlgorithm | RewardNet
"""What can be exported: a policy, an SB3 algorithm (its policy) or a reward net."""


class ExportError(RuntimeError):
    """A model cannot be exported; the message names the part at fault and a fix."""


class ExportMismatchError(ExportError):
    """An exported model's outputs differ from PyTorch's beyond the tolerance."""


def _space_parts(prefix: str, space: gym.Space) -> list[tuple[str, gym.Space]]:
    """``(input name, space)`` per input: one, or one per key of a Dict space."""
    if isinstance(space, gym.spaces.Dict):
        for key, sub in space.spaces.items():
            if isinstance(sub, gym.spaces.Dict | gym.spaces.Tuple):
                raise ExportError(
                    f"The {prefix} space's key {key!r} is {sub}: nested Dict and "
                    "Tuple spaces cannot be exported; flatten them into one Dict.",
                )
        return [(f"{prefix}.{key}", space[key]) for key in sorted(space.spaces)]
    if isinstance(space, gym.spaces.Tuple):
        raise ExportError(
            f"Tuple {prefix} spaces cannot be exported ({space}); use a Dict space.",
        )
    return [(prefix, space)]


_DONE_SPACE = gym.spaces.Box(0, 1, (), np.bool_)  # type: ignore[arg-type]
"""The ``done`` input of reward nets: one bool per transition."""


def _join(space: gym.Space, parts: Sequence[th.Tensor]) -> Any:
    """The inputs for one space: a tensor, or a dict of them for a Dict space."""
    if isinstance(space, gym.spaces.Dict):
        return dict(zip(sorted(space.spaces), parts, strict=True))
    return parts[0]


class PolicyActionModule(nn.Module):
    """A policy's deterministic action for raw observation tensors.

    Equal to ``policy.predict(obs, deterministic=True)[0]`` (tested), as a
    module of tensors only, ready for tracing and export.
    """

    low: th.Tensor
    high: th.Tensor

    def __init__(self, policy: policies.BasePolicy) -> None:
        """Wrap ``policy`` (not a copy; call the module in evaluation mode).

        Raises:
            ExportError: For a hard-coded policy (no network) or an action
                space other than Box, Discrete, MultiDiscrete or MultiBinary.
        """
        super().__init__()
        if isinstance(policy, HardCodedPolicy):
            raise ExportError(
                f"{type(policy).__name__} chooses actions in Python code, not with "
                "a network, so it has no graph to export.",
            )
        self.policy = policy
        self.parts = _space_parts("obs", policy.observation_space)
        space = policy.action_space
        if not isinstance(
            space,
            gym.spaces.Box
            | gym.spaces.Discrete
            | gym.spaces.MultiDiscrete
            | gym.spaces.MultiBinary,
        ):
            raise ExportError(
                f"The action space {space} cannot be exported: use Box, Discrete, "
                "MultiDiscrete or MultiBinary.",
            )
        self.action_shape = tuple(space.shape or ())
        self.is_box = isinstance(space, gym.spaces.Box)
        self.squash = bool(getattr(policy, "squash_output", False))
        if isinstance(space, gym.spaces.Box):
            self.register_buffer("low", th.as_tensor(space.low, dtype=th.float32))
            self.register_buffer("high", th.as_tensor(space.high, dtype=th.float32))

    def forward(self, *obs: th.Tensor) -> th.Tensor:
        """Actions, shape ``(batch,) + action_shape``."""
        actions = sb3_compat.predict_actions(
            self.policy, _join(self.policy.observation_space, obs), deterministic=True
        )
        actions = actions.reshape((-1, *self.action_shape))
        if not self.is_box:
            return actions.to(th.int64)
        if self.squash:
            return self.low + 0.5 * (actions + 1.0) * (self.high - self.low)
        return th.maximum(th.minimum(actions, self.high), self.low)


def _check_raw_forward(net: RewardNet) -> None:
    if type(net)._forward_raw is not RewardNet._forward_raw:
        raise ExportError(
            f"{type(net).__name__} computes rewards from raw inputs outside "
            "forward (it overrides _forward_raw), which cannot be exported.",
        )


_RewardFn = Callable[[Any, th.Tensor, Any, th.Tensor], th.Tensor]


def _reward_fn(net: RewardNet, processed: bool) -> _RewardFn:
    """The reward of ``net`` on preprocessed tensors, as ``predict*`` computes it.

    ``processed`` follows ``predict_processed`` (without updating statistics),
    otherwise ``predict``.
    """
    if isinstance(net, NormalizedRewardNet):
        inner = _reward_fn(net.base, processed)
        if not processed:
            return inner
        layer = net.normalize_output_layer
        return lambda *x: layer(inner(*x).reshape(-1, 1)).reshape(-1)
    if isinstance(net, AddSTDRewardWrapper):
        if not processed:
            return _reward_fn(net.base, False)
        ensemble = net.base
        if not isinstance(ensemble, RewardEnsemble):
            raise ExportError(
                f"AddSTDRewardWrapper over {type(ensemble).__name__} cannot be "
                "exported: only RewardEnsemble's variance is known. Export with "
                "processed=False, or export its members.",
            )
        members = [_reward_fn(m, True) for m in ensemble.members]  # type: ignore[arg-type]
        alpha = float(net.default_alpha)

        def mean_plus_std(*x: Any) -> th.Tensor:
            rews = th.stack([f(*x) for f in members], dim=-1)
            return rews.mean(-1) + alpha * rews.var(-1, unbiased=True).sqrt()

        return mean_plus_std
    if isinstance(net, PredictProcessedWrapper):
        if processed:
            raise ExportError(
                f"{type(net).__name__}.predict_processed is Python code that "
                "cannot be exported. Export with processed=False (the wrapped "
                "net's reward), or export the wrapped net.",
            )
        return _reward_fn(net.base, False)
    if isinstance(net, RewardEnsemble):
        members = [_reward_fn(m, processed) for m in net.members]  # type: ignore[arg-type]
        return lambda *x: th.stack([f(*x) for f in members], dim=-1).mean(-1)
    _check_raw_forward(net)
    return net


class RewardModule(nn.Module):
    """A reward net's reward for raw ``(state, action, next_state, done)`` tensors.

    Preprocesses as :meth:`RewardNet.preprocess` does, then computes the
    reward as ``predict`` (``processed=False``) or ``predict_processed``
    without updating statistics (``processed=True``) would (tested).
    """

    def __init__(self, net: RewardNet, processed: bool = True) -> None:
        """Wrap ``net`` (not a copy; call the module in evaluation mode).

        Raises:
            ExportError: If part of the computation cannot be expressed as a
                graph (see the message).
        """
        super().__init__()
        self.net = net
        self._reward: _RewardFn
        # Not a submodule of its own (it may be ``net`` itself).
        object.__setattr__(self, "_reward", _reward_fn(net, processed))
        self.obs_parts = _space_parts("state", net.observation_space)
        self.act_parts = _space_parts("action", net.action_space)
        if len(self.act_parts) != 1:
            raise ExportError("Dict action spaces cannot be exported.")

    @property
    def parts(self) -> list[tuple[str, gym.Space]]:
        """``(input name, space)`` for every input, in order."""
        next_parts = [("next_" + name, space) for name, space in self.obs_parts]
        return [
            *self.obs_parts,
            *self.act_parts,
            *next_parts,
            ("done", _DONE_SPACE),
        ]

    def _preprocess(self, space: gym.Space, x: Any) -> Any:
        return preprocessing.preprocess_obs(
            x, space, normalize_images=self.net.normalize_images
        )

    def forward(self, *inputs: th.Tensor) -> th.Tensor:
        """Rewards, shape ``(batch,)``."""
        n_obs = len(self.obs_parts)
        obs_space = self.net.observation_space
        state = _join(obs_space, inputs[:n_obs])
        action = inputs[n_obs]
        next_state = _join(obs_space, inputs[n_obs + 1 : 2 * n_obs + 1])
        done = inputs[-1]
        return self._reward(
            self._preprocess(obs_space, state),
            self._preprocess(self.net.action_space, action),
            self._preprocess(obs_space, next_state),
            done.to(th.float32),
        )


def unwrap(model: Exportable) -> policies.BasePolicy | RewardNet:
    """The policy or reward net to export (an algorithm's policy).

    Raises:
        TypeError: If ``model`` is neither a policy, an algorithm nor a reward net.
    """
    if isinstance(model, base_class.BaseAlgorithm):
        return model.policy
    if isinstance(model, policies.BasePolicy | RewardNet):
        return model
    raise TypeError(
        f"Cannot export a {type(model).__name__}: pass an SB3 policy or algorithm, "
        "or a RewardNet.",
    )


def as_module(
    model: Exportable, processed: bool = True
) -> PolicyActionModule | RewardModule:
    """``model`` as a module of raw input tensors (sharing its parameters).

    The module is not a copy (SB3 policies keep the last action distribution,
    which cannot be deep-copied after training): use it in evaluation mode,
    e.g. inside ``networks.evaluating(module)``, as the functions here do.

    Args:
        model: A policy, an SB3 algorithm (its policy) or a reward net.
        processed: For reward nets: the processed reward (as
            ``predict_processed``) or the plain one (as ``predict``).

    Returns:
        A :class:`PolicyActionModule` or :class:`RewardModule`.

    Raises:
        ExportError: If the model cannot be expressed as a graph.
        TypeError: If ``model`` is neither a policy nor a reward net.
    """
    target = unwrap(model)
    if isinstance(target, RewardNet):
        return RewardModule(target, processed)
    return PolicyActionModule(target)


def input_names(module: PolicyActionModule | RewardModule) -> list[str]:
    """The exported graph's input names, in order."""
    return [name for name, _ in module.parts]


def _sample(space: gym.Space, n: int, rng: np.random.Generator) -> np.ndarray:
    if space is _DONE_SPACE:
        return rng.integers(0, 2, size=n).astype(bool)
    if isinstance(space, gym.spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -3.0)
        high = np.where(np.isfinite(space.high), space.high, 3.0)
        if space.dtype.kind in "iu":
            return rng.integers(
                low, high, size=(n, *space.shape), endpoint=True
            ).astype(space.dtype)
        return rng.uniform(low, high, size=(n, *space.shape)).astype(space.dtype)
    if isinstance(space, gym.spaces.Discrete):
        return rng.integers(space.start, space.start + space.n, size=n).astype(np.int64)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return rng.integers(0, space.nvec, size=(n, *space.nvec.shape)).astype(np.int64)
    if isinstance(space, gym.spaces.MultiBinary):
        return rng.integers(0, 2, size=(n, *space.shape)).astype(space.dtype)
    raise ExportError(f"Cannot make inputs for the space {space}.")


def random_inputs(
    module: PolicyActionModule | RewardModule, n: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random raw inputs for ``module`` (a batch of ``n``), by input name.

    Box values are uniform within the bounds (within +-3 where unbounded).
    """
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, space in module.parts:
        inputs[name] = _sample(space, n, rng)
    return inputs


def _device(module: nn.Module) -> th.device:
    first = next(iter(module.parameters()), None)
    return first.device if first is not None else th.device("cpu")


def as_tensors(
    module: nn.Module, inputs: dict[str, np.ndarray]
) -> tuple[th.Tensor, ...]:
    """``inputs`` as tensors on ``module``'s device, in order."""
    device = _device(module)
    return tuple(th.as_tensor(v, device=device) for v in inputs.values())


def example_args(module: PolicyActionModule | RewardModule) -> tuple[th.Tensor, ...]:
    """A small batch of inputs to trace ``module`` with (batch 3: not specialised)."""
    return as_tensors(module, random_inputs(module, 3, seed=1))
