"""Bundled experts standing in for the HuggingFace Hub when it cannot be reached.

The benchmark's configurations name their expert and demonstrations on the
Hub (``HumanCompatibleAI/ppo-seals-Hopper-v1``, ...). Without network access
and without a filled Hub cache those names cannot be fetched. Where imitation
bundles an expert for the same task and algorithm, it stands in:

* the expert (``load_policy("ppo-huggingface", venv, env_name=...)``) is the
  bundled one;
* the demonstrations (``demonstrations.source=huggingface`` on the command
  line) are :data:`STAND_IN_EPISODES` episodes sampled from the bundled expert
  with a fixed seed, generated once and cached under
  :func:`stand_in_cache_dir`, so every later run uses the same file.

Each time a stand-in is used, one line is logged saying so. A real Hub object
(downloaded, or in the local Hub cache) is always preferred: the stand-in is
used only where :class:`~imitation.policies.serialize.HubUnavailableError`
would otherwise be raised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
from collections.abc import Sequence

import numpy as np
import torch as th

from imitation.data import rollout, serialize, types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies import serialize as policy_serialize
from imitation.util import util

__all__ = [
    "STAND_IN_EPISODES",
    "STAND_IN_SEED",
    "gym_id",
    "sample_bundled_expert",
    "stand_in_cache_dir",
    "stand_in_rollouts",
]

logger = logging.getLogger(__name__)

STAND_IN_EPISODES = 50
"""Episodes in a stand-in demonstration dataset."""

STAND_IN_SEED = 0
"""Seeds the environments and the expert's action sampling of the stand-in data."""


def stand_in_cache_dir() -> pathlib.Path:
    """Where stand-in demonstrations are cached.

    ``$IMITATION_CACHE_DIR/hub-stand-in`` if that variable is set, else
    ``$XDG_CACHE_HOME/imitation/hub-stand-in`` (``~/.cache/imitation/...``).
    """
    root = os.environ.get("IMITATION_CACHE_DIR")
    if root is None:
        xdg = os.environ.get("XDG_CACHE_HOME", str(pathlib.Path.home() / ".cache"))
        root = os.path.join(xdg, "imitation")
    return pathlib.Path(root) / "hub-stand-in"


def _bundled_zip_digest(env_id: str, algo: str) -> str:
    data = policy_serialize.bundled_expert_file(env_id, algo).read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


def gym_id(env_id: str) -> str:
    """The id to pass to ``make_vec_env``: seals envs need their ``seals:`` import."""
    return f"seals:{env_id}" if env_id.startswith("seals/") else env_id


def sample_bundled_expert(
    env_id: str,
    num_trajectories: int,
    rng: np.random.Generator,
    n_envs: int = 4,
    algo: str | None = None,
    torch_seed: int | None = None,
) -> list[types.TrajectoryWithRew]:
    """Sample ``num_trajectories`` episodes from the bundled expert for ``env_id``.

    Args:
        env_id: A task with a bundled expert, e.g. ``"seals/CartPole-v0"``.
        num_trajectories: Number of episodes to return.
        rng: Seeds the environments and the sampling order.
        n_envs: Number of parallel environments to sample with.
        algo: Which of the task's bundled experts (by algorithm); None for
            its main one.
        torch_seed: If given, the expert's action sampling is seeded with it
            (in a forked torch random state); else it uses torch's state.

    Returns:
        Exactly ``num_trajectories`` trajectories (without infos).
    """
    venv = util.make_vec_env(
        gym_id(env_id),
        rng=rng,
        n_envs=n_envs,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    try:
        expert = policy_serialize.load_bundled_expert(venv, env_id, algo)
        with th.random.fork_rng(enabled=torch_seed is not None):
            if torch_seed is not None:
                th.manual_seed(torch_seed)
            trajs = rollout.rollout(
                expert,
                venv,
                rollout.make_min_episodes(num_trajectories),
                rng=rng,
                verbose=False,
            )
    finally:
        venv.close()
    return list(trajs[:num_trajectories])


def stand_in_rollouts(
    algo: str, env_name: str, organization: str
) -> Sequence[types.Trajectory] | None:
    """Demonstrations from the bundled expert standing in for a Hub dataset.

    Generated on first use (:data:`STAND_IN_EPISODES` episodes, seed
    :data:`STAND_IN_SEED`) and saved atomically under
    :func:`stand_in_cache_dir`; later calls load that file. The file name
    holds a digest of the bundled expert, so a retrained expert gets fresh
    demonstrations.

    Args:
        algo: The algorithm in the dataset's name, e.g. ``"ppo"``.
        env_name: The environment id.
        organization: The Hub organization of the dataset.

    Returns:
        The demonstrations, or None if no bundled expert can stand in (see
        :func:`~imitation.policies.serialize.bundled_stand_in_record`).
    """
    record = policy_serialize.bundled_stand_in_record(algo, env_name, organization)
    if record is None:
        return None
    env_id = record["env_id"]
    repo_id = f"{organization}/{algo}-{env_id.replace('/', '-')}"
    policy_serialize.stand_in_note(repo_id, "demonstrations")
    name = (
        f"{repo_id.replace('/', '--')}-{_bundled_zip_digest(env_id, algo)}"
        f"-{STAND_IN_EPISODES}ep-seed{STAND_IN_SEED}.npz"
    )
    path = stand_in_cache_dir() / name
    if path.is_file():
        return serialize.load(path)
    trajs = sample_bundled_expert(
        env_id,
        STAND_IN_EPISODES,
        np.random.default_rng(STAND_IN_SEED),
        n_envs=5,
        algo=algo,
        torch_seed=STAND_IN_SEED,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    serialize.save_npz(path, trajs)
    logger.info("Cached the stand-in demonstrations of %s in %s.", repo_id, path)
    return trajs
