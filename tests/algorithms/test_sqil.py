"""Tests for imitation.algorithms.sqil."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN, SAC

from imitation.algorithms import sqil
from imitation.data import rollout
from imitation.testing.expert_trajectories import lazy_generate_expert_trajectories
from imitation.util.util import make_vec_env


@pytest.fixture(scope="module")
def cartpole_v1_demos(tmp_path_factory):
    return lazy_generate_expert_trajectories(
        tmp_path_factory.getbasetemp().parent / "imitation-expert-cache",
        "CartPole-v1",
        4,
        np.random.default_rng(0),
    )


@pytest.fixture
def cartpole(rng):
    venv = make_vec_env("CartPole-v1", rng=rng, n_envs=1)
    yield venv
    venv.close()


def _sqil(venv, demos, **rl_kwargs):
    kwargs = dict(learning_starts=100, buffer_size=5000, device="cpu", seed=0)
    kwargs.update(rl_kwargs)
    return sqil.SQIL(
        venv=venv, demonstrations=demos, policy="MlpPolicy", rl_kwargs=kwargs
    )


def test_batches_are_half_expert_half_agent(cartpole, cartpole_v1_demos):
    trainer = _sqil(cartpole, cartpole_v1_demos)
    trainer.train(total_timesteps=200)
    batch = trainer.rl_algo.replay_buffer.sample(64)
    assert batch.rewards.shape == (64, 1)
    assert batch.rewards[:32].sum() == 0 and batch.rewards[32:].sum() == 32
    expert_obs = np.concatenate([t.obs[:-1] for t in cartpole_v1_demos])
    sampled = batch.observations[32:].numpy()
    assert all((expert_obs == row).all(axis=1).any() for row in sampled)
    assert trainer.expert_buffer.size() == len(expert_obs)


def test_q_values_prefer_expert_actions(cartpole, cartpole_v1_demos):
    """After a short run, the Q-network ranks the expert's action first."""
    th.manual_seed(0)
    trainer = _sqil(
        cartpole,
        cartpole_v1_demos,
        learning_rate=1e-3,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=250,
    )
    trajs = list(cartpole_v1_demos)
    obs = th.as_tensor(np.concatenate([t.obs[:-1] for t in trajs]))
    acts = np.concatenate([t.acts for t in trajs])

    def agreement():
        with th.no_grad():
            q = trainer.rl_algo.q_net(obs)
        return float((q.argmax(dim=1).numpy() == acts).mean())

    before = agreement()
    trainer.train(total_timesteps=6000)
    after = agreement()
    assert after > 0.85 and after > before + 0.2, (before, after)


def test_dict_observations(make_counting_venv, rng):
    venv = make_counting_venv([5], dict_obs=True)
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(3), rng=rng
    )
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MultiInputPolicy",
        rl_kwargs=dict(learning_starts=10, buffer_size=500, device="cpu"),
    )
    trainer.train(total_timesteps=50)
    batch = trainer.rl_algo.replay_buffer.sample(8)
    assert set(batch.observations) == {"t", "act"}
    assert batch.rewards[4:].sum() == 4


def test_sac_learner(rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(1), rng=rng
    )
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MlpPolicy",
        rl_algo_class=SAC,
        rl_kwargs=dict(learning_starts=50, buffer_size=1000, device="cpu"),
    )
    trainer.train(total_timesteps=120)
    batch = trainer.rl_algo.replay_buffer.sample(16)
    # Expert actions are stored rescaled to [-1, 1], like SAC's own.
    assert batch.actions.abs().max() <= 1.0
    assert isinstance(trainer.rl_algo, SAC)


def test_bad_inputs(cartpole, cartpole_v1_demos, rng):
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    with pytest.raises(ValueError, match="Discrete action space"):
        sqil.SQIL(venv=pendulum, demonstrations=cartpole_v1_demos, policy="MlpPolicy")
    with pytest.raises(ValueError, match="replay_buffer_class"):
        _sqil(cartpole, cartpole_v1_demos, replay_buffer_class=object)
    with pytest.raises(ValueError, match="replay_buffer_kwargs"):
        _sqil(cartpole, cartpole_v1_demos, replay_buffer_kwargs={})
    with pytest.raises(ValueError, match="empty"):
        _sqil(cartpole, [])
    pendulum_demos = rollout.generate_trajectories(
        None, pendulum, rollout.make_min_episodes(1), rng=rng
    )
    with pytest.raises(ValueError, match="different environment"):
        sqil.SQIL(
            venv=make_vec_env("MountainCarContinuous-v0", rng=rng, n_envs=1),
            demonstrations=pendulum_demos,
            policy="MlpPolicy",
            rl_algo_class=SAC,
        )
    assert issubclass(DQN, type(_sqil(cartpole, cartpole_v1_demos).rl_algo))


def test_plain_env_and_missing_demonstrations_are_explained(cartpole_v1_demos):
    env = gym.make("CartPole-v1")
    with pytest.raises(TypeError, match=r"venv must be .*plain gym.Env.*DummyVecEnv"):
        _sqil(env, cartpole_v1_demos)
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    accepted = r"Demonstrations must be a sequence of Trajectory.*Transitions"
    with pytest.raises(TypeError, match=f"{accepted}.*required here, but got None"):
        _sqil(venv, None)
    with pytest.raises(TypeError, match=f"{accepted}.*got int, which is not iterable"):
        _sqil(venv, 12)
    venv.close()
