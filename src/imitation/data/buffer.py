"""Fixed-capacity FIFO buffers of samples, with uniform sampling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import types


class Buffer:
    """A ring buffer of named arrays; the oldest samples are overwritten first.

    Each key holds samples of a fixed shape and dtype. ``store`` writes a whole
    batch with at most two slice assignments (one at the wrap-around).
    """

    def __init__(
        self,
        capacity: int,
        sample_shapes: Mapping[str, tuple[int, ...]],
        dtypes: Mapping[str, Any],
        rng: np.random.Generator | None = None,
    ) -> None:
        """Make an empty buffer.

        Args:
            capacity: Maximum number of samples.
            sample_shapes: Shape of one sample, by key.
            dtypes: Dtype of each key's samples.
            rng: Generator for sampling (default: fresh entropy).

        Raises:
            ValueError: If ``capacity`` is not positive or the keys differ.
        """
        if capacity <= 0:
            raise ValueError(f"capacity={capacity} must be positive.")
        if set(sample_shapes) != set(dtypes):
            raise ValueError(
                f"sample_shapes keys {sorted(sample_shapes)} differ from dtypes "
                f"keys {sorted(dtypes)}.",
            )
        self.capacity = capacity
        self.sample_shapes = {k: tuple(v) for k, v in sample_shapes.items()}
        self._arrays = {
            k: np.zeros((capacity, *shape), dtype=dtypes[k])
            for k, shape in self.sample_shapes.items()
        }
        self._idx = 0
        self._n = 0
        self.rng = rng or np.random.default_rng()

    @classmethod
    def from_data(
        cls,
        data: Mapping[str, np.ndarray],
        capacity: int | None = None,
        truncate_ok: bool = False,
    ) -> Buffer:
        """A buffer holding ``data`` (capacity defaults to its length)."""
        lengths = {len(v) for v in data.values()}
        if len(lengths) != 1:
            raise ValueError("All arrays in data must have the same length.")
        n = lengths.pop()
        buf = cls(
            capacity or n,
            {k: v.shape[1:] for k, v in data.items()},
            {k: v.dtype for k, v in data.items()},
        )
        buf.store(data, truncate_ok=truncate_ok)
        return buf

    def store(self, data: Mapping[str, np.ndarray], truncate_ok: bool = False) -> None:
        """Append a batch of samples, overwriting the oldest when full.

        Args:
            data: One array per key, all of the same length.
            truncate_ok: If the batch is larger than the capacity, keep only its
                last ``capacity`` samples instead of raising.

        Raises:
            ValueError: For wrong keys, shapes, dtypes or unequal lengths, or a
                batch larger than the capacity without ``truncate_ok``.
        """
        if set(data) != set(self._arrays):
            raise ValueError(
                f"Expected keys {sorted(self._arrays)}, got {sorted(data)}.",
            )
        lengths = {k: len(v) for k, v in data.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"Arrays have different lengths: {lengths}.")
        for key, value in data.items():
            if value.shape[1:] != self.sample_shapes[key]:
                raise ValueError(
                    f"{key}: samples have shape {value.shape[1:]}, the buffer holds "
                    f"{self.sample_shapes[key]}.",
                )
            if not np.can_cast(value.dtype, self._arrays[key].dtype, "same_kind"):
                raise ValueError(
                    f"{key}: dtype {value.dtype} cannot be stored as "
                    f"{self._arrays[key].dtype}.",
                )
        n = next(iter(lengths.values()))
        if n > self.capacity:
            if not truncate_ok:
                raise ValueError(
                    f"{n} samples exceed the capacity {self.capacity}; pass "
                    "truncate_ok=True to keep only the newest.",
                )
            data = {k: v[-self.capacity :] for k, v in data.items()}
            n = self.capacity
        first = min(n, self.capacity - self._idx)
        for key, value in data.items():
            arr = self._arrays[key]
            arr[self._idx : self._idx + first] = value[:first]
            arr[: n - first] = value[first:]
        self._idx = (self._idx + n) % self.capacity
        self._n = min(self._n + n, self.capacity)

    def sample(self, n_samples: int) -> dict[str, np.ndarray]:
        """Draw ``n_samples`` uniformly with replacement.

        Raises:
            ValueError: If the buffer is empty.
        """
        if self._n == 0:
            raise ValueError("Cannot sample from an empty buffer.")
        idx = self.rng.integers(0, self._n, size=n_samples)
        return {k: v[idx] for k, v in self._arrays.items()}

    def size(self) -> int:
        """Number of samples stored."""
        return self._n


class ReplayBuffer:
    """A FIFO buffer of transitions (obs, acts, next_obs, dones).

    Dict observations are stored one key per buffer entry (``obs/<key>``,
    ``next_obs/<key>``) and sampled back as ``DictObs``.
    """

    def __init__(
        self,
        capacity: int,
        venv: VecEnv | None = None,
        *,
        obs_space: gym.Space | None = None,
        act_space: gym.Space | None = None,
        obs_shape: tuple[int, ...] | dict[str, tuple[int, ...]] | None = None,
        act_shape: tuple[int, ...] | None = None,
        obs_dtype: Any = None,
        act_dtype: Any = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Make an empty replay buffer.

        Give exactly one of: ``venv``; ``obs_space`` and ``act_space``; or all of
        ``obs_shape``, ``act_shape``, ``obs_dtype`` and ``act_dtype``.

        Raises:
            ValueError: If the spaces or shapes are not given in exactly one way.
        """
        ways = [
            venv is not None,
            obs_space is not None or act_space is not None,
            any(x is not None for x in (obs_shape, act_shape, obs_dtype, act_dtype)),
        ]
        if sum(ways) != 1:
            raise ValueError(
                "Specify the data either with venv, or with obs_space and "
                "act_space, or with obs_shape, act_shape, obs_dtype and act_dtype.",
            )
        if venv is not None:
            obs_space, act_space = venv.observation_space, venv.action_space
        if obs_space is not None or act_space is not None:
            if obs_space is None or act_space is None:
                raise ValueError("Give both obs_space and act_space.")
            obs_shape = (
                {k: s.shape for k, s in obs_space.spaces.items()}  # type: ignore[attr-defined, misc]
                if isinstance(obs_space, gym.spaces.Dict)
                else obs_space.shape
            )
            obs_dtype = (
                {k: s.dtype for k, s in obs_space.spaces.items()}  # type: ignore[attr-defined]
                if isinstance(obs_space, gym.spaces.Dict)
                else obs_space.dtype
            )
            act_shape, act_dtype = act_space.shape, act_space.dtype
        if (
            obs_shape is None
            or act_shape is None
            or obs_dtype is None
            or act_dtype is None
        ):
            raise ValueError(
                "obs_shape, act_shape, obs_dtype and act_dtype are all needed."
            )
        self._dict_keys: list[str] | None = None
        shapes: dict[str, tuple[int, ...]] = {"acts": tuple(act_shape), "dones": ()}
        dtypes: dict[str, Any] = {"acts": act_dtype, "dones": bool}
        if isinstance(obs_shape, Mapping):
            self._dict_keys = list(obs_shape)
            for prefix in ("obs", "next_obs"):
                for k in self._dict_keys:
                    shapes[f"{prefix}/{k}"] = tuple(obs_shape[k])
                    dtypes[f"{prefix}/{k}"] = obs_dtype[k]
        else:
            for prefix in ("obs", "next_obs"):
                shapes[prefix] = tuple(obs_shape)
                dtypes[prefix] = obs_dtype
        self._buffer = Buffer(capacity, shapes, dtypes, rng=rng)

    @property
    def capacity(self) -> int:
        """Maximum number of transitions."""
        return self._buffer.capacity

    @classmethod
    def from_data(
        cls,
        transitions: types.Transitions,
        rng: np.random.Generator | None = None,
    ) -> ReplayBuffer:
        """A replay buffer holding ``transitions`` (capacity: their number)."""
        obs = transitions.obs
        if isinstance(obs, types.DictObs):
            buf = cls(
                len(transitions),
                obs_shape={k: v.shape[1:] for k, v in obs.items()},
                act_shape=transitions.acts.shape[1:],
                obs_dtype={k: v.dtype for k, v in obs.items()},
                act_dtype=transitions.acts.dtype,
                rng=rng,
            )
        else:
            buf = cls(
                len(transitions),
                obs_shape=obs.shape[1:],
                act_shape=transitions.acts.shape[1:],
                obs_dtype=obs.dtype,
                act_dtype=transitions.acts.dtype,
                rng=rng,
            )
        buf.store(transitions)
        return buf

    def _flatten(self, transitions: types.Transitions) -> dict[str, np.ndarray]:
        data = {"acts": transitions.acts, "dones": transitions.dones}
        for prefix, obs in (
            ("obs", transitions.obs),
            ("next_obs", transitions.next_obs),
        ):
            if self._dict_keys is not None:
                if not isinstance(obs, types.DictObs):
                    raise ValueError(f"{prefix} must be a DictObs for this buffer.")
                data.update({f"{prefix}/{k}": obs.get(k) for k in self._dict_keys})
            else:
                data[prefix] = types.assert_not_dictobs(obs)
        return data

    def store(self, transitions: types.Transitions, truncate_ok: bool = True) -> None:
        """Append transitions, overwriting the oldest when full (``Buffer.store``)."""
        self._buffer.store(self._flatten(transitions), truncate_ok=truncate_ok)

    def sample(self, n_samples: int) -> types.Transitions:
        """Draw ``n_samples`` transitions uniformly with replacement."""
        data = self._buffer.sample(n_samples)
        obs: dict[str, types.Observation] = {}
        for prefix in ("obs", "next_obs"):
            if self._dict_keys is not None:
                obs[prefix] = types.DictObs(
                    {k: data[f"{prefix}/{k}"] for k in self._dict_keys}
                )
            else:
                obs[prefix] = data[prefix]
        return types.Transitions(
            obs=obs["obs"],
            acts=data["acts"],
            infos=np.array([{}] * n_samples),
            next_obs=obs["next_obs"],
            dones=data["dones"],
        )

    def size(self) -> int:
        """Number of transitions stored."""
        return self._buffer.size()
