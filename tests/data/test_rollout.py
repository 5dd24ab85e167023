"""Tests for imitation.data.rollout."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.data import rollout, types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.util.util import make_vec_env


def test_make_sample_until_validates():
    with pytest.raises(ValueError, match="min_timesteps, min_episodes"):
        rollout.make_sample_until()
    with pytest.raises(ValueError, match="min_episodes must be positive"):
        rollout.make_sample_until(min_episodes=0)
    with pytest.raises(ValueError, match="min_timesteps must be positive"):
        rollout.make_min_timesteps(-3)


def _traj(n: int) -> types.TrajectoryWithRew:
    return types.TrajectoryWithRew(
        obs=np.zeros((n + 1, 1)),
        acts=np.zeros(n, dtype=np.int64),
        infos=None,
        terminal=True,
        rews=np.zeros(n),
    )


def test_sample_until_conditions():
    both = rollout.make_sample_until(min_timesteps=10, min_episodes=2)
    assert not both([_traj(20)])
    assert not both([_traj(3), _traj(3)])
    assert both([_traj(5), _traj(5)])
    assert rollout.make_min_episodes(2)([_traj(1), _traj(1)])
    assert not rollout.make_min_timesteps(5)([_traj(4)])


def test_random_rollout_seals_fixed_horizon(cartpole_venv, rng):
    trajs = rollout.rollout(None, cartpole_venv, rollout.make_min_episodes(3), rng=rng)
    assert len(trajs) >= 3
    for t in trajs:
        assert isinstance(t, types.TrajectoryWithRew)
        assert len(t) == 500
        assert t.obs.shape == (501, 4)
        assert t.infos is None
        # seals ends episodes by truncation only: not a terminal state.
        assert not t.terminal


def test_trajectories_match_env(make_counting_venv, rng):
    venv = make_counting_venv([3, 5])
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(4), rng=rng
    )
    for t in trajs:
        n = len(t)
        assert n in (3, 5)
        np.testing.assert_array_equal(t.obs[:, 0], np.arange(n + 1))
        # Observation column 1 records the previous action.
        np.testing.assert_array_equal(t.obs[1:, 1], t.acts)
        np.testing.assert_array_equal(t.rews, np.arange(1, n + 1))
        assert t.terminal
        assert len(t.infos) == n


def test_no_bias_towards_short_episodes(make_counting_venv, rng):
    # Env 0 finishes 3 episodes before env 1 finishes its first; the long
    # in-progress episode must still be collected.
    venv = make_counting_venv([1, 20])
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(3), rng=rng
    )
    lengths = sorted(len(t) for t in trajs)
    assert lengths[-1] == 20
    assert lengths.count(1) == 3


def test_dict_observations(make_counting_venv, rng):
    venv = make_counting_venv([4, 4], dict_obs=True)
    trajs = rollout.rollout(None, venv, rollout.make_min_episodes(2), rng=rng)
    for t in trajs:
        assert isinstance(t.obs, types.DictObs)
        assert len(t.obs) == 5
        np.testing.assert_array_equal(t.obs.get("t")[:, 0], np.arange(5))
    flat = rollout.flatten_trajectories(trajs)
    assert len(flat) == 8
    np.testing.assert_array_equal(
        flat.next_obs.get("t")[:, 0], np.tile(np.arange(1, 5), 2)
    )


def test_unwrap_restores_original_obs_and_rews(rng):
    # A reward wrapper added after RolloutInfoWrapper changes what the policy
    # sees; unwrap must restore the original rewards.
    venv = make_vec_env(
        "CartPole-v1",
        rng=rng,
        n_envs=2,
        post_wrappers=[
            lambda env, _: RolloutInfoWrapper(env),
            lambda env, _: gym.wrappers.TransformReward(env, lambda r: 10 * r),
        ],
    )
    wrapped = rollout.rollout(
        None, venv, rollout.make_min_episodes(3), rng=rng, unwrap=False
    )
    assert all(np.all(t.rews == 10.0) for t in wrapped)
    unwrapped = rollout.rollout(None, venv, rollout.make_min_episodes(3), rng=rng)
    assert all(np.all(t.rews == 1.0) for t in unwrapped)


def test_unwrap_without_wrapper_is_explained(rng):
    venv = make_vec_env("CartPole-v1", rng=rng, n_envs=1)
    with pytest.raises(ValueError, match="RolloutInfoWrapper"):
        rollout.rollout(None, venv, rollout.make_min_episodes(1), rng=rng)


def test_exclude_infos_false_keeps_infos(cartpole_venv, rng):
    trajs = rollout.rollout(
        None,
        cartpole_venv,
        rollout.make_min_episodes(1),
        rng=rng,
        exclude_infos=False,
    )
    assert all(t.infos is not None and len(t.infos) == len(t) for t in trajs)
    assert "rollout" in trajs[0].infos[-1]


def test_terminal_observation_is_final_obs(rng):
    venv = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(2), rng=rng
    )
    for t in trajs:
        assert t.terminal
        np.testing.assert_array_equal(t.obs[-1], t.infos[-1]["terminal_observation"])


@pytest.mark.parametrize("kind", ["algorithm", "policy", "callable", "none"])
def test_policy_kinds(kind, cartpole_venv, rng):
    model = PPO("MlpPolicy", cartpole_venv, seed=0, n_steps=64, device="cpu")
    policy = {
        "algorithm": model,
        "policy": model.policy,
        "callable": lambda obs, state, ep: (np.zeros(len(obs), dtype=np.int64), None),
        "none": None,
    }[kind]
    trajs = rollout.generate_trajectories(
        policy, cartpole_venv, rollout.make_min_timesteps(600), rng=rng
    )
    assert sum(len(t) for t in trajs) >= 600
    if kind == "callable":
        assert all(np.all(t.acts == 0) for t in trajs)


def test_deterministic_matches_predict(cartpole_venv, rng):
    model = PPO("MlpPolicy", cartpole_venv, seed=0, device="cpu")
    trajs = rollout.generate_trajectories(
        model,
        cartpole_venv,
        rollout.make_min_episodes(2),
        rng=rng,
        deterministic_policy=True,
    )
    t = trajs[0]
    expected, _ = model.predict(t.obs[:-1], deterministic=True)
    np.testing.assert_array_equal(t.acts, expected)


def test_box_actions_are_clipped(rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=2)
    model = PPO("MlpPolicy", venv, seed=0, device="cpu")
    trajs = rollout.generate_trajectories(
        model, venv, rollout.make_min_episodes(2), rng=rng
    )
    acts = np.concatenate([t.acts for t in trajs])
    assert acts.shape[1:] == (1,)
    assert np.all(np.abs(acts) <= 2.0)


def test_space_mismatch_raises(rng, cartpole_venv):
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    model = PPO("MlpPolicy", pendulum, device="cpu")
    with pytest.raises(ValueError, match="observation_space"):
        rollout.generate_trajectories(
            model.policy, cartpole_venv, rollout.make_min_episodes(1), rng=rng
        )


def test_bad_policy_type(cartpole_venv, rng):
    with pytest.raises(TypeError, match="policy must be"):
        rollout.generate_trajectories(
            42, cartpole_venv, rollout.make_min_episodes(1), rng=rng
        )


def test_same_seed_same_trajectories():
    def collect(seed):
        rng = np.random.default_rng(seed)
        venv = make_vec_env("CartPole-v1", rng=rng, n_envs=2)
        model = PPO("MlpPolicy", venv, seed=seed, device="cpu")
        return rollout.generate_trajectories(
            model, venv, rollout.make_min_episodes(4), rng=rng
        )

    assert collect(3) == collect(3)


def test_rollout_stats_with_monitor(tmp_path, rng):
    venv = make_vec_env(
        "CartPole-v1",
        rng=rng,
        n_envs=2,
        log_dir=str(tmp_path),
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(3), rng=rng
    )
    stats = rollout.rollout_stats(trajs)
    assert stats["n_traj"] == len(trajs)
    assert stats["monitor_return_len"] == len(trajs)
    returns = [t.rews.sum() for t in trajs]
    assert stats["return_mean"] == pytest.approx(np.mean(returns))
    assert stats["monitor_return_mean"] == pytest.approx(np.mean(returns))
    assert stats["len_max"] == max(len(t) for t in trajs)
    assert sorted(p.name for p in (tmp_path / "monitor").iterdir()) == [
        "mon000.monitor.csv",
        "mon001.monitor.csv",
    ]


def test_rollout_stats_empty():
    with pytest.raises(ValueError, match="at least one"):
        rollout.rollout_stats([])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-10, 10), min_size=0, max_size=20),
    st.floats(0.0, 1.0),
)
def test_discounted_sum(values, gamma):
    arr = np.array(values, dtype=np.float64)
    expected = sum(v * gamma**t for t, v in enumerate(values))
    assert rollout.discounted_sum(arr, gamma) == pytest.approx(expected, abs=1e-9)


def test_discounted_sum_multidim():
    arr = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(
        rollout.discounted_sum(arr, 0.5), arr[0] + 0.5 * arr[1] + 0.25 * arr[2]
    )


def test_flatten_trajectories(make_counting_venv, rng):
    venv = make_counting_venv([2, 3])
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(2), rng=rng
    )
    flat = rollout.flatten_trajectories_with_rew(trajs)
    n = sum(len(t) for t in trajs)
    assert len(flat) == n
    assert flat.dones.sum() == len(trajs)
    np.testing.assert_array_equal(flat.next_obs[:, 0], flat.obs[:, 0] + 1)
    np.testing.assert_array_equal(flat.rews, flat.next_obs[:, 0])
    with pytest.raises(ValueError, match="empty"):
        rollout.flatten_trajectories([])


def _traj(n=3, obs_step=(2,), obs_dtype=np.float64, act_step=(), dict_obs=False):
    obs = np.zeros((n + 1, *obs_step), dtype=obs_dtype)
    return types.TrajectoryWithRew(
        obs=types.DictObs({"pos": obs}) if dict_obs else obs,
        acts=np.zeros((n, *act_step)),
        infos=None,
        terminal=True,
        rews=np.zeros(n),
    )


@pytest.mark.parametrize(
    ("odd_one", "match"),
    [
        (
            _traj(obs_step=(3,)),
            r"different obs: trajectory 2 has per-step shape \(3,\) and dtype "
            r"float64, but trajectory 0 has per-step shape \(2,\) and dtype float64",
        ),
        (
            _traj(obs_dtype=np.float32),
            r"different obs: trajectory 2 has per-step shape \(2,\) and dtype "
            r"float32, but trajectory 0 has per-step shape \(2,\) and dtype float64",
        ),
        (
            _traj(act_step=(1,)),
            r"different acts: trajectory 2 has per-step shape \(1,\) and dtype "
            r"float64, but trajectory 0 has per-step shape \(\) and dtype float64",
        ),
        (
            _traj(dict_obs=True),
            r"different obs: trajectory 2 has dict observations \{'pos': per-step "
            r"shape \(2,\) .*but trajectory 0 has per-step shape \(2,\)",
        ),
    ],
    ids=["obs shape", "obs dtype", "acts shape", "dict obs"],
)
def test_flatten_refuses_mixed_trajectories(odd_one, match):
    trajs = [_traj(), _traj(5), odd_one, _traj()]
    for flatten in (
        rollout.flatten_trajectories,
        rollout.flatten_trajectories_with_rew,
    ):
        with pytest.raises(ValueError, match=f"{match}.*same observation and action"):
            flatten(trajs)


def test_flatten_refuses_mixed_dict_observations():
    trajs = [_traj(dict_obs=True), _traj(dict_obs=True, obs_step=(2, 2))]
    with pytest.raises(
        ValueError, match=r"trajectory 1 .*'pos': per-step shape \(2, 2\)"
    ):
        rollout.flatten_trajectories(trajs)


def test_generate_trajectories_checks_venv_and_rng(make_counting_venv, rng):
    venv = make_counting_venv([2])
    sample_until = rollout.make_min_episodes(1)
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator.*default_rng"):
        rollout.generate_trajectories(None, venv, sample_until, rng=0)
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator"):
        rollout.rollout(None, venv, sample_until, rng=np.random.RandomState(0))
    env = gym.make("CartPole-v1")
    with pytest.raises(TypeError, match=r"venv must be a vectorised.*DummyVecEnv"):
        rollout.generate_trajectories(None, env, sample_until, rng=rng)


@pytest.mark.parametrize("truncate", [True, False])
def test_generate_transitions(make_counting_venv, rng, truncate):
    venv = make_counting_venv([3, 5])
    trans = rollout.generate_transitions(None, venv, 7, rng, truncate=truncate)
    assert isinstance(trans, types.TransitionsWithRew)
    if truncate:
        assert len(trans) == 7
    else:
        assert len(trans) >= 7
    # Rewards count the steps of each episode (CountingEnv), so each
    # transition's reward is its next observation's step count.
    np.testing.assert_array_equal(trans.rews, trans.next_obs[:, 0])
    assert trans.dones.dtype == bool


def test_generate_transitions_validates(make_counting_venv, rng):
    venv = make_counting_venv([3])
    with pytest.raises(ValueError, match="min_timesteps must be positive"):
        rollout.generate_transitions(None, venv, 0, rng)
    with pytest.raises(TypeError, match="numpy Generator"):
        rollout.generate_transitions(None, venv, 3, 0)


def test_flatten_accepts_any_iterable(make_counting_venv, rng):
    trajs = rollout.generate_trajectories(
        None, make_counting_venv([3, 4]), rollout.make_min_episodes(2), rng=rng
    )
    from_list = rollout.flatten_trajectories_with_rew(list(trajs))
    from_generator = rollout.flatten_trajectories_with_rew(t for t in trajs)
    assert from_generator == from_list
    assert rollout.flatten_trajectories(iter(trajs)) == (
        rollout.flatten_trajectories(trajs)
    )
