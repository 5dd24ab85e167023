"""Shared fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.data.wrappers import RolloutInfoWrapper
from imitation.testing.envs import CountingEnv
from imitation.util.util import make_vec_env


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
