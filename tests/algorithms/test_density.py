"""Tests for imitation.algorithms.density."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KernelDensity
from stable_baselines3 import PPO

from imitation.algorithms import density as db
from imitation.data import rollout, types
from imitation.testing.expert_trajectories import lazy_generate_expert_trajectories
from imitation.util import logger
from imitation.util.util import make_vec_env


@pytest.fixture(scope="module")
def pendulum_demos(tmp_path_factory):
    trajs = lazy_generate_expert_trajectories(
        tmp_path_factory.getbasetemp().parent / "imitation-expert-cache",
        "Pendulum-v1",
        10,
        np.random.default_rng(0),
    )
    return list(trajs)


@pytest.fixture
def pendulum(rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=2)
    yield venv
    venv.close()


@pytest.fixture(scope="module")
def random_pendulum():
    venv = make_vec_env("Pendulum-v1", rng=np.random.default_rng(1), n_envs=2)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(4), rng=np.random.default_rng(1)
    )
    venv.close()
    return rollout.flatten_trajectories(list(trajs)[:4])


def _density(venv, demos, **kwargs):
    kwargs.setdefault("custom_logger", logger.configure(format_strs=[]))
    return db.DensityAlgorithm(
        demonstrations=demos, venv=venv, rng=np.random.default_rng(0), **kwargs
    )


def _auc(trainer, expert, rand):
    steps = np.tile(np.arange(200), len(expert) // 200)
    r_exp = trainer(expert.obs, expert.acts, expert.next_obs, expert.dones, steps)
    r_rand = trainer(rand.obs, rand.acts, rand.next_obs, rand.dones, steps)
    labels = np.r_[np.ones(len(r_exp)), np.zeros(len(r_rand))]
    return roc_auc_score(labels, np.r_[r_exp, r_rand])


@pytest.mark.parametrize(
    ("density_type", "is_stationary", "min_auc"),
    [
        # The bar (state-action, as in the tutorial).
        (db.DensityType.STATE_ACTION_DENSITY, True, 0.95),
        # Without actions, the expert's swing-up states overlap the random
        # policy's swinging ones; with one density per timestep, each is fit
        # on only 6 states and the first steps (random start states for both
        # policies) cannot be told apart. Still far above chance (0.5).
        (db.DensityType.STATE_DENSITY, True, 0.9),
        (db.DensityType.STATE_STATE_DENSITY, True, 0.9),
        (db.DensityType.STATE_ACTION_DENSITY, False, 0.9),
        (db.DensityType.STATE_DENSITY, False, 0.9),
    ],
)
def test_reward_ranks_expert_above_random(
    pendulum, pendulum_demos, random_pendulum, density_type, is_stationary, min_auc
):
    """Fit on 6 expert episodes; held-out expert transitions outrank random ones."""
    trainer = _density(
        pendulum,
        pendulum_demos[:6],
        density_type=density_type,
        is_stationary=is_stationary,
        kernel_bandwidth=0.4,
    )
    trainer.train()
    expert = rollout.flatten_trajectories(pendulum_demos[6:10])
    assert _auc(trainer, expert, random_pendulum) >= min_auc


@pytest.mark.parametrize("standardise", [True, False])
def test_reward_is_kernel_log_density(pendulum, pendulum_demos, standardise):
    trainer = _density(
        pendulum,
        pendulum_demos[:2],
        kernel="exponential",
        kernel_bandwidth=0.3,
        standardise_inputs=standardise,
    )
    trainer.train()
    flat = rollout.flatten_trajectories(pendulum_demos[:2])
    x = np.concatenate([flat.obs, flat.acts], axis=1)
    np.testing.assert_array_equal(trainer.transitions[None], x)
    query = rollout.flatten_trajectories(pendulum_demos[3:4])
    q = np.concatenate([query.obs, query.acts], axis=1)
    if standardise:
        mean, std = x.mean(axis=0), x.std(axis=0)
        x, q = (x - mean) / std, (q - mean) / std
    expected = KernelDensity(kernel="exponential", bandwidth=0.3).fit(x)
    np.testing.assert_allclose(
        trainer(query.obs, query.acts, query.next_obs, query.dones),
        expected.score_samples(q),
        rtol=1e-6,
    )


def test_non_stationary_uses_each_steps_density(make_counting_venv):
    """CountingEnv observes its timestep: the wrapper must pass the right one."""
    venv = make_counting_venv([5, 5])
    demos = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(30), rng=np.random.default_rng(0)
    )
    trainer = _density(
        venv,
        demos,
        density_type=db.DensityType.STATE_DENSITY,
        is_stationary=False,
        standardise_inputs=False,
        kernel_bandwidth=0.2,
    )
    trainer.train()
    assert sorted(trainer.transitions) == [0, 1, 2, 3, 4]
    assert all(len(v) == len(demos) for v in trainer.transitions.values())
    wrapped = trainer.venv_wrapped
    obs = wrapped.reset()
    for _ in range(12):  # crosses episode boundaries
        acts = np.array([0, 1])
        next_obs, rews, dones, infos = wrapped.step(acts)
        steps = obs[:, 0].astype(int)
        expected = trainer(obs, acts, next_obs, dones, steps=steps)
        np.testing.assert_allclose(rews, expected)
        off_by_one = trainer(obs, acts, next_obs, dones, steps=(steps + 1) % 5)
        assert (rews > off_by_one + 5).all()
        assert all("original_env_rew" in info for info in infos)
        obs = next_obs
    with pytest.raises(ValueError, match="needs the timestep"):
        trainer(obs, acts, obs, dones)
    with pytest.raises(ValueError, match="No density for timestep 7"):
        trainer(obs, acts, obs, dones, steps=np.array([7, 0]))


def test_train_and_test_policy(pendulum, pendulum_demos):
    th.manual_seed(0)
    ppo = PPO("MlpPolicy", pendulum, n_steps=64, batch_size=32, n_epochs=1, seed=0)
    trainer = _density(pendulum, pendulum_demos[:2], rl_algo=ppo)
    trainer.train()
    assert ppo.get_env() is trainer.venv_wrapped
    assert trainer.policy is ppo.policy
    true_stats = trainer.test_policy(n_trajectories=2)
    learned_stats = trainer.test_policy(n_trajectories=2, true_reward=False)
    assert true_stats["n_traj"] >= 2 and true_stats["len_mean"] == 200
    # Log-densities of a bad policy are far below Pendulum's true rewards.
    assert learned_stats["return_mean"] != true_stats["return_mean"]
    trainer.train_policy(256)
    assert ppo.num_timesteps >= 256


@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory):
    trajs = lazy_generate_expert_trajectories(
        tmp_path_factory.getbasetemp().parent / "imitation-expert-cache",
        "CartPole-v1",
        4,
        np.random.default_rng(0),
    )
    return list(trajs)


def test_discrete_actions_are_one_hot(cartpole_demos):
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    trainer = _density(venv, cartpole_demos[:2])
    features = trainer.transitions[None]
    assert features.shape[1] == 4 + 2
    assert set(np.unique(features[:, 4:])) == {0.0, 1.0}
    trainer.train()
    flat = rollout.flatten_trajectories(cartpole_demos[2:3])
    rews = trainer(flat.obs, flat.acts, flat.next_obs, flat.dones)
    flipped = trainer(flat.obs, 1 - flat.acts, flat.next_obs, flat.dones)
    assert rews.mean() > flipped.mean()


def test_demonstration_forms(pendulum, pendulum_demos):
    flat = rollout.flatten_trajectories(pendulum_demos[:2])
    expected = _density(pendulum, pendulum_demos[:2]).transitions[None]
    minimal = types.TransitionsMinimal(obs=flat.obs, acts=flat.acts, infos=flat.infos)
    batches = [
        {"obs": flat.obs[i : i + 50], "acts": flat.acts[i : i + 50]}
        for i in range(0, len(flat), 50)
    ]
    for demos in (flat, minimal, batches):
        np.testing.assert_array_equal(
            _density(pendulum, demos).transitions[None], expected
        )
    state_state = _density(
        pendulum, flat, density_type=db.DensityType.STATE_STATE_DENSITY
    )
    np.testing.assert_array_equal(
        state_state.transitions[None], np.concatenate([flat.obs, flat.next_obs], 1)
    )


def test_bad_input(pendulum, pendulum_demos, cartpole_demos):
    flat = rollout.flatten_trajectories(pendulum_demos[:2])
    with pytest.raises(ValueError, match="transitions carry no timesteps"):
        _density(pendulum, flat, is_stationary=False)
    minimal = types.TransitionsMinimal(obs=flat.obs, acts=flat.acts, infos=flat.infos)
    with pytest.raises(ValueError, match="next observations"):
        _density(pendulum, minimal, density_type=db.DensityType.STATE_STATE_DENSITY)
    with pytest.raises(ValueError, match="Unknown kernel"):
        _density(pendulum, flat, kernel="gausian")
    with pytest.raises(ValueError, match="kernel_bandwidth"):
        _density(pendulum, flat, kernel_bandwidth=0.0)
    with pytest.raises(ValueError, match="DensityType"):
        _density(pendulum, flat, density_type="state")
    with pytest.raises(ValueError, match="different environment"):
        _density(pendulum, cartpole_demos[:1])
    with pytest.raises(ValueError, match="empty"):
        _density(pendulum, [])
    short = types.Trajectory(
        obs=pendulum_demos[0].obs[:11],
        acts=pendulum_demos[0].acts[:10],
        infos=None,
        terminal=True,
    )
    with pytest.raises(ValueError, match="different lengths"):
        _density(pendulum, [pendulum_demos[0], short])
    _density(pendulum, [pendulum_demos[0], short], allow_variable_horizon=True)
    trainer = _density(pendulum, flat)
    with pytest.raises(ValueError, match="call train"):
        trainer(flat.obs, flat.acts, flat.next_obs, flat.dones)
    with pytest.raises(ValueError, match="no rl_algo"):
        trainer.train_policy(10)
    with pytest.raises(ValueError, match="no rl_algo"):
        trainer.test_policy()
    with pytest.raises(ValueError, match="no rl_algo"):
        _ = trainer.policy


def test_dict_observations_supported(make_counting_venv):
    # Dict spaces are featurised key by key (more in test_dict_obs_algorithms.py).
    venv = make_counting_venv([3], dict_obs=True)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(2), rng=np.random.default_rng(0)
    )
    trainer = _density(venv, trajs)
    trainer.train(progress_bar=False)
    flat = rollout.flatten_trajectories(trajs)
    rews = trainer(flat.obs, flat.acts, flat.next_obs, flat.dones)
    assert rews.shape == (len(flat),) and np.isfinite(rews).all()


def test_plain_env_and_int_rng_are_explained(pendulum, pendulum_demos):
    with pytest.raises(TypeError, match=r"venv must be .*plain gym.Env.*make_vec_env"):
        _density(gym.make("Pendulum-v1"), pendulum_demos[:1])
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator.*default_rng"):
        db.DensityAlgorithm(demonstrations=pendulum_demos[:1], venv=pendulum, rng=0)
