"""Shared fixtures."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.data.wrappers import RolloutInfoWrapper
from imitation.testing.envs import CountingEnv
from imitation.util.util import make_vec_env

# Tests run in parallel workers on few cores: one torch thread per worker
# avoids oversubscription, which slows small-network training many times over.
th.set_num_threads(1)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def cartpole_venv(rng):
    """Two seals/CartPole-v0 envs (fixed horizon 500) with RolloutInfoWrapper."""
    venv = make_vec_env(
        "seals:seals/CartPole-v0",
        rng=rng,
        n_envs=2,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    yield venv
    venv.close()


@pytest.fixture
def make_counting_venv():
    """Factory: one CountingEnv per entry of ``lengths``, with that episode length."""

    def make(lengths, dict_obs: bool = False) -> DummyVecEnv:
        return DummyVecEnv(
            [
                (
                    lambda n=n: RolloutInfoWrapper(
                        CountingEnv(episode_len=n, dict_obs=dict_obs)
                    )
                )
                for n in lengths
            ],
        )

    return make


@pytest.fixture(scope="session")
def expert_cache(tmp_path_factory):
    """Directory caching bundled-expert demonstrations across tests."""
    return tmp_path_factory.getbasetemp().parent / "imitation-expert-cache"


@pytest.fixture(scope="session")
def cartpole_expert_trajectories(expert_cache):
    """50 episodes of the bundled seals/CartPole-v0 expert."""
    from imitation.testing.expert_trajectories import lazy_generate_expert_trajectories

    return lazy_generate_expert_trajectories(
        expert_cache, "seals/CartPole-v0", 50, np.random.default_rng(0)
    )
