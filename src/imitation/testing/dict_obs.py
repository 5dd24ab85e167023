"""Dict-observation versions of flat experts and demonstrations, for tests.

:class:`imitation.testing.envs.DictObsWrapper` splits a flat observation (e.g.
CartPole's) into a ``Dict`` of Boxes. The bundled experts act on the flat
observation, so to train on the dict env:

* :func:`dict_trajectories_from_flat` converts expert trajectories recorded
  on the flat env into the dict env's form (for BC, GAIL, AIRL, ...);
* :class:`FlatPolicyOnDictObs` lets a flat expert act on dict observations
  (for DAgger's expert, or to evaluate the expert on the dict env).

Both use the same ``keys`` mapping as the wrapper (default: CartPole's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import policies

from imitation.data import types
from imitation.policies import base
from imitation.testing.envs import DICT_CARTPOLE_KEYS, dict_obs_from_flat

TrajectoryT = TypeVar("TrajectoryT", bound=types.Trajectory)


def _checked_keys(
    keys: Mapping[str, tuple[int, ...]] | None,
) -> tuple[dict[str, tuple[int, ...]], int]:
    """``keys`` (default: CartPole's) and the flat size, checked to be a partition.

    Raises:
        ValueError: If the indices do not cover ``0 .. size - 1`` exactly once.
    """
    keys = dict(DICT_CARTPOLE_KEYS if keys is None else keys)
    indices = sorted(i for idx in keys.values() for i in idx)
    if indices != list(range(len(indices))):
        raise ValueError(
            f"keys {keys} must use each index of the flat observation exactly "
            "once, from 0 up.",
        )
    return keys, len(indices)


def flat_obs_from_dict(
    obs: Mapping[str, np.ndarray],
    keys: Mapping[str, tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Join dict observations back into flat ones (inverse of ``dict_obs_from_flat``).

    Args:
        obs: Arrays by key, each with the key's entries on its last axis (any
            leading axes, shared by all keys).
        keys: Which flat indices each key holds (default: CartPole's, as in
            :class:`~imitation.testing.envs.DictObsWrapper`).

    Returns:
        The flat observations, float32, shape ``leading_axes + (size,)``.

    Raises:
        ValueError: If ``obs`` lacks a key of ``keys``, or ``keys`` does not
            use every flat index exactly once.
    """
    keys, size = _checked_keys(keys)
    missing = [k for k in keys if k not in obs]
    if missing:
        raise ValueError(f"The dict observations lack the key(s) {missing}.")
    first = np.asarray(obs[next(iter(keys))])
    flat = np.empty(first.shape[:-1] + (size,), dtype=np.float32)
    for key, idx in keys.items():
        flat[..., list(idx)] = obs[key]
    return flat


def dict_trajectories_from_flat(
    trajectories: Iterable[TrajectoryT],
    keys: Mapping[str, tuple[int, ...]] | None = None,
) -> list[TrajectoryT]:
    """Trajectories recorded on the flat env, as the dict env would record them.

    Args:
        trajectories: Trajectories with flat array observations.
        keys: Which flat indices each key holds (default: CartPole's).

    Returns:
        The same trajectories (actions, rewards, infos, ...) with each
        ``obs`` a :class:`~imitation.data.types.DictObs`.

    Raises:
        TypeError: If a trajectory already has dict observations.
    """
    keys, _ = _checked_keys(keys)
    converted = []
    for traj in trajectories:
        if isinstance(traj.obs, types.DictObs):
            raise TypeError("The trajectories already have dict observations.")
        obs = types.DictObs(dict_obs_from_flat(np.asarray(traj.obs), keys))
        converted.append(dataclasses.replace(traj, obs=obs))
    return converted


class FlatPolicyOnDictObs(base.HardCodedPolicy):
    """A policy for flat observations, acting on the dict env's observations.

    Each batch of dict observations is joined back into flat observations with
    :func:`flat_obs_from_dict` and passed to the wrapped policy's ``predict``.
    """

    def __init__(
        self,
        flat_policy: policies.BasePolicy,
        observation_space: gym.spaces.Dict,
        keys: Mapping[str, tuple[int, ...]] | None = None,
    ) -> None:
        """Wrap ``flat_policy``.

        Args:
            flat_policy: The policy acting on flat observations, e.g. a
                bundled expert loaded on the flat env.
            observation_space: The dict env's observation space.
            keys: Which flat indices each key holds (default: CartPole's).

        Raises:
            ValueError: If ``observation_space``'s keys differ from ``keys``'s.
        """
        super().__init__(observation_space, flat_policy.action_space)
        self.keys, _ = _checked_keys(keys)
        if set(observation_space.spaces) != set(self.keys):
            raise ValueError(
                f"observation_space has the keys {list(observation_space.spaces)} "
                f"but keys has {list(self.keys)}.",
            )
        self.flat_policy = flat_policy

    def _choose_actions(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        acts, _ = self.flat_policy.predict(
            flat_obs_from_dict(obs, self.keys), deterministic=deterministic
        )
        return np.asarray(acts)

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        obs_np = {k: v.cpu().numpy() for k, v in observation.items()}
        return th.as_tensor(self._choose_actions(obs_np, deterministic))
