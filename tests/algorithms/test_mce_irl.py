"""Tests for imitation.algorithms.mce_irl."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from scipy.special import logsumexp
from seals import base_envs
from seals.diagnostics.cliff_world import CliffWorldEnv
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.algorithms import mce_irl
from imitation.data import rollout, types
from imitation.rewards import reward_nets
from imitation.util import logger


def _cliff(horizon=40, use_xy_obs=True):
    return CliffWorldEnv(height=4, width=7, horizon=horizon, use_xy_obs=use_xy_obs)


def _random_mdp(rng, n_states=5, n_actions=3, horizon=6, obs_dim=2):
    trans = rng.random((n_states, n_actions, n_states)) ** 3
    trans /= trans.sum(axis=-1, keepdims=True)
    init = rng.random(n_states)
    return base_envs.TabularModelPOMDP(
        transition_matrix=trans,
        observation_matrix=rng.normal(size=(n_states, obs_dim)).astype(np.float32),
        reward_matrix=rng.normal(size=n_states),
        horizon=horizon,
        initial_state_dist=init / init.sum(),
    )


def _reference_partition(env, reward, discount):
    """Soft value iteration with explicit loops over states and actions."""
    trans = env.transition_matrix
    n_s, n_a, _ = trans.shape
    horizon = env.horizon
    q = np.zeros((horizon, n_s, n_a))
    v = np.zeros((horizon + 1, n_s))
    for t in reversed(range(horizon)):
        for s in range(n_s):
            for a in range(n_a):
                q[t, s, a] = reward[s] + discount * sum(
                    trans[s, a, s2] * v[t + 1, s2] for s2 in range(n_s)
                )
            v[t, s] = logsumexp(q[t, s])
    return v[:horizon], q, np.exp(q - v[:horizon, :, None])


def _reference_occupancy(env, pi, discount):
    trans = env.transition_matrix
    n_s, n_a, _ = trans.shape
    d = np.zeros((env.horizon, n_s))
    d[0] = env.initial_state_dist
    for t in range(env.horizon - 1):
        for s in range(n_s):
            for a in range(n_a):
                d[t + 1] += d[t, s] * pi[t, s, a] * trans[s, a]
    return d, sum(discount**t * d[t] for t in range(env.horizon))


@pytest.mark.parametrize("discount", [1.0, 0.9])
def test_partition_and_occupancy_match_reference(discount):
    rng = np.random.default_rng(0)
    env = _random_mdp(rng)
    v, q, pi = mce_irl.mce_partition_fh(env, discount=discount)
    v_ref, q_ref, pi_ref = _reference_partition(env, env.reward_matrix, discount)
    np.testing.assert_allclose(v, v_ref, rtol=1e-10)
    np.testing.assert_allclose(q, q_ref, rtol=1e-10)
    np.testing.assert_allclose(pi, pi_ref, rtol=1e-10)
    d, dcum = mce_irl.mce_occupancy_measures(env, pi=pi, discount=discount)
    d_ref, dcum_ref = _reference_occupancy(env, pi, discount)
    np.testing.assert_allclose(d, d_ref, rtol=1e-10)
    np.testing.assert_allclose(dcum, dcum_ref, rtol=1e-10)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    # Default policy: soft-optimal for the env's reward.
    np.testing.assert_allclose(
        mce_irl.mce_occupancy_measures(env, discount=discount)[1], dcum
    )


def test_partition_with_huge_rewards():
    """Q-values thousands apart must not overflow the log-sum-exp."""
    env = _random_mdp(np.random.default_rng(2))
    reward = 3000.0 * np.random.default_rng(3).normal(size=5)
    v, q, pi = mce_irl.mce_partition_fh(env, reward=reward)
    v_ref, q_ref, pi_ref = _reference_partition(env, reward, 1.0)
    assert np.isfinite(v).all()
    np.testing.assert_allclose(v, v_ref, rtol=1e-10)
    np.testing.assert_allclose(pi, pi_ref, atol=1e-10)
    np.testing.assert_allclose(pi.sum(axis=-1), 1.0)


def test_state_action_and_transition_rewards():
    rng = np.random.default_rng(1)
    env = _random_mdp(rng)
    r_s = env.reward_matrix
    r_sa = np.repeat(r_s[:, None], 3, axis=1)
    r_sas = np.repeat(r_sa[:, :, None], 5, axis=2)
    expected = mce_irl.mce_partition_fh(env)[2]
    for reward in (r_sa, r_sas):
        np.testing.assert_allclose(
            mce_irl.mce_partition_fh(env, reward=reward)[2], expected
        )
    with pytest.raises(ValueError, match="reward has shape"):
        mce_irl.mce_partition_fh(env, reward=np.zeros(4))


def test_occupancy_matches_sampled_visits():
    """Visits by TabularPolicy in the real env agree with the exact measure."""
    env = _cliff(horizon=10)
    _, _, pi = mce_irl.mce_partition_fh(env)
    _, om = mce_irl.mce_occupancy_measures(env, pi=pi)
    assert om.sum() == pytest.approx(10.0)
    rng = np.random.default_rng(0)
    policy = mce_irl.TabularPolicy(
        state_space=env.state_space, action_space=env.action_space, pi=pi, rng=rng
    )
    venv = DummyVecEnv(
        [lambda: base_envs.ExposePOMDPStateWrapper(_cliff(horizon=10))] * 4
    )
    venv.seed(0)
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(1000), rng=rng
    )
    states = np.concatenate([t.obs[:-1] for t in trajs])
    visits = np.bincount(states, minlength=env.state_dim) / len(trajs)
    np.testing.assert_allclose(visits, om, atol=0.15)


def test_tabular_policy_tracks_timesteps():
    n_s, n_a, horizon = 3, 2, 3
    pi = np.zeros((horizon, n_s, n_a))
    pi[:, :, 0] = 1.0
    pi[1, :, :] = [0.0, 1.0]  # step 1: always action 1
    policy = mce_irl.TabularPolicy(
        state_space=gym.spaces.Discrete(n_s),
        action_space=gym.spaces.Discrete(n_a),
        pi=pi,
        rng=np.random.default_rng(0),
    )
    obs = np.array([0, 1])
    acts, state = policy.predict(obs, None, np.array([True, True]))
    assert acts.tolist() == [0, 0]
    acts, state = policy.predict(obs, state, np.array([False, True]))
    assert acts.tolist() == [1, 0]  # env 1 restarted at step 0
    acts, state = policy.predict(obs, state, np.array([False, False]))
    assert acts.tolist() == [0, 1]
    assert state[0].tolist() == [3, 2]
    with pytest.raises(ValueError, match="state indices"):
        policy.predict(np.array([0.5, 1.0]), None, None)
    with pytest.raises(ValueError, match="state indices"):
        policy.predict(np.array([3]), None, None)
    with pytest.raises(ValueError, match="probability distribution"):
        policy.set_pi(np.full((horizon, n_s, n_a), 0.7))


def test_tabular_policy_samples_from_pi():
    env = _cliff(horizon=5)
    pi = np.random.default_rng(0).dirichlet(np.ones(4), size=(5, env.state_dim))
    policy = mce_irl.TabularPolicy(
        state_space=env.state_space,
        action_space=env.action_space,
        pi=pi,
        rng=np.random.default_rng(1),
    )
    obs = np.full(20_000, 3)
    acts, _ = policy.predict(obs, None, None)
    freq = np.bincount(acts, minlength=4) / len(acts)
    np.testing.assert_allclose(freq, pi[0, 3], atol=0.015)
    again = mce_irl.TabularPolicy(
        state_space=env.state_space,
        action_space=env.action_space,
        pi=pi,
        rng=np.random.default_rng(1),
    )
    assert (again.predict(obs, None, None)[0] == acts).all()


def test_squeeze_r():
    assert mce_irl.squeeze_r(th.zeros(4, 1)).shape == (4,)
    assert mce_irl.squeeze_r(th.zeros(4)).shape == (4,)
    with pytest.raises(ValueError, match="shape"):
        mce_irl.squeeze_r(th.zeros(4, 2))


def _net(env, hid_sizes):
    return reward_nets.BasicRewardNet(
        env.observation_space,
        env.action_space,
        hid_sizes=hid_sizes,
        use_action=False,
        use_done=False,
        use_next_state=False,
    )


def _mce(demos, env, hid_sizes, seed=0, **kwargs):
    th.manual_seed(seed)
    return mce_irl.MCEIRL(
        demos,
        env,
        _net(env, hid_sizes),
        rng=np.random.default_rng(seed),
        optimizer_kwargs={"lr": 0.01},
        custom_logger=logger.configure(format_strs=[]),
        **kwargs,
    )


@pytest.fixture(scope="module")
def cliff_expert():
    env = _cliff()
    _, _, pi = mce_irl.mce_partition_fh(env)
    _, om = mce_irl.mce_occupancy_measures(env, pi=pi)
    rng = np.random.default_rng(0)
    policy = mce_irl.TabularPolicy(
        state_space=env.state_space, action_space=env.action_space, pi=pi, rng=rng
    )
    venv = DummyVecEnv([lambda: base_envs.ExposePOMDPStateWrapper(_cliff())] * 4)
    venv.seed(0)
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(10), rng=rng
    )
    return env, om, list(trajs[:10])


def test_learns_cliff_world(cliff_expert):
    """300 iterations: an MLP reward recovers expert behaviour, a linear one can't.

    Returns are exact expectations (occupancy measure times true reward).
    """
    env, om, trajs = cliff_expert
    expert_return = om @ env.reward_matrix
    ratios = {}
    for name, demos, hid in (
        ("mlp_om", om, [256]),
        ("mlp_trajs", trajs, [256]),
        ("linear_om", om, []),
    ):
        learned_om = _mce(demos, env, hid).train(max_iter=300)
        assert learned_om.sum() == pytest.approx(env.horizon)
        ratios[name] = (learned_om @ env.reward_matrix) / expert_return
    assert ratios["mlp_om"] >= 0.98, ratios
    assert ratios["mlp_trajs"] >= 0.95, ratios
    assert ratios["linear_om"] < 0.5, ratios


def test_policy_matches_returned_occupancy(cliff_expert):
    env, om, _ = cliff_expert
    trainer = _mce(om, env, [32])
    learned_om = trainer.train(max_iter=20)
    pi = trainer.policy.pi  # type: ignore[attr-defined]
    np.testing.assert_allclose(
        mce_irl.mce_occupancy_measures(env, pi=pi)[1], learned_om
    )


def test_same_seed_same_result(cliff_expert):
    env, om, _ = cliff_expert
    a = _mce(om, env, [32], seed=3).train(max_iter=30)
    b = _mce(om, env, [32], seed=3).train(max_iter=30)
    np.testing.assert_array_equal(a, b)


def test_stops_at_linf_eps(cliff_expert):
    env, om, _ = cliff_expert
    trainer = _mce(om, env, [256], linf_eps=5.0)
    learned_om = trainer.train(max_iter=1000)
    assert np.abs(learned_om - om).max() <= 5.0


def test_logs_progress(cliff_expert, tmp_path):
    env, om, _ = cliff_expert
    th.manual_seed(0)
    custom = logger.configure(str(tmp_path), format_strs=["csv"])
    trainer = mce_irl.MCEIRL(
        om,
        env,
        _net(env, [8]),
        rng=np.random.default_rng(0),
        log_interval=5,
        custom_logger=custom,
    )
    trainer.train(max_iter=11)
    custom.close()
    text = (tmp_path / "progress.csv").read_text().splitlines()
    for key in ("grad_norm", "linf_delta", "weight_norm", "iteration"):
        assert key in text[0]
    assert len(text) == 1 + 3  # iterations 0, 5 and 10


def test_demonstration_forms_agree(cliff_expert):
    """Trajectories, transitions, batches and one-hot observations: same measure."""
    env, _, trajs = cliff_expert
    from_trajs = _mce(trajs, env, [8]).demo_state_om
    flat = rollout.flatten_trajectories(trajs)
    from_transitions = _mce(flat, env, [8]).demo_state_om
    batches = [
        {"obs": flat.obs[i : i + 100], "acts": flat.acts[i : i + 100]}
        for i in range(0, len(flat), 100)
    ]
    from_batches = _mce(batches, env, [8]).demo_state_om
    one_hot_env = _cliff(use_xy_obs=False)
    one_hot = [
        types.Trajectory(
            obs=one_hot_env.observation_matrix[t.obs],
            acts=t.acts,
            infos=None,
            terminal=True,
        )
        for t in trajs
    ]
    from_one_hot = _mce(one_hot, env, [8]).demo_state_om
    for om in (from_transitions, from_batches, from_one_hot):
        np.testing.assert_allclose(om, from_trajs)
    assert from_trajs.sum() == pytest.approx(40)
    # Discounted trajectories weight step t by discount**t.
    disc = _mce(trajs, env, [8], discount=0.9).demo_state_om
    assert disc.sum() == pytest.approx(sum(0.9**t for t in range(40)))


def test_bad_input(cliff_expert):
    env, om, trajs = cliff_expert
    infinite = _cliff(horizon=None)
    with pytest.raises(ValueError, match="finite horizon"):
        _mce(om, infinite, [8])
    with pytest.raises(ValueError, match="finite horizon"):
        mce_irl.mce_partition_fh(infinite)
    with pytest.raises(ValueError, match="finite horizon"):
        mce_irl.mce_occupancy_measures(infinite)
    flat = rollout.flatten_trajectories(trajs)
    with pytest.raises(ValueError, match="transitions carry no timesteps"):
        _mce(flat, env, [8], discount=0.9)
    xy = [
        types.Trajectory(
            obs=env.observation_matrix[t.obs], acts=t.acts, infos=None, terminal=True
        )
        for t in trajs
    ]
    with pytest.raises(ValueError, match="one-hot"):
        _mce(xy, env, [8])
    with pytest.raises(ValueError, match="horizon is 40"):
        _mce(
            [
                types.Trajectory(
                    obs=trajs[0].obs[:11],
                    acts=trajs[0].acts[:10],
                    infos=None,
                    terminal=True,
                )
            ],
            env,
            [8],
        )
    with pytest.raises(ValueError, match="shape"):
        _mce(om[:5], env, [8])
    with pytest.raises(ValueError, match="finite"):
        _mce(np.full_like(om, np.nan), env, [8])
    with pytest.raises(ValueError, match="discount"):
        _mce(om, env, [8], discount=0.0)
    with pytest.raises(ValueError, match="use_action=False"):
        mce_irl.MCEIRL(
            om,
            env,
            reward_nets.BasicRewardNet(env.observation_space, env.action_space),
            rng=np.random.default_rng(0),
        )
    with pytest.raises(ValueError, match="No demonstrations"):
        _mce(None, env, [8]).train()
    with pytest.raises(ValueError, match="empty"):
        _mce([], env, [8])


def test_int_rng_is_explained():
    env = _cliff(horizon=5)
    match = r"rng must be a numpy Generator, e\.g\. np\.random\.default_rng\(seed\)"
    with pytest.raises(TypeError, match=match):
        mce_irl.MCEIRL(None, env, _net(env, []), rng=0)
    with pytest.raises(TypeError, match=match):
        mce_irl.TabularPolicy(
            state_space=gym.spaces.Discrete(2),
            action_space=gym.spaces.Discrete(2),
            pi=np.full((1, 2, 2), 0.5),
            rng=0,
        )
