"""Each Stable-Baselines3 / torch internal imitation relies on, checked against them.

If one of these fails after an SB3 or torch upgrade, fix imitation.util.sb3_compat.
"""

from __future__ import annotations

import collections
import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN, PPO
from stable_baselines3.common import buffers, callbacks
from stable_baselines3.common import logger as sb3_logger
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnvWrapper, VecNormalize

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


def test_refuse_learn_shadows_only_learn():
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, seed=0)
    sb3_compat.refuse_learn(model, lambda: RuntimeError("acting only"))
    with pytest.raises(RuntimeError, match="acting only"):
        model.learn(16)
    model.predict(venv.reset())  # acting is unaffected
    other = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, seed=0)
    other.learn(16)  # and so are other instances


def test_update_learning_rate_follows_the_schedule_and_logs_it():
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    model = _linear_lr_ppo(venv)
    model.set_logger(sb3_logger.configure(format_strings=[]))
    model._current_progress_remaining = 0.25
    extra = th.optim.Adam([th.nn.Parameter(th.zeros(1))], lr=5.0)
    sb3_compat.update_learning_rate(model, [extra])
    assert extra.param_groups[0]["lr"] == pytest.approx(0.25e-3)
    assert model.logger.name_to_value["train/learning_rate"] == pytest.approx(0.25e-3)


class _RecordingDQN(DQN):
    """Records the SB3 extension points SoftDQN overrides, as SB3 calls them."""

    def __init__(self, *args, **kwargs):
        self.calls = collections.Counter()
        self.steps_trained = 0
        super().__init__(*args, **kwargs)

    def _setup_model(self):
        self.calls["_setup_model"] += 1
        super()._setup_model()
        self.extra_net = th.nn.Linear(2, 2)
        self.not_saved = object()

    def _on_step(self):
        self.calls["_on_step"] += 1
        super()._on_step()

    def _excluded_save_params(self):
        self.calls["_excluded_save_params"] += 1
        return [*super()._excluded_save_params(), "extra_net", "not_saved", "calls"]

    def _get_torch_save_params(self):
        self.calls["_get_torch_save_params"] += 1
        state_dicts, variables = super()._get_torch_save_params()
        return [*state_dicts, "extra_net"], variables

    def train(self, gradient_steps, batch_size=100):
        self.steps_trained += gradient_steps
        super().train(gradient_steps, batch_size)


def test_dqn_extension_points_and_counters(tmp_path):
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    model = _RecordingDQN(
        "MlpPolicy", venv, learning_starts=10, target_update_interval=4, seed=0
    )
    assert model.calls["_setup_model"] == 1
    model.learn(50)
    n_calls = sb3_compat.target_update_calls(model)
    assert model.calls["_on_step"] == n_calls == model.num_timesteps >= 50
    assert model.steps_trained > 0
    assert sb3_compat.count_updates(model, 0) == model.steps_trained
    assert sb3_compat.count_updates(model, 3) == model.steps_trained + 3
    model.save(tmp_path / "model.zip")
    assert model.calls["_excluded_save_params"] >= 1
    assert model.calls["_get_torch_save_params"] >= 1
    with zipfile.ZipFile(tmp_path / "model.zip") as archive:
        assert "extra_net.pth" in archive.namelist()
        data = sb3_compat.read_zip_data(archive)
    assert "not_saved" not in data and "extra_net" not in data


def test_policy_constructor_kwargs_rebuild_the_policy():
    venv = make_vec_env("Pendulum-v1", rng=np.random.default_rng(0), n_envs=1)
    policy = PPO("MlpPolicy", venv, policy_kwargs=dict(net_arch=[8, 4]), seed=0).policy
    kwargs = sb3_compat.policy_constructor_kwargs(policy)
    assert {"observation_space", "action_space", "lr_schedule", "net_arch"} <= set(
        kwargs
    )
    rebuilt = type(policy)(**kwargs)
    rebuilt.load_state_dict(policy.state_dict())  # same architecture
    obs = th.zeros((1, *venv.observation_space.shape))
    with th.no_grad():
        assert th.equal(rebuilt.predict_values(obs), policy.predict_values(obs))


def test_no_distribution_validation_restores_the_default():
    normal = th.distributions.Normal
    for default in (True, False):
        th.distributions.Distribution.set_default_validate_args(default)
        try:
            with sb3_compat.no_distribution_validation():
                normal(0.0, -1.0)  # an invalid scale goes unchecked
            if default:
                with pytest.raises(ValueError):
                    normal(0.0, -1.0)
            else:
                normal(0.0, -1.0)
        finally:
            th.distributions.Distribution.set_default_validate_args(True)


def test_model_zip_layout(tmp_path):
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    model = PPO("MlpPolicy", venv, seed=0)
    model.save(tmp_path / "model.zip")
    with zipfile.ZipFile(tmp_path / "model.zip") as archive:
        assert set(sb3_compat.SB3_ZIP_ENTRIES) <= set(archive.namelist())
        data = sb3_compat.read_zip_data(archive)
    raw = sb3_compat.pickled_entry(data["policy_class"])
    assert raw is not None and pickle.loads(raw) is type(model.policy)
    assert pickle.loads(sb3_compat.pickled_entry(data["observation_space"])) == (
        venv.observation_space
    )
    assert data["n_envs"] == 1 and sb3_compat.pickled_entry(data["n_envs"]) is None


def test_normalize_reward_is_sb3s():
    venv = VecNormalize(DummyVecEnv([lambda: CountingEnv(episode_len=5)]))
    venv.reset()
    for _ in range(20):
        venv.step(np.zeros(1, dtype=int))
    rewards = np.array([[1.0], [2.0]])
    normalised = sb3_compat.normalize_reward(rewards, venv)
    assert normalised.dtype == np.float32
    np.testing.assert_allclose(normalised, venv.normalize_reward(rewards), rtol=1e-6)
    assert sb3_compat.normalize_reward(rewards, None) is rewards


class _DoublingView(sb3_compat.ReplayBufferView):
    """Replays the inner buffer's transitions with their rewards doubled."""

    def __init__(self, buffer_size, observation_space, action_space, **kwargs):
        super().__init__(
            buffers.ReplayBuffer(buffer_size, observation_space, action_space, **kwargs)
        )
        self.processed = 0

    def process_samples(self, samples, env):
        self.processed += 1
        return samples._replace(rewards=samples.rewards * 2)


def test_replay_buffer_view_stands_in_for_the_buffer(tmp_path):
    """SB3 learns with the view, saves and loads it; every batch passes through it."""
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    model = DQN(
        "MlpPolicy",
        venv,
        learning_starts=10,
        buffer_size=40,
        optimize_memory_usage=True,
        replay_buffer_class=_DoublingView,
        replay_buffer_kwargs=dict(handle_timeout_termination=False),
        seed=0,
    )
    view = model.replay_buffer
    assert isinstance(view, _DoublingView)
    model.learn(60)  # wraps around the 40 transitions
    inner = view.replay_buffer
    assert view.full and inner.full and view.pos == inner.pos
    assert view.size() == inner.size() == 40 and view.observations is inner.observations
    assert view.processed > 0  # the learner's batches went through the view
    batch = view.sample(5)
    assert view.processed > 1 and batch.rewards.shape == (5, 1)
    at = sb3_compat.replay_samples(view, np.arange(3))
    np.testing.assert_allclose(
        at.rewards.numpy(), 2 * sb3_compat.replay_samples(inner, np.arange(3)).rewards
    )
    model.save_replay_buffer(tmp_path / "buffer.pkl")
    model.load_replay_buffer(tmp_path / "buffer.pkl")
    loaded = model.replay_buffer
    assert isinstance(loaded, _DoublingView) and loaded.size() == 40
    with pytest.warns(UserWarning, match="truncated"):
        model.learn(20, reset_num_timesteps=True)  # marks the last transition done
    # Nothing SB3 wrote landed on the view instead of the buffer it wraps.
    assert set(vars(loaded)) == {"replay_buffer", "processed"}


def test_torch_module_dicts_and_hooks():
    layer = th.nn.Linear(3, 2)
    mlp = th.nn.Sequential(layer, th.nn.ReLU())
    assert list(sb3_compat.child_modules(mlp)) == list(mlp.children())
    assert list(sb3_compat.own_parameters(layer)) == [layer.weight, layer.bias]
    modules, params, bufs = sb3_compat.module_dicts(layer)
    views = modules.values(), params.values(), bufs.values()
    before = [list(view) for view in views]
    # Registration edits the dicts in place: their live views show it.
    layer.weight = th.nn.Parameter(layer.weight.detach().clone())
    layer.bias = None
    layer.register_buffer("scale", th.ones(2))
    layer.extra = th.nn.Identity()
    after = [list(view) for view in views]
    assert after[1][0] is layer.weight and after[1][0] is not before[1][0]
    assert after[1][1] is None and list(sb3_compat.own_parameters(layer))[1] is None
    assert after[2][0] is layer.scale and after[0][0] is layer.extra
    assert sb3_compat.module_dicts(layer) == (modules, params, bufs)
    norm = th.nn.BatchNorm1d(2)
    assert any(
        b is norm.running_mean for b in sb3_compat.module_dicts(norm)[2].values()
    )
    # Hooks on a module, and on every module.
    assert not sb3_compat.forward_hooked(layer)
    hook_dicts = sb3_compat.forward_hook_dicts(layer)
    for register in (layer.register_forward_hook, layer.register_forward_pre_hook):
        handle = register(lambda *args: None)
        assert sb3_compat.forward_hooked(layer)
        assert any(handle.id in d for d in hook_dicts)  # added in place
        handle.remove()
        assert not sb3_compat.forward_hooked(layer) and not any(hook_dicts)
    layer.forward = lambda x: x
    assert sb3_compat.forward_hooked(layer)
    assert not sb3_compat.global_forward_hooks()
    for register in (
        th.nn.modules.module.register_module_forward_hook,
        th.nn.modules.module.register_module_forward_pre_hook,
    ):
        handle = register(lambda *args: None)
        assert sb3_compat.global_forward_hooks()
        handle.remove()
        assert not sb3_compat.global_forward_hooks()


_GLOBAL_STATE = """
import importlib, json, pkgutil, sys
import torch
from torch.nn.modules import module

def snapshot():
    hooks = {
        name: sorted(map(repr, value.values()))
        for name, value in sorted(vars(module).items())
        if name.startswith("_global_") and isinstance(value, dict)
    }
    safe = sorted(map(repr, torch.serialization.get_safe_globals()))
    return {"hooks": hooks, "safe_globals": safe}

before = snapshot()
import imitation
names = [m.name for m in pkgutil.walk_packages(imitation.__path__, "imitation.")]
for name in names:
    importlib.import_module(name)
json.dump({"before": before, "after": snapshot(), "n_modules": len(names)}, sys.stdout)
"""


def test_importing_imitation_leaves_torch_global_state_alone():
    """No module registers process-wide torch hooks or safe globals at import."""
    result = subprocess.run(
        [sys.executable, "-c", _GLOBAL_STATE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    state = json.loads(result.stdout)
    assert state["n_modules"] > 100
    assert state["before"]["hooks"]  # the snapshot sees torch's hook dicts
    assert state["after"] == state["before"]
