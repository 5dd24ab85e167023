"""Tests for imitation.policies.exploration_wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from imitation.data import rollout
from imitation.policies import base
from imitation.policies.exploration_wrapper import ExplorationWrapper
from imitation.util.util import make_vec_env

N_ENVS = 8


@pytest.fixture
def venv(make_counting_venv):
    """Eight CountingEnvs (Discrete(3) actions; obs [t, last_action])."""
    env = make_counting_venv([5] * N_ENVS)
    yield env
    env.close()


def _always_zero(obs, state, episode_start):
    return np.zeros(len(obs), dtype=np.int64), state


def _obs():
    return np.zeros((N_ENVS, 2), dtype=np.float32)


@pytest.mark.parametrize("name", ["random_prob", "switch_prob"])
@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_probabilities_validated(venv, rng, name, bad):
    probs = {"random_prob": 0.5, "switch_prob": 0.5, name: bad}
    with pytest.raises(ValueError, match=name):
        ExplorationWrapper(_always_zero, venv, rng=rng, **probs)


def test_random_prob_zero_is_the_policy(venv, rng):
    wrapper = ExplorationWrapper(_always_zero, venv, 0.0, 1.0, rng)
    for _ in range(20):
        acts, _ = wrapper(_obs(), None, np.ones(N_ENVS, dtype=bool))
        assert not wrapper.is_random.any()
        np.testing.assert_array_equal(acts, 0)


def test_random_prob_one_is_uniform(venv, rng):
    wrapper = ExplorationWrapper(_always_zero, venv, 1.0, 0.3, rng)
    acts = np.concatenate([wrapper(_obs(), None, None)[0] for _ in range(300)])
    assert wrapper.is_random.all()
    counts = np.bincount(acts, minlength=3) / len(acts)
    np.testing.assert_allclose(counts, 1 / 3, atol=0.04)


def test_actions_follow_modes(venv, rng):
    wrapper = ExplorationWrapper(_always_zero, venv, 0.5, 0.2, rng)
    random_acts = []
    for _ in range(300):
        acts, _ = wrapper(_obs(), None, None)
        np.testing.assert_array_equal(acts[~wrapper.is_random], 0)
        random_acts.append(acts[wrapper.is_random])
    random_acts = np.concatenate(random_acts)
    # Random envs act uniformly over the three actions.
    assert np.mean(random_acts != 0) == pytest.approx(2 / 3, abs=0.05)


def test_switching_statistics(venv, rng):
    random_prob, switch_prob = 0.3, 0.2
    wrapper = ExplorationWrapper(_always_zero, venv, random_prob, switch_prob, rng)
    masks = []
    for _ in range(600):
        wrapper(_obs(), None, None)
        masks.append(wrapper.is_random)
    masks = np.array(masks)
    assert masks.mean() == pytest.approx(random_prob, abs=0.05)
    # A mode changes when it is chosen again and the other mode comes up.
    p_change = switch_prob * 2 * random_prob * (1 - random_prob)
    assert np.mean(masks[1:] != masks[:-1]) == pytest.approx(p_change, abs=0.02)


def test_modes_chosen_at_episode_start_only_without_switching(venv, rng):
    wrapper = ExplorationWrapper(_always_zero, venv, 0.5, 0.0, rng)
    first = wrapper.is_random.copy()
    for _ in range(50):
        wrapper(_obs(), None, np.zeros(N_ENVS, dtype=bool))
        np.testing.assert_array_equal(wrapper.is_random, first)
    starting = np.arange(N_ENVS) < N_ENVS // 2
    seen = []
    for _ in range(50):
        wrapper(_obs(), None, starting)
        np.testing.assert_array_equal(wrapper.is_random[~starting], first[~starting])
        seen.append(wrapper.is_random[starting])
    assert 0.2 < np.mean(seen) < 0.8


@pytest.mark.parametrize("policy", [_always_zero, None])
def test_reproducible_from_rng(venv, policy):
    def run(seed):
        wrapper = ExplorationWrapper(
            policy, venv, 0.5, 0.3, np.random.default_rng(seed)
        )
        return np.stack([wrapper(_obs(), None, None)[0] for _ in range(50)])

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_state_passes_through(venv, rng):
    def counting_policy(obs, state, episode_start):
        return np.zeros(len(obs), dtype=np.int64), state + 1

    wrapper = ExplorationWrapper(counting_policy, venv, 1.0, 0.5, rng)
    state = 0
    for _ in range(5):
        _, state = wrapper(_obs(), state, None)
    assert state == 5


def test_box_actions(rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=4)

    def zeros(obs, state, episode_start):
        return np.zeros((len(obs), 1), dtype=np.float32), state

    wrapper = ExplorationWrapper(zeros, venv, 1.0, 0.5, rng)
    acts, _ = wrapper(venv.reset(), None, np.ones(4, dtype=bool))
    assert acts.shape == (4, 1) and acts.dtype == np.float32
    assert np.all(np.abs(acts) <= 2.0) and np.all(acts != 0)
    venv.close()


def test_in_generate_trajectories(venv, rng):
    policy = base.ZeroPolicy(venv.observation_space, venv.action_space)
    wrapper = ExplorationWrapper(policy, venv, 0.5, 0.5, rng, deterministic_policy=True)
    trajs = rollout.generate_trajectories(
        wrapper, venv, rollout.make_min_episodes(16), rng=rng
    )
    acts = np.concatenate([t.acts for t in trajs])
    # CountingEnv echoes each action in the next observation.
    for traj in trajs:
        np.testing.assert_array_equal(traj.obs[1:, 1], traj.acts)
    assert 0 < np.mean(acts != 0) < 2 / 3


def test_current_policy_acts_in_the_current_modes(venv, rng):
    wrapper = ExplorationWrapper(_always_zero, venv, 0.5, 0.2, rng)
    for _ in range(20):
        wrapper(_obs(), None, None)
        modes = wrapper.is_random.copy()
        policy = wrapper.current_policy
        for _ in range(5):
            acts, state = policy(_obs(), None, None)
            assert state is None
            np.testing.assert_array_equal(wrapper.is_random, modes)  # kept
            np.testing.assert_array_equal(acts[~modes], 0)
    all_policy = ExplorationWrapper(_always_zero, venv, 0.0, 0.5, rng)
    acts, _ = all_policy.current_policy(_obs(), None, None)
    np.testing.assert_array_equal(acts, 0)
    all_random = ExplorationWrapper(_always_zero, venv, 1.0, 0.5, rng)
    acts = np.concatenate(
        [all_random.current_policy(_obs(), None, None)[0] for _ in range(50)]
    )
    assert set(acts.tolist()) == {0, 1, 2}
