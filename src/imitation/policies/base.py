"""Policies used across the library: small feed-forward nets and hard-coded ones."""

from __future__ import annotations

import abc
import copy
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import policies, torch_layers
from stable_baselines3.sac import policies as sac_policies
from torch import nn

from imitation.data import types
from imitation.util import class_registry, networks, sb3_compat
from imitation.util.class_registry import Use

# Saved policies and checkpoints name the policy classes below; a saved value
# potential's arguments name the actor-critic ones and their extractor, and
# building those is harmless.
_SAVED = Use.RESTORE | Use.ARGUMENT


class HardCodedPolicy(policies.BasePolicy, abc.ABC):
    """A policy whose actions come from code rather than a trained network.

    Subclasses implement :meth:`_choose_actions` on a numpy batch; the class
    makes it usable wherever SB3 expects a policy (``predict``,
    ``evaluate_policy``, the rollout functions).
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        """Build the policy for the given spaces."""
        super().__init__(observation_space=observation_space, action_space=action_space)

    @abc.abstractmethod
    def _choose_actions(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """Actions for a batch of observations, shape ``(n,) + action_shape``."""

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        if isinstance(observation, dict):
            obs_np: Any = {k: v.cpu().numpy() for k, v in observation.items()}
        else:
            obs_np = observation.cpu().numpy()
        return th.as_tensor(self._choose_actions(obs_np), device=self.device)

    def forward(self, *args: Any) -> th.Tensor:
        """Hard-coded policies have no differentiable forward pass."""
        raise TypeError(f"{type(self).__name__} has no differentiable forward pass.")

    @property
    def device(self) -> th.device:
        """Hard-coded policies live on the CPU."""
        return th.device("cpu")


class NormalizedObsPolicy(policies.BasePolicy):
    """A policy trained behind SB3's ``VecNormalize``, acting on raw observations.

    Observations are normalised with the saved statistics exactly as
    ``VecNormalize.normalize_obs`` does (then clipped), and passed to the
    wrapped policy. Loaders apply this to experts saved with VecNormalize
    statistics (see :func:`imitation.policies.serialize.load_policy`).
    """

    def __init__(self, policy: policies.BasePolicy, stats: Any) -> None:
        """Wrap ``policy``.

        Args:
            policy: The policy, as trained on normalised observations.
            stats: A ``VecNormalize`` holding the observation statistics (its
                environment is not used).
        """
        super().__init__(policy.observation_space, policy.action_space)
        self.policy = policy
        self.stats = stats

    def predict(
        self,
        observation: Any,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """The wrapped policy's ``predict`` on normalised observations."""
        normalized = self.stats.normalize_obs(observation)
        return self.policy.predict(normalized, state, episode_start, deterministic)

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        return sb3_compat.predict_actions(
            self.policy, self._normalize(observation), deterministic
        )

    def forward(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        """Actions for a batch of raw observations (tensors)."""
        return self._predict(observation, deterministic)

    def _normalize(self, observation: Any) -> Any:
        if not self.stats.norm_obs:
            return observation
        if isinstance(observation, dict):
            keys = self.stats.norm_obs_keys
            return {
                k: self._normalize_one(v, self.stats.obs_rms[k]) if k in keys else v
                for k, v in observation.items()
            }
        return self._normalize_one(observation, self.stats.obs_rms)

    def _normalize_one(self, obs: th.Tensor, rms: Any) -> th.Tensor:
        mean = th.as_tensor(rms.mean, dtype=th.float64, device=obs.device)
        var = th.as_tensor(rms.var, dtype=th.float64, device=obs.device)
        scaled = (obs.double() - mean) / th.sqrt(var + self.stats.epsilon)
        clip = self.stats.clip_obs
        return scaled.clamp(-clip, clip).to(th.float32)

    @property
    def device(self) -> th.device:
        """The wrapped policy's device."""
        return self.policy.device


def _batch_size(obs: np.ndarray | dict[str, np.ndarray]) -> int:
    if isinstance(obs, dict):
        return len(next(iter(obs.values())))
    return len(obs)


class NonTrainablePolicy(HardCodedPolicy, abc.ABC):
    """A hard-coded policy that chooses the action for one observation at a time.

    Subclasses implement :meth:`_choose_action` for a single observation
    (without batch axis); batches are handled one observation after another.
    Subclasses that can act on a whole batch at once may also override
    :meth:`_choose_actions`.
    """

    @abc.abstractmethod
    def _choose_action(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """The action for one observation (a dict of arrays for dict spaces)."""

    def _choose_actions(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """Stack :meth:`_choose_action` of each observation of the batch."""
        return np.stack(
            [
                np.asarray(self._choose_action(types.index_maybe_dict(obs, i)))
                for i in range(_batch_size(obs))
            ]
        )


class RandomPolicy(NonTrainablePolicy):
    """Samples actions uniformly from the action space."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Build the policy.

        Args:
            observation_space: Observation space.
            action_space: Action space to sample from.
            rng: Seeds this policy's own copy of the action space, so sampling is
                reproducible and does not disturb the env's space.
        """
        super().__init__(observation_space, action_space)
        self._space = copy.deepcopy(action_space)
        if rng is not None:
            self._space.seed(int(rng.integers(0, 2**31 - 1)))

    def _choose_action(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._space.sample())


class ZeroPolicy(NonTrainablePolicy):
    """Always takes the all-zeros action."""

    def _zeros(self, n: int) -> np.ndarray:
        shape = self.action_space.shape or ()
        dtype = self.action_space.dtype or np.float32
        return np.zeros((n, *shape), dtype=dtype)

    def _choose_action(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        return self._zeros(1)[0]

    def _choose_actions(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        return self._zeros(_batch_size(obs))


@class_registry.register(_SAVED)
class FeedForward32Policy(policies.ActorCriticPolicy):
    """An actor-critic policy with two hidden layers of 32 units for both heads.

    On a ``Dict`` observation space the features extractor defaults to SB3's
    ``CombinedExtractor`` (each key flattened, then concatenated), as in
    :class:`MultiInputFeedForward32Policy`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the policy (``net_arch`` defaults to ``[32, 32]``).

        A saved policy records ``net_arch`` among its constructor arguments, so
        it is accepted here too; SB3 passes it back when loading.
        """
        kwargs.setdefault("net_arch", [32, 32])
        observation_space = args[0] if args else kwargs.get("observation_space")
        if isinstance(observation_space, gym.spaces.Dict):
            kwargs.setdefault(
                "features_extractor_class", torch_layers.CombinedExtractor
            )
        super().__init__(*args, **kwargs)


@class_registry.register(_SAVED)
class MultiInputFeedForward32Policy(policies.MultiInputActorCriticPolicy):
    """:class:`FeedForward32Policy` for ``Dict`` observation spaces.

    Each key's observation is flattened by SB3's ``CombinedExtractor`` (the
    extractor of ``MultiInputActorCriticPolicy``) and the features are
    concatenated; two hidden layers of 32 units follow, as in
    :class:`FeedForward32Policy`. BC uses it by default when the observation
    space is a ``Dict`` (see :func:`feed_forward_32_policy_class`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the policy (``net_arch`` defaults to ``[32, 32]``).

        A saved policy records ``net_arch`` among its constructor arguments, so
        it is accepted here too; SB3 passes it back when loading.
        """
        kwargs.setdefault("net_arch", [32, 32])
        super().__init__(*args, **kwargs)


def feed_forward_32_policy_class(
    observation_space: gym.Space,
) -> type[policies.ActorCriticPolicy]:
    """The 32x32 feed-forward policy class suited to ``observation_space``.

    Args:
        observation_space: The environment's observation space.

    Returns:
        :class:`MultiInputFeedForward32Policy` for a ``Dict`` space,
        :class:`FeedForward32Policy` otherwise.
    """
    if isinstance(observation_space, gym.spaces.Dict):
        return MultiInputFeedForward32Policy
    return FeedForward32Policy


@class_registry.register(Use.RESTORE)
class SAC1024Policy(sac_policies.SACPolicy):
    """A SAC policy with two hidden layers of 1024 units for actor and critics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build the policy (``net_arch`` defaults to ``[1024, 1024]``)."""
        kwargs.setdefault("net_arch", [1024, 1024])
        super().__init__(*args, **kwargs)


@class_registry.register(_SAVED)
class NormalizeFeaturesExtractor(torch_layers.FlattenExtractor):
    """Flatten the observation, then normalise it with a running-statistics layer.

    Use as ``policy_kwargs=dict(features_extractor_class=NormalizeFeaturesExtractor,
    features_extractor_kwargs=dict(normalize_class=RunningNorm))``. The
    statistics update in training mode only, and are saved with the policy, so
    a saved policy carries its own normalisation.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        normalize_class: type[nn.Module] = networks.RunningNorm,
    ) -> None:
        """Build the extractor.

        Args:
            observation_space: The (flattenable) observation space.
            normalize_class: Normalisation layer constructed with the flattened
                feature size, e.g. ``RunningNorm`` or ``EMANorm``.
        """
        super().__init__(observation_space)
        self.normalize = normalize_class(self.features_dim)  # type: ignore[call-arg]

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """Flatten and normalise ``observations``."""
        return self.normalize(super().forward(observations))
