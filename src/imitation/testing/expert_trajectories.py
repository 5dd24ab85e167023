"""Expert demonstrations from the bundled experts, generated once and cached.

Examples, tests and benchmarks need demonstrations for a handful of standard
tasks. :func:`generate_expert_trajectories` samples them from the expert that
ships with the package; :func:`lazy_generate_expert_trajectories` also caches
them on disk (safe under parallel test workers), so the sampling cost is paid
once per cache directory. :func:`make_expert_transition_loader` serves the
cached demonstrations in each form that algorithms accept.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterable, Sequence

import filelock
import numpy as np
import torch as th

from imitation.algorithms import base as algo_base
from imitation.data import rollout, serialize, types
from imitation.policies import hub_stand_in
from imitation.policies.serialize import bundled_expert_filename

generate_expert_trajectories = hub_stand_in.sample_bundled_expert
"""Episodes sampled from a bundled expert, under the original release's name.

See :func:`imitation.policies.hub_stand_in.sample_bundled_expert`.
"""


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


EXPERT_DATA_TYPES = ("data_loader", "ducktyped_data_loader", "transitions")
"""The forms :func:`make_expert_transition_loader` can serve."""


def make_expert_transition_loader(
    cache_dir: str | os.PathLike,
    batch_size: int,
    expert_data_type: str,
    env_name: str,
    rng: np.random.Generator,
    num_trajectories: int = 1,
    shuffle: bool = True,
) -> Iterable[algo_base.TransitionMapping] | types.Transitions:
    """Cached expert transitions, in one of the forms algorithms accept.

    Args:
        cache_dir: Directory for the cache of expert trajectories.
        batch_size: Samples per batch (for the two loaders).
        expert_data_type: ``"data_loader"``: a torch ``DataLoader`` of shuffled
            batches; ``"ducktyped_data_loader"``: a plain re-iterable of
            shuffled batches (dicts of tensors) that is not a ``DataLoader``;
            ``"transitions"``: the ``Transitions`` themselves.
        env_name: A task with a bundled expert, e.g. ``"seals/CartPole-v0"``.
        rng: Seeds the generation of the trajectories (if not cached) and the
            shuffling of the batches.
        num_trajectories: Number of expert episodes.
        shuffle: Shuffle the batches of the two loaders (anew on each pass).
            With False they hold the transitions in order, episode by episode;
            ``"transitions"`` are always in order.

    Returns:
        The demonstrations.

    Raises:
        ValueError: If ``expert_data_type`` is not one of
            :data:`EXPERT_DATA_TYPES`, or there are fewer transitions than
            ``batch_size``.
    """
    if expert_data_type not in EXPERT_DATA_TYPES:
        raise ValueError(
            f"expert_data_type={expert_data_type!r} is not one of "
            f"{', '.join(EXPERT_DATA_TYPES)}.",
        )
    trajectories = lazy_generate_expert_trajectories(
        cache_dir, env_name, num_trajectories, rng
    )
    transitions = rollout.flatten_trajectories(trajectories)
    if expert_data_type == "transitions":
        return transitions
    if len(transitions) < batch_size:
        raise ValueError(
            f"{num_trajectories} expert episode(s) of {env_name} give "
            f"{len(transitions)} transitions, fewer than batch_size={batch_size}: "
            "ask for more trajectories or a smaller batch.",
        )
    if not shuffle:
        in_order = algo_base.make_data_loader(
            transitions, batch_size, data_loader_kwargs={"shuffle": False}
        )
        if expert_data_type == "data_loader":
            return in_order
        return list(in_order)
    if expert_data_type == "data_loader":
        generator = th.Generator().manual_seed(int(rng.integers(2**31)))
        return algo_base.make_data_loader(
            transitions, batch_size, data_loader_kwargs={"generator": generator}
        )
    return algo_base.ShuffledBatches(transitions, batch_size, rng)
