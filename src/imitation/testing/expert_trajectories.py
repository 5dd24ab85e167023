"""Expert demonstrations from the bundled experts, generated once and cached.

Examples, tests and benchmarks need demonstrations for a handful of standard
tasks. :func:`generate_expert_trajectories` samples them from the expert that
ships with the package; :func:`lazy_generate_expert_trajectories` also caches
them on disk (safe under parallel test workers), so the sampling cost is paid
once per cache directory.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import filelock
import numpy as np

from imitation.data import rollout, serialize, types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import bundled_expert_filename, load_bundled_expert
from imitation.util import util


def gym_id(env_id: str) -> str:
    """The id to pass to ``make_vec_env``: seals envs need their ``seals:`` import."""
    if env_id.startswith("seals/"):
        return f"seals:{env_id}"
    return env_id


def generate_expert_trajectories(
    env_id: str,
    num_trajectories: int,
    rng: np.random.Generator,
    n_envs: int = 4,
) -> Sequence[types.TrajectoryWithRew]:
    """Sample ``num_trajectories`` episodes from the bundled expert for ``env_id``.

    Args:
        env_id: A task with a bundled expert, e.g. ``"seals/CartPole-v0"``.
        num_trajectories: Number of episodes to return.
        rng: Seeds the environments and the sampling order.
        n_envs: Number of parallel environments to sample with.

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
        expert = load_bundled_expert(venv, env_id)
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


def lazy_generate_expert_trajectories(
    cache_dir: str | os.PathLike,
    env_id: str,
    num_trajectories: int,
    rng: np.random.Generator,
) -> Sequence[types.TrajectoryWithRew]:
    """Like :func:`generate_expert_trajectories`, cached under ``cache_dir``.

    The cache key is the env id and the number of trajectories; a file lock
    makes concurrent callers (e.g. pytest-xdist workers) generate it once.

    Args:
        cache_dir: Directory for the cache.
        env_id: A task with a bundled expert.
        num_trajectories: Number of episodes.
        rng: Used only when the cache is generated.

    Returns:
        The trajectories.
    """
    cache_dir = pathlib.Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{bundled_expert_filename(env_id)}_{num_trajectories}"
    with filelock.FileLock(str(path) + ".lock"):
        if not path.exists():
            trajs = generate_expert_trajectories(env_id, num_trajectories, rng)
            serialize.save(path, trajs)
    return serialize.load_with_rewards(path)
