"""Each Stable-Baselines3 internal imitation relies on, checked against SB3 itself.

If one of these fails after an SB3 upgrade, fix imitation.util.sb3_compat.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common import buffers, callbacks
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper

from imitation.testing.envs import CountingEnv
from imitation.util import sb3_compat
from imitation.util.util import make_vec_env


class _CountResets(VecEnvWrapper):
    def __init__(self, venv):
        super().__init__(venv)
        self.resets = 0

    def reset(self):
        self.resets += 1
        return self.venv.reset()

    def step_wait(self):
        return self.venv.step_wait()


def test_restart_episodes_on_next_learn():
    venv = _CountResets(DummyVecEnv([lambda: CountingEnv(episode_len=50)]))
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0)
    model.learn(16)
    resets = venv.resets
    model.learn(16, reset_num_timesteps=False)
    assert venv.resets == resets  # SB3 continues from its last observation...
    sb3_compat.restart_episodes_on_next_learn(model)
    model.learn(16, reset_num_timesteps=False)
    assert venv.resets == resets + 1  # ...unless told to restart


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_predict_actions_is_predict_before_unscaling(env_id):
    venv = make_vec_env(env_id, rng=np.random.default_rng(0), n_envs=2)
    policy = PPO("MlpPolicy", venv, seed=0).policy
    venv.observation_space.seed(0)
    obs = np.stack([venv.observation_space.sample() for _ in range(16)])
    with th.no_grad():
        raw = sb3_compat.predict_actions(policy, th.as_tensor(obs), True).numpy()
    want, _ = policy.predict(obs, deterministic=True)
    if isinstance(venv.action_space, spaces.Box):
        raw = np.clip(raw, venv.action_space.low, venv.action_space.high)
    np.testing.assert_allclose(raw.reshape(want.shape), want, rtol=1e-6)


def test_replay_samples_at_indices():
    obs_space = spaces.Box(-10, 10, shape=(2,))
    buffer = buffers.ReplayBuffer(8, obs_space, spaces.Discrete(3), device="cpu")
    for i in range(8):
        buffer.add(
            np.full((1, 2), i, np.float32),
            np.full((1, 2), i + 1, np.float32),
            np.array([i % 3]),
            np.array([float(i)]),
            np.array([i == 7]),
            [{}],
        )
    samples = sb3_compat.replay_samples(buffer, np.array([2, 5]))
    assert samples.observations[:, 0].tolist() == [2.0, 5.0]
    assert samples.next_observations[:, 0].tolist() == [3.0, 6.0]
    assert samples.rewards.reshape(-1).tolist() == [2.0, 5.0]
    assert samples.actions.reshape(-1).tolist() == [2, 2]


def test_rollout_end_values_recompute_the_buffer():
    """Recomputing returns from these values reproduces SB3's own computation."""
    seen = {}

    class Check(callbacks.BaseCallback):
        def _on_step(self):
            return True

        def _on_rollout_end(self):
            values, dones = sb3_compat.rollout_end_values(self)
            assert isinstance(values, th.Tensor) and values.shape == (2, 1)
            assert np.asarray(dones).shape == (2,)
            rb = self.model.rollout_buffer
            before = rb.returns.copy(), rb.advantages.copy()
            rb.compute_returns_and_advantage(last_values=values, dones=dones)
            seen["equal"] = np.array_equal(before[0], rb.returns) and np.array_equal(
                before[1], rb.advantages
            )

    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=2)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0)
    model.learn(64, callback=Check())
    assert seen["equal"]


def _linear_lr_ppo(venv, n_steps=16):
    return PPO(
        "MlpPolicy",
        venv,
        n_steps=n_steps,
        batch_size=n_steps,
        n_epochs=1,
        seed=0,
        learning_rate=lambda progress: 1e-3 * progress,
    )


def test_run_progress_spans_learn_calls():
    venv = DummyVecEnv([lambda: CountingEnv(episode_len=50)])
    model = _linear_lr_ppo(venv)
    model.learn(16)
    model.learn(16, reset_num_timesteps=False)
    # SB3 alone: each learn call ends its schedules at progress 0.
    assert model._current_progress_remaining == 0.0
    run = sb3_compat.RunProgress(model, 64)
    for remaining in (0.75, 0.5, 0.25, 0.0):
        with run.learning():
            model.learn(16, reset_num_timesteps=False)
        assert model._current_progress_remaining == pytest.approx(remaining)
        lr = model.policy.optimizer.param_groups[0]["lr"]
        assert lr == pytest.approx(1e-3 * remaining)
        # Outside learning() the algorithm is SB3's own again.
        assert "_update_current_progress_remaining" not in vars(model)
    with pytest.raises(ValueError, match="positive"):
        sb3_compat.RunProgress(model, 0)
