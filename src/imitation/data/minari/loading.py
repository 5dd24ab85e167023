"""Reading Minari datasets as trajectories."""

from __future__ import annotations

import hashlib
import pathlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import gymnasium as gym
import minari
import numpy as np

from imitation.data import serialize, types
from imitation.data.minari import readers
from imitation.data.minari.common import (
    EPISODE_FIELDS,
    MinariFormatError,
    MinariSpaceMismatchError,
    check_dataset_id,
    check_space,
    dataset_path,
    env_spaces,
)
from imitation.util import util


def _open_dataset(dataset_id: str) -> minari.MinariDataset:
    check_dataset_id(dataset_id)
    try:
        return minari.load_dataset(dataset_id)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"No local Minari dataset {dataset_id!r} at {dataset_path(dataset_id)}. "
            "Set MINARI_DATASETS_PATH to the directory that holds it, or fetch it "
            f"first with `minari download {dataset_id}`.",
        ) from exc
    except (KeyError, ValueError, AssertionError, OSError, TypeError) as exc:
        raise MinariFormatError(
            f"Minari dataset {dataset_id!r} at {dataset_path(dataset_id)} has "
            f"missing or invalid metadata ({type(exc).__name__}: {exc}). A dataset "
            "needs data/metadata.json with dataset_id, minari_version, data_format, "
            "observation_space and action_space; recreate it with "
            "save_trajectories or minari.create_dataset_from_buffers.",
        ) from exc


def _check_spaces_match(
    dataset_id: str,
    dataset: minari.MinariDataset,
    observation_space: gym.Space | None,
    action_space: gym.Space | None,
) -> None:
    problems = []
    for what, expected, got in (
        ("observation", observation_space, dataset.observation_space),
        ("action", action_space, dataset.action_space),
    ):
        if expected is not None and expected != got:
            problems.append(f"its {what} space is {got}, the environment's {expected}")
    if problems:
        raise MinariSpaceMismatchError(
            f"Minari dataset {dataset_id!r} does not fit the environment: "
            f"{'; '.join(problems)}. Use the environment the dataset was recorded "
            "on (dataset.recover_environment() or its env_spec).",
        )


def _as_observation(
    value: Any, dataset_id: str, episode: int
) -> np.ndarray | types.DictObs:
    if isinstance(value, Mapping):
        nested = [k for k, v in value.items() if isinstance(v, Mapping | tuple)]
        if nested:
            raise MinariFormatError(
                f"Minari dataset {dataset_id!r}, episode {episode}: observation "
                f"keys {nested} hold nested dicts or tuples, which trajectories "
                "do not support (flatten them into a single Dict space).",
            )
        try:
            return types.DictObs({k: np.asarray(v) for k, v in value.items()})
        except ValueError as exc:
            raise MinariFormatError(
                f"Minari dataset {dataset_id!r}, episode {episode}: invalid dict "
                f"observations: {exc}",
            ) from exc
    if isinstance(value, tuple):
        raise MinariFormatError(
            f"Minari dataset {dataset_id!r}, episode {episode}: tuple "
            "observations are not supported; use a Dict space.",
        )
    return np.asarray(value)


def _step_infos(infos: Mapping[str, Any], n: int) -> list[dict[str, Any]]:
    """Minari's per-key info arrays as one dict per step (the reset info dropped).

    Minari stores ``n + 1`` infos (the reset info first) or, for some
    writers, ``n``; step ``i``'s info is the one ``env.step`` returned.
    """

    def pick(value: Any, i: int) -> Any:
        if isinstance(value, Mapping):
            return {k: pick(v, i) for k, v in value.items()}
        return value[i]

    def length(value: Any) -> int:
        if isinstance(value, Mapping):
            return min((length(v) for v in value.values()), default=n + 1)
        return len(value)

    offset = 1 if length(infos) > n else 0
    return [{k: pick(v, i + offset) for k, v in infos.items()} for i in range(n)]


def _episode_to_trajectory(
    episode: Any, dataset_id: str, with_infos: bool
) -> types.TrajectoryWithRew:
    where = f"Minari dataset {dataset_id!r}, episode {episode.id}"
    obs = _as_observation(episode.observations, dataset_id, episode.id)
    if isinstance(episode.actions, Mapping | tuple):
        raise MinariFormatError(
            f"{where}: dict or tuple actions are not supported by trajectories.",
        )
    acts = np.asarray(episode.actions)
    rews = np.asarray(episode.rewards)
    terms = np.asarray(episode.terminations, dtype=bool)
    truncs = np.asarray(episode.truncations, dtype=bool)
    n = len(acts)
    if n == 0:
        raise MinariFormatError(f"{where} has no steps (no actions).")
    if not len(obs) == n + 1 == len(rews) + 1 == len(terms) + 1 == len(truncs) + 1:
        lengths = {
            "observations": (len(obs), n + 1),
            "rewards": (len(rews), n),
            "terminations": (len(terms), n),
            "truncations": (len(truncs), n),
        }
        wrong = [f"{k}: {got}" for k, (got, want) in lengths.items() if got != want]
        raise MinariFormatError(
            f"{where}: lengths do not fit {n} actions ({', '.join(wrong)}; "
            f"expected {n + 1} observations and {n} of the others).",
        )
    if terms[:-1].any() or truncs[:-1].any():
        early = int(np.flatnonzero(terms[:-1] | truncs[:-1])[0])
        raise MinariFormatError(
            f"{where}: the episode ends (terminated or truncated) at step "
            f"{early}, before its last step {n - 1}; each Minari episode "
            "must end only at its last step.",
        )
    if rews.dtype.kind in "biu":
        rews = rews.astype(np.float64)  # Exact for the integer rewards envs give.
    infos = None
    if with_infos and episode.infos:
        infos = np.empty(n, dtype=object)
        infos[:] = _step_infos(episode.infos, n)
    try:
        return types.TrajectoryWithRew(
            obs=obs,
            acts=acts,
            infos=infos,
            terminal=bool(terms[-1]),
            rews=rews,
        )
    except ValueError as exc:
        raise MinariFormatError(f"{where} is not a valid trajectory: {exc}") from exc


def load_trajectories(
    dataset_id: str,
    *,
    env: Any = None,
    observation_space: gym.Space | None = None,
    action_space: gym.Space | None = None,
    n_episodes: int | None = None,
    with_infos: bool = False,
    cache_dir: types.AnyPath | None = None,
) -> Sequence[types.TrajectoryWithRew]:
    """Load a local Minari dataset as trajectories with rewards.

    Without infos, HDF5 and Arrow datasets are read straight from their files
    (with h5py's low-level API or pyarrow; other formats and infos through
    Minari's reader), giving the same arrays. Minari's HDF5 storage keeps
    each episode's arrays as separate objects, so reading a dataset of many
    short episodes is still dominated by HDF5's per-object cost (see
    ``benchmarks/bench_minari.py``). With ``cache_dir``, the
    first load also saves the trajectories there with
    :func:`imitation.data.serialize.save`, and later loads of the unchanged
    dataset read that copy instead, as fast as :func:`serialize.load`. The
    cache entry is keyed on the dataset's metadata and data files' sizes and
    modification times, so a changed dataset is read afresh.

    Args:
        dataset_id: The dataset id, e.g. ``"cartpole/expert-v0"``, looked up
            under ``MINARI_DATASETS_PATH``.
        env: A ``gym.Env``, ``VecEnv`` or Gymnasium env id whose spaces the
            dataset's must equal (checked before any episode is read).
        observation_space: Check the dataset's observation space against
            this one instead (or as well).
        action_space: Check the dataset's action space against this one.
        n_episodes: Load only the first ``n_episodes`` episodes.
        with_infos: Also load each step's info dict (the reset info is
            dropped, as trajectories have one info per action). Not cached.
        cache_dir: A directory for a fast copy of the trajectories (see
            above); None (default) reads the dataset every time.

    Returns:
        One trajectory per episode, in dataset order (a lazy sequence when
        read from the cache). ``terminal`` is the last
        step's termination flag: a truncated episode is not terminal.

    Raises:
        FileNotFoundError: If there is no such local dataset.
        ValueError: If ``dataset_id`` is malformed or ``n_episodes`` exceeds
            the dataset's episodes.
        MinariSpaceMismatchError: If the dataset's spaces differ from the
            environment's, or are not supported by trajectories.
        MinariFormatError: If the metadata or an episode's fields are missing
            or do not fit together.
    """
    dataset = _open_dataset(dataset_id)
    if env is not None:
        env_obs, env_act, _ = env_spaces(env)
        _check_spaces_match(dataset_id, dataset, env_obs, env_act)
    _check_spaces_match(dataset_id, dataset, observation_space, action_space)
    check_space(dataset.observation_space, "observation", allow_dict=True)
    check_space(dataset.action_space, "action", allow_dict=False)
    indices = dataset.episode_indices
    if n_episodes is not None and not 0 < n_episodes <= len(indices):
        raise ValueError(
            f"n_episodes={n_episodes}, but Minari dataset {dataset_id!r} has "
            f"{len(indices)} episodes.",
        )
    cache = None
    if cache_dir is not None and not with_infos:
        cache = _cache_path(dataset, dataset_id, cache_dir)
        if cache.exists():
            cached = serialize.load_with_rewards(cache)
            return cached if n_episodes is None else cached[:n_episodes]
    if cache is None:
        return _read_episodes(dataset, dataset_id, indices[:n_episodes], with_infos)
    trajs = _read_episodes(dataset, dataset_id, indices, with_infos)
    serialize.save(cache, trajs)
    return trajs if n_episodes is None else trajs[:n_episodes]


def _cache_path(
    dataset: minari.MinariDataset, dataset_id: str, cache_dir: types.AnyPath
) -> pathlib.Path:
    """Where the cached copy of ``dataset`` in its current state lives."""
    digest = hashlib.sha256(dataset_id.encode())
    data_path = pathlib.Path(dataset.storage.data_path)
    for file in sorted(p for p in data_path.rglob("*") if p.is_file()):
        stat = file.stat()
        rel = file.relative_to(data_path)
        digest.update(f"{rel}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    name = re.sub(r"[^-_.\w]", "_", dataset_id)
    return util.parse_path(cache_dir) / f"{name}-{digest.hexdigest()[:16]}"


def _read_episodes(
    dataset: minari.MinariDataset,
    dataset_id: str,
    indices: np.ndarray,
    with_infos: bool,
) -> list[types.TrajectoryWithRew]:
    """Read the episodes ``indices`` of ``dataset`` as trajectories."""
    trajs: list[types.TrajectoryWithRew] = []
    episodes: Iterator[Any] | None = None
    if not with_infos:
        episodes = readers.read_directly(dataset, dataset_id, indices)
    if episodes is None:
        episodes = dataset.iterate_episodes(indices)
    while True:
        try:
            episode = next(episodes)
        except StopIteration:
            break
        except MinariFormatError:
            raise  # Already names the episode and field.
        except (KeyError, ValueError, AssertionError, OSError) as exc:
            current = int(indices[len(trajs)])
            raise MinariFormatError(
                f"Minari dataset {dataset_id!r}, episode {current} cannot be read "
                f"({type(exc).__name__}: {exc}). Every episode needs "
                f"{list(EPISODE_FIELDS)}; "
                "recreate the dataset with save_trajectories or "
                "minari.create_dataset_from_buffers.",
            ) from exc
        trajs.append(_episode_to_trajectory(episode, dataset_id, with_infos))
    return trajs
