"""Expert demonstrations (``demonstrations``): generated, local, or from the Hub.

``source`` is one of:

* ``generated``: sample ``n_expert_demos`` episodes from the ``expert``;
* ``local``: load ``path`` (a ``.npz`` file or a saved dataset folder, as
  written by :func:`imitation.data.serialize.save`);
* ``huggingface``: the dataset ``<organization>/<algo_name>-<env>`` from the
  HuggingFace Hub (or its local cache); where neither can be had and the
  task has a bundled expert trained with ``algo_name``, demonstrations
  sampled from that expert stand in (:mod:`imitation.policies.hub_stand_in`);
* ``minari``: the local Minari dataset ``dataset_id`` (under
  ``MINARI_DATASETS_PATH``), whose spaces must match the environment's (see
  :mod:`imitation.data.minari`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import sacred

from imitation.data import rollout, types
from imitation.scripts.ingredients import environment, expert

demonstrations_ingredient = sacred.Ingredient(
    "demonstrations",
    ingredients=[expert.expert_ingredient, environment.environment_ingredient],
    _caller_globals=globals(),
    save_git_info=False,
)
logger = logging.getLogger(__name__)

SOURCES = ("generated", "local", "huggingface", "minari")


@demonstrations_ingredient.config
def config() -> None:
    """Where the demonstrations come from, and how many to use."""
    source = "generated"  # "generated", "local", "huggingface" or "minari"
    path = None  # for source="local": an .npz file or a dataset folder
    dataset_id = None  # for source="minari": a local Minari dataset id
    n_expert_demos = None  # episodes to use (None: all; required for "generated")
    algo_name = "ppo"  # for source="huggingface": the expert's algorithm
    organization = "HumanCompatibleAI"  # for source="huggingface"
    loader_kwargs = dict(split="train")  # for source="huggingface": load_dataset args


@demonstrations_ingredient.named_config
def fast() -> None:
    """One episode, for smoke tests."""
    n_expert_demos = 1


@demonstrations_ingredient.capture
def get_expert_trajectories(
    source: str,
    path: str | None,
    dataset_id: str | None,
    n_expert_demos: int | None,
    algo_name: str,
    organization: str,
    loader_kwargs: dict[str, Any],
    _seed: int,
) -> Sequence[types.Trajectory]:
    """The configured demonstrations.

    Raises:
        ValueError: If ``source`` is unknown, a setting it needs is missing, or
            there are fewer episodes than ``n_expert_demos``.
        FileNotFoundError: If the local ``path`` (or Minari dataset) does not
            exist.
        imitation.data.minari.MinariSpaceMismatchError: If the Minari
            dataset's spaces differ from the environment's.
    """
    if source not in SOURCES:
        raise ValueError(
            f"Unknown demonstrations.source {source!r}; use one of {SOURCES}."
        )
    if source == "generated":
        if n_expert_demos is None:
            raise ValueError(
                "demonstrations.source='generated' needs demonstrations."
                "n_expert_demos (the number of episodes to sample)."
            )
        return generate_expert_trajs(n_expert_demos, _seed)
    if source == "local":
        if path is None:
            raise ValueError(
                "demonstrations.source='local' needs demonstrations.path (an .npz "
                "file or a folder written by imitation.data.serialize.save)."
            )
        from imitation.data import serialize  # slow to import: only when used

        trajs: Sequence[types.Trajectory] = serialize.load(path)
    elif source == "minari":
        if dataset_id is None:
            raise ValueError(
                "demonstrations.source='minari' needs demonstrations.dataset_id "
                "(a local Minari dataset id, e.g. 'cartpole/expert-v0')."
            )
        from imitation.data import minari  # needs the minari extra

        env = _make_env()
        try:
            trajs = minari.load_trajectories(
                dataset_id, env=env, n_episodes=n_expert_demos
            )
        finally:
            env.close()
    else:
        trajs = _load_from_hub(algo_name, organization, loader_kwargs)
    if n_expert_demos is not None:
        if len(trajs) < n_expert_demos:
            raise ValueError(
                f"Only {len(trajs)} demonstrations are available, but "
                f"demonstrations.n_expert_demos={n_expert_demos}."
            )
        trajs = trajs[:n_expert_demos]
    return trajs


def _load_from_hub(
    algo_name: str, organization: str, loader_kwargs: dict[str, Any]
) -> Sequence[types.Trajectory]:
    """The Hub dataset, or, if the Hub cannot be reached, a bundled expert's data.

    See :mod:`imitation.policies.hub_stand_in`.
    """
    from imitation.data import huggingface_utils  # slow to import
    from imitation.policies import hub_stand_in, serialize

    try:
        return huggingface_utils.load_rollouts_from_huggingface(
            algo_name, _env_id(), organization, **loader_kwargs
        )
    except serialize.HubUnavailableError:
        trajs = hub_stand_in.stand_in_rollouts(algo_name, _env_id(), organization)
        if trajs is None:
            raise
        return trajs


@environment.environment_ingredient.capture
def _env_id(gym_id: str) -> str:
    return gym_id


@environment.environment_ingredient.capture
def _make_env(gym_id: str, env_make_kwargs: dict[str, Any]) -> gym.Env:
    """One instance of the configured environment, to check data against its spaces."""
    return gym.make(environment.gym_make_id(gym_id), **env_make_kwargs)


def generate_expert_trajs(n_episodes: int, seed: int) -> list[types.Trajectory]:
    """Sample ``n_episodes`` episodes (at least) of the configured expert."""
    venv = environment.make_rollout_venv()
    try:
        policy = expert.get_expert_policy(venv)
        logger.info("Sampling %d expert episodes", n_episodes)
        trajs = rollout.rollout(
            policy,
            venv,
            rollout.make_min_episodes(n_episodes),
            rng=np.random.default_rng(seed),
            verbose=False,
        )
    finally:
        venv.close()
    return list(trajs[:n_episodes])
