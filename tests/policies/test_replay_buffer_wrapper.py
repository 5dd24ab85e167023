"""Tests for imitation.policies.replay_buffer_wrapper."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN, SAC
from stable_baselines3.common.buffers import (
    DictReplayBuffer,
    NStepReplayBuffer,
    ReplayBuffer,
)
from stable_baselines3.common.vec_env import VecNormalize

from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.util.util import make_vec_env

OBS_SPACE = spaces.Box(-10.0, 10.0, shape=(2,), dtype=np.float32)
DISCRETE = spaces.Discrete(3)


def obs_reward(obs, acts, next_obs, dones):
    """Module-level (picklable) reward: depends on observations and dones."""
    return 10.0 * obs[:, 0] + next_obs[:, 1] + 100.0 * dones


def _fill(buffer, n_steps, n_envs=1, timeouts=False):
    """Add ``n_steps`` batches: obs = [step, env], next_obs = [step + 1, env]."""
    envs = np.arange(n_envs, dtype=np.float32)
    for t in range(n_steps):
        obs = np.stack([np.full(n_envs, t, dtype=np.float32), envs], axis=1)
        next_obs = obs + np.array([1.0, 0.0], dtype=np.float32)
        done = np.full(n_envs, t % 3 == 2)
        infos = [{"TimeLimit.truncated": timeouts and done[i]} for i in range(n_envs)]
        buffer.add(
            obs, next_obs, np.full(n_envs, t % 3), np.full(n_envs, -1.0), done, infos
        )


def _wrapper(reward_fn=obs_reward, **kwargs):
    kwargs.setdefault("replay_buffer_class", ReplayBuffer)
    return ReplayBufferRewardWrapper(
        100, OBS_SPACE, DISCRETE, reward_fn=reward_fn, device="cpu", **kwargs
    )


def _expected(batch):
    return th.as_tensor(
        obs_reward(
            batch.observations.numpy(),
            None,
            batch.next_observations.numpy(),
            batch.dones.numpy()[:, 0],
        )
    ).reshape(-1, 1)


def test_sample_relabels_rewards():
    buffer = _wrapper(n_envs=2)
    _fill(buffer, 10, n_envs=2)
    batch = buffer.sample(64)
    assert batch.rewards.shape == (64, 1)
    assert batch.rewards.dtype == th.float32 and batch.rewards.device.type == "cpu"
    th.testing.assert_close(batch.rewards, _expected(batch).float())
    # The stored rewards (-1) are never seen.
    assert (batch.rewards != -1).all()


def test_reward_fn_inputs():
    seen = {}

    def record(obs, acts, next_obs, dones):
        seen.update(obs=obs, acts=acts, next_obs=next_obs, dones=dones)
        return np.zeros(len(obs))

    buffer = _wrapper(record)
    _fill(buffer, 9)
    buffer.sample(16)
    assert isinstance(seen["obs"], np.ndarray) and seen["obs"].shape == (16, 2)
    np.testing.assert_array_equal(seen["next_obs"][:, 0], seen["obs"][:, 0] + 1)
    np.testing.assert_array_equal(seen["acts"][:, 0], seen["obs"][:, 0] % 3)
    assert seen["dones"].dtype == bool and seen["dones"].shape == (16,)
    np.testing.assert_array_equal(seen["dones"], seen["obs"][:, 0] % 3 == 2)


def test_timeouts_are_not_dones():
    buffer = _wrapper(handle_timeout_termination=True)
    _fill(buffer, 9, timeouts=True)
    batch = buffer.sample(32)
    assert (batch.dones == 0).all()
    th.testing.assert_close(batch.rewards, _expected(batch).float())


def test_forwards_buffer_state():
    buffer = _wrapper(n_envs=2)
    inner = buffer.replay_buffer
    assert buffer.buffer_size == inner.buffer_size == 50
    assert buffer.observation_space is OBS_SPACE and buffer.n_envs == 2
    assert buffer.device == th.device("cpu")
    _fill(buffer, 7, n_envs=2)
    assert buffer.pos == inner.pos == 7 and buffer.size() == 7 and not buffer.full
    assert buffer.observations is inner.observations
    buffer.pos = 3
    assert inner.pos == 3
    _fill(buffer, 50, n_envs=2)
    assert buffer.full and inner.full and buffer.size() == 50
    buffer.reset()
    assert buffer.pos == 0 and not buffer.full and buffer.size() == 0
    with pytest.raises(AttributeError):
        buffer.no_such_attribute  # noqa: B018


def test_dict_observations():
    space = spaces.Dict({"a": OBS_SPACE, "b": spaces.Box(0, 1, shape=(1,))})

    def reward_fn(obs, acts, next_obs, dones):
        return obs["a"][:, 0] + obs["b"][:, 0]

    buffer = ReplayBufferRewardWrapper(
        10,
        space,
        DISCRETE,
        replay_buffer_class=DictReplayBuffer,
        reward_fn=reward_fn,
    )
    for t in range(5):
        obs = {"a": np.full((1, 2), t, np.float32), "b": np.full((1, 1), 0.5)}
        buffer.add(obs, obs, np.zeros(1), np.zeros(1), np.zeros(1), [{}])
    batch = buffer.sample(8)
    assert isinstance(batch.observations, dict)
    expected = batch.observations["a"][:, :1] + batch.observations["b"]
    th.testing.assert_close(batch.rewards, expected)


def test_vec_normalize_semantics(make_counting_venv):
    seen = {}

    def reward_fn(obs, acts, next_obs, dones):
        seen["obs"] = obs
        return obs[:, 0]

    venv = VecNormalize(make_counting_venv([4, 6]), gamma=0.9)
    venv.reset()
    for _ in range(20):
        venv.step(np.zeros(2, dtype=np.int64))
    buffer = _wrapper(reward_fn, n_envs=2)
    _fill(buffer, 10, n_envs=2)
    batch = buffer.sample(32, env=venv)
    raw = seen["obs"]
    # reward_fn sees the stored, raw observations; the learner normalised ones.
    assert set(raw[:, 1]) <= {0.0, 1.0} and raw[:, 0].max() > 1
    np.testing.assert_allclose(batch.observations.numpy(), venv.normalize_obs(raw))
    expected = venv.normalize_reward(raw[:, 0]).reshape(-1, 1)
    np.testing.assert_allclose(batch.rewards.numpy(), expected, rtol=1e-6)
    assert not np.allclose(expected[:, 0], raw[:, 0])
    venv.close()


def test_box_actions_unscaled():
    seen = []
    box = spaces.Box(-2.0, 2.0, shape=(1,), dtype=np.float32)

    def reward_fn(obs, acts, next_obs, dones):
        seen.append(acts)
        return np.zeros(len(obs))

    for unscale, expected in [(True, 1.0), (False, 0.5)]:
        buffer = ReplayBufferRewardWrapper(
            10,
            OBS_SPACE,
            box,
            replay_buffer_class=ReplayBuffer,
            reward_fn=reward_fn,
            unscale_actions=unscale,
        )
        obs = np.zeros((1, 2), dtype=np.float32)
        buffer.add(obs, obs, np.array([[0.5]]), np.zeros(1), np.zeros(1), [{}])
        buffer.sample(4)
        np.testing.assert_allclose(seen[-1], expected)


def test_invalid_configurations():
    with pytest.raises(ValueError, match="n-step"):
        _wrapper(replay_buffer_class=NStepReplayBuffer)
    unbounded = spaces.Box(-np.inf, np.inf, shape=(1,))
    with pytest.raises(ValueError, match="unscale_actions=False"):
        ReplayBufferRewardWrapper(
            10,
            OBS_SPACE,
            unbounded,
            replay_buffer_class=ReplayBuffer,
            reward_fn=obs_reward,
        )
    buffer = _wrapper(lambda o, a, n, d: np.zeros((len(o), 1)))
    _fill(buffer, 3)
    with pytest.raises(ValueError, match="reward_fn returned shape"):
        buffer.sample(4)


def test_sac_end_to_end(rng):
    """SAC trains on relabelled rewards, computed on actions in env units."""
    calls = []

    def reward_fn(obs, acts, next_obs, dones):
        calls.append(acts)
        return -np.abs(acts[:, 0])

    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    model = SAC(
        "MlpPolicy",
        venv,
        buffer_size=1000,
        learning_starts=100,
        batch_size=32,
        policy_kwargs=dict(net_arch=[16]),
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs=dict(
            replay_buffer_class=ReplayBuffer, reward_fn=reward_fn
        ),
        device="cpu",
        seed=0,
    )
    model.learn(300)
    buffer = model.replay_buffer
    assert isinstance(buffer, ReplayBufferRewardWrapper)
    assert buffer.size() == buffer.pos == 300
    assert len(calls) == 200  # One sampled batch per gradient step.
    acts = np.concatenate(calls)
    # Pendulum's actions lie in [-2, 2]; SB3 stores them scaled to [-1, 1].
    assert np.abs(acts).max() <= 2.0 and np.abs(acts).max() > 1.0
    batch = buffer.sample(64)
    np.testing.assert_allclose(batch.rewards.numpy()[:, 0], -np.abs(calls[-1][:, 0]))
    venv.close()


def test_dqn_end_to_end_with_optimize_memory_and_save(rng, tmp_path):
    venv = make_vec_env("CartPole-v1", rng=rng, n_envs=2)
    model = DQN(
        "MlpPolicy",
        venv,
        buffer_size=1000,
        learning_starts=100,
        batch_size=32,
        policy_kwargs=dict(net_arch=[16]),
        optimize_memory_usage=True,
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs=dict(
            replay_buffer_class=ReplayBuffer,
            reward_fn=obs_reward,
            handle_timeout_termination=False,
        ),
        device="cpu",
        seed=0,
    )
    model.learn(300)
    # A second learn() truncates the last trajectory via `replay_buffer.dones`.
    with pytest.warns(UserWarning, match="truncated"):
        model.learn(20)
    assert model.replay_buffer.optimize_memory_usage
    batch = model.replay_buffer.sample(64)
    th.testing.assert_close(batch.rewards, _expected(batch).float())

    size = model.replay_buffer.size()
    model.save_replay_buffer(tmp_path / "buffer.pkl")
    model.replay_buffer = None
    model.load_replay_buffer(tmp_path / "buffer.pkl")
    loaded = model.replay_buffer
    assert isinstance(loaded, ReplayBufferRewardWrapper)
    assert loaded.size() == size > 150
    batch = loaded.sample(16)
    th.testing.assert_close(batch.rewards, _expected(batch).float())
    venv.close()
