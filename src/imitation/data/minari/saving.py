"""Writing trajectories as Minari datasets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import minari
import numpy as np
from minari.data_collector.episode_buffer import EpisodeBuffer
from minari.dataset.minari_storage import MinariStorage
from minari.namespace import create_namespace, list_local_namespaces
from minari.storage.datasets_root_dir import get_dataset_path

from imitation.data import types
from imitation.data.minari.common import check_dataset_id, check_space, env_spaces
from imitation.util import util


def _check_fits(
    index: int,
    traj: types.Trajectory,
    observation_space: gym.Space,
    action_space: gym.Space,
) -> None:
    """Raise ``ValueError`` if ``traj``'s arrays do not fit the spaces."""

    def check(what: str, arr: np.ndarray, space: gym.Space) -> None:
        shape = arr.shape[1:]
        if space.shape is not None and shape != tuple(space.shape):
            raise ValueError(
                f"Trajectory {index}: {what} have per-step shape {shape}, but the "
                f"space {space} needs {tuple(space.shape)}.",
            )
        if space.dtype is not None and arr.dtype != space.dtype:
            raise ValueError(
                f"Trajectory {index}: {what} have dtype {arr.dtype}, but the space "
                f"{space} has {space.dtype}; cast them (or pass the spaces the "
                "data was recorded with).",
            )

    if isinstance(observation_space, gym.spaces.Dict):
        if not isinstance(traj.obs, types.DictObs):
            raise ValueError(
                f"Trajectory {index} has array observations, but the observation "
                f"space is a Dict: {observation_space}.",
            )
        if set(traj.obs.keys()) != set(observation_space.spaces):
            raise ValueError(
                f"Trajectory {index} has observation keys {sorted(traj.obs.keys())}, "
                f"the observation space {sorted(observation_space.spaces)}.",
            )
        for key, sub in observation_space.spaces.items():
            check(f"observations[{key!r}]", traj.obs.get(key), sub)
    else:
        if isinstance(traj.obs, types.DictObs):
            raise ValueError(
                f"Trajectory {index} has dict observations, but the observation "
                f"space is {observation_space}.",
            )
        check("observations", traj.obs, observation_space)
    check("actions", traj.acts, action_space)


def _episode_buffer(index: int, traj: types.TrajectoryWithRew) -> EpisodeBuffer:
    n = len(traj)
    terminations = np.zeros(n, dtype=bool)
    truncations = np.zeros(n, dtype=bool)
    (terminations if traj.terminal else truncations)[-1] = True
    obs = traj.obs.unwrap() if isinstance(traj.obs, types.DictObs) else traj.obs
    return EpisodeBuffer(
        id=index,
        observations=obs,
        actions=traj.acts,
        rewards=traj.rews,  # type: ignore[arg-type]
        terminations=terminations,  # type: ignore[arg-type]
        truncations=truncations,  # type: ignore[arg-type]
        infos={},  # Minari readers expect a (here empty) dict of infos.
    )


def save_trajectories(
    dataset_id: str,
    trajectories: Sequence[types.TrajectoryWithRew],
    *,
    env: Any = None,
    observation_space: gym.Space | None = None,
    action_space: gym.Space | None = None,
    algorithm_name: str | None = None,
    author: str | None = None,
    author_email: str | None = None,
    code_permalink: str | None = None,
    description: str | None = None,
    data_format: str = "hdf5",
    overwrite: bool = False,
) -> minari.MinariDataset:
    """Write trajectories as a new local Minari dataset (atomically).

    Args:
        dataset_id: The new dataset's id, ``[namespace/]name-v<version>``; it
            is written under ``MINARI_DATASETS_PATH``.
        trajectories: Trajectories with rewards, all from the same spaces.
        env: A ``gym.Env`` or Gymnasium env id the data comes from: gives the
            spaces (unless passed) and, for a registered env, the env spec
            that lets ``dataset.recover_environment()`` rebuild it.
        observation_space: The observation space (default: ``env``'s).
        action_space: The action space (default: ``env``'s).
        algorithm_name: Recorded in the dataset's metadata.
        author: Recorded in the dataset's metadata.
        author_email: Recorded in the dataset's metadata.
        code_permalink: Recorded in the dataset's metadata.
        description: Recorded in the dataset's metadata.
        data_format: Minari storage format: ``"hdf5"`` (default), ``"arrow"``
            or ``"parquet"``.
        overwrite: Replace an existing dataset with this id.

    Returns:
        The new dataset, as ``minari.load_dataset(dataset_id)`` would give.

    Raises:
        ValueError: If the id is malformed, there are no trajectories, one has
            no rewards or does not fit the spaces, or the spaces are missing.
        MinariSpaceMismatchError: If a space is not supported.
        FileExistsError: If the dataset exists and ``overwrite`` is False.
    """
    check_dataset_id(dataset_id)
    if len(trajectories) == 0:
        raise ValueError("Cannot save an empty list of trajectories to Minari.")
    env_spec = None
    if env is not None:
        env_obs, env_act, env_spec = env_spaces(env)
        observation_space = observation_space or env_obs
        action_space = action_space or env_act
    if observation_space is None or action_space is None:
        raise ValueError(
            "Minari datasets record their spaces: pass env= (a gym.Env or env id) "
            "or both observation_space= and action_space=.",
        )
    check_space(observation_space, "observation", allow_dict=True)
    check_space(action_space, "action", allow_dict=False)
    for i, traj in enumerate(trajectories):
        if not isinstance(traj, types.TrajectoryWithRew):
            raise ValueError(
                f"Trajectory {i} is a {type(traj).__name__} without rewards; Minari "
                "episodes need rewards (save TrajectoryWithRew).",
            )
        _check_fits(i, traj, observation_space, action_space)
    final = get_dataset_path(dataset_id)
    if final.exists() and not overwrite:
        raise FileExistsError(
            f"Minari dataset {dataset_id!r} already exists at {final}. Pass "
            "overwrite=True, pick a new version, or minari.delete_dataset it.",
        )
    namespace = dataset_id.rpartition("/")[0]
    if namespace and namespace not in list_local_namespaces():
        create_namespace(namespace)
    metadata: dict[str, Any] = {
        "dataset_id": dataset_id,
        "minari_version": minari.__version__,
    }
    for key, value in (
        ("algorithm_name", algorithm_name),
        ("code_permalink", code_permalink),
        ("description", description),
    ):
        if value is not None:
            metadata[key] = value
    if author is not None:
        metadata["author"] = {author}
    if author_email is not None:
        metadata["author_email"] = {author_email}
    with util.atomic_write_path(final) as tmp:
        tmp.mkdir()
        storage = MinariStorage.new(
            tmp / "data",
            observation_space=observation_space,
            action_space=action_space,
            env_spec=env_spec,
            data_format=data_format,
            jpeg_encoding=False,
        )
        storage.update_metadata(metadata)
        storage.update_episodes(
            _episode_buffer(i, t) for i, t in enumerate(trajectories)
        )
    return minari.load_dataset(dataset_id)
