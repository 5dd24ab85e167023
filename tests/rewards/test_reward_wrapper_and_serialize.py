"""Tests for imitation.rewards.reward_wrapper and imitation.rewards.serialize."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.callbacks import BaseCallback

from imitation.rewards import reward_nets, serialize
from imitation.rewards.reward_wrapper import DeferredRewardCallback, RewardVecEnvWrapper
from imitation.util import networks
from imitation.util.util import make_vec_env


@pytest.fixture
def pendulum(rng):
    venv = make_vec_env("Pendulum-v1", n_envs=3, rng=rng)
    yield venv
    venv.close()


def test_wrapped_rewards_equal_net_and_keep_original(pendulum, rng):
    net = reward_nets.BasicRewardNet(
        pendulum.observation_space, pendulum.action_space, use_next_state=True
    )
    venv = RewardVecEnvWrapper(pendulum, net.predict_processed)
    obs = venv.reset()
    for _ in range(5):
        acts = rng.uniform(-2, 2, size=(3, 1)).astype(np.float32)
        next_obs, rews, dones, infos = venv.step(acts)
        np.testing.assert_allclose(
            rews, net.predict(obs, acts, next_obs, dones), rtol=1e-6
        )
        assert all(info["original_env_rew"] <= 0 for info in infos)
        obs = next_obs


def test_terminal_observation_used_at_episode_end(rng):
    venv = make_vec_env("Pendulum-v1", n_envs=2, rng=rng, max_episode_steps=3)
    seen = []

    def reward_fn(state, action, next_state, done):
        seen.append((next_state.copy(), done.copy()))
        return np.zeros(len(done))

    wrapped = RewardVecEnvWrapper(venv, reward_fn)
    wrapped.reset()
    for _ in range(3):
        _, _, dones, infos = wrapped.step(np.zeros((2, 1), np.float32))
    assert dones.all()
    final_next_state, _ = seen[-1]
    np.testing.assert_array_equal(final_next_state[0], infos[0]["terminal_observation"])
    assert len(wrapped.episode_rewards) == 2


def test_deferred_rewards_equal_per_step_rewards(pendulum):
    """Deferred steps return zeros; one batched call then gives every reward."""
    net = reward_nets.BasicRewardNet(
        pendulum.observation_space,
        pendulum.action_space,
        use_next_state=True,
        use_done=True,
    )

    def run(defer):
        venv = make_vec_env(
            "Pendulum-v1", n_envs=2, rng=np.random.default_rng(0), max_episode_steps=4
        )
        wrapped = RewardVecEnvWrapper(venv, net.predict_processed)
        wrapped.reset()
        wrapped.defer_rewards(defer)
        acts = np.random.default_rng(1).uniform(-2, 2, size=(6, 2, 1))
        rews = np.stack([wrapped.step(a.astype(np.float32))[1] for a in acts])
        if defer:
            assert not rews.any()
            rews = wrapped.compute_deferred_rewards()
            assert wrapped.deferring and len(wrapped.compute_deferred_rewards()) == 0
        return rews, list(wrapped.episode_rewards)

    (deferred, deferred_eps), (per_step, per_step_eps) = run(True), run(False)
    assert deferred.shape == (6, 2)
    # Float32 matmuls round differently for other batch sizes: allow that.
    np.testing.assert_allclose(deferred, per_step, rtol=1e-5, atol=1e-6)
    assert len(deferred_eps) == len(per_step_eps) == 2  # the 4-step episodes
    np.testing.assert_allclose(deferred_eps, per_step_eps, rtol=1e-5, atol=4e-6)


def test_deferred_rewards_need_deferring(pendulum):
    venv = RewardVecEnvWrapper(pendulum, lambda s, a, n, d: np.zeros(len(d)))
    with pytest.raises(RuntimeError, match="defer_rewards"):
        venv.compute_deferred_rewards()
    venv.defer_rewards()
    venv.defer_rewards(False)
    assert not venv.deferring


def test_wrong_reward_shape(pendulum):
    venv = RewardVecEnvWrapper(pendulum, lambda s, a, n, d: np.zeros((len(d), 2)))
    venv.reset()
    with pytest.raises(ValueError, match="one reward per env"):
        venv.step(np.zeros((3, 1), np.float32))


def test_log_callback_with_ppo(pendulum):
    net = reward_nets.BasicRewardNet(pendulum.observation_space, pendulum.action_space)
    venv = RewardVecEnvWrapper(pendulum, net.predict_processed)
    model = PPO(
        "MlpPolicy", venv, n_steps=200, batch_size=100, n_epochs=1, device="cpu"
    )
    model.learn(600, callback=venv.make_log_callback())
    assert len(venv.episode_rewards) == 0 or np.isfinite(venv.episode_rewards[0])


def _saved(tmp_path, net):
    path = tmp_path / "reward.pt"
    th.save(net, path)
    return path


def _batch(venv, n=6, seed=0):
    venv.observation_space.seed(seed)
    venv.action_space.seed(seed)
    obs = np.stack([venv.observation_space.sample() for _ in range(n)])
    acts = np.stack([venv.action_space.sample() for _ in range(n)])
    return obs, acts, obs, np.zeros(n, dtype=bool)


def test_load_reward_normalized_frozen_by_default(tmp_path, pendulum):
    base = reward_nets.BasicRewardNet(pendulum.observation_space, pendulum.action_space)
    net = reward_nets.NormalizedRewardNet(base, networks.RunningNorm)
    batch = _batch(pendulum)
    net.predict_processed(*batch)  # fit the statistics
    path = _saved(tmp_path, net)

    frozen = serialize.load_reward("RewardNet_normalized", path, pendulum)
    first = frozen(*batch)
    np.testing.assert_allclose(frozen(*batch), first)
    np.testing.assert_allclose(
        first, net.predict_processed(*batch, update_stats=False), rtol=1e-5
    )

    unnormalized = serialize.load_reward("RewardNet_unnormalized", path, pendulum)
    np.testing.assert_allclose(unnormalized(*batch), base.predict(*batch), rtol=1e-5)

    updating = serialize.load_reward(
        "RewardNet_normalized", path, pendulum, update_stats=True
    )
    updating(*_batch(pendulum, n=50, seed=1))  # statistics move to other data
    assert not np.allclose(updating(*batch), first)


def test_load_reward_unshaped(tmp_path, pendulum):
    net = reward_nets.BasicShapedRewardNet(
        pendulum.observation_space, pendulum.action_space
    )
    path = _saved(tmp_path, net)
    batch = _batch(pendulum)
    shaped = serialize.load_reward("RewardNet_normalized", path, pendulum)
    unshaped = serialize.load_reward("RewardNet_unshaped", path, pendulum)
    np.testing.assert_allclose(shaped(*batch), net.predict(*batch), rtol=1e-5)
    np.testing.assert_allclose(unshaped(*batch), net.base.predict(*batch), rtol=1e-5)


def test_load_reward_std_added(tmp_path, pendulum):
    obs_space, act_space = pendulum.observation_space, pendulum.action_space
    ens = reward_nets.RewardEnsemble(
        obs_space,
        act_space,
        [reward_nets.BasicRewardNet(obs_space, act_space) for _ in range(3)],
    )
    path = _saved(tmp_path, ens)
    batch = _batch(pendulum)
    fn = serialize.load_reward("RewardNet_std_added", path, pendulum, alpha=-1.0)
    mean, var = ens.predict_reward_moments(*batch)
    np.testing.assert_allclose(fn(*batch), mean - np.sqrt(var), rtol=1e-5)
    single = _saved(tmp_path, reward_nets.BasicRewardNet(obs_space, act_space))
    with pytest.raises(TypeError, match="RewardEnsemble"):
        serialize.load_reward("RewardNet_std_added", single, pendulum)


def test_load_reward_zero(pendulum):
    fn = serialize.load_reward("zero", "unused", pendulum)
    assert fn(*_batch(pendulum)).tolist() == [0.0] * 6


def test_load_reward_errors(tmp_path, pendulum, rng):
    with pytest.raises(FileNotFoundError):
        serialize.load_reward("RewardNet_normalized", tmp_path / "none.pt", pendulum)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(serialize.RewardLoadError):
        serialize.load_reward("RewardNet_normalized", tmp_path / "junk.pt", pendulum)
    th.save({"weights": th.zeros(3)}, tmp_path / "dict.pt")
    with pytest.raises(serialize.RewardLoadError, match="not a RewardNet"):
        serialize.load_reward("RewardNet_normalized", tmp_path / "dict.pt", pendulum)
    cartpole = make_vec_env("CartPole-v1", n_envs=1, rng=rng)
    net = reward_nets.BasicRewardNet(cartpole.observation_space, cartpole.action_space)
    with pytest.raises(ValueError, match="observation_space"):
        serialize.load_reward("RewardNet_normalized", _saved(tmp_path, net), pendulum)
    with pytest.raises(KeyError):
        serialize.load_reward("no-such", tmp_path / "dict.pt", pendulum)


def test_spec_snippet_partial_update_stats(pendulum):
    net = reward_nets.NormalizedRewardNet(
        reward_nets.BasicRewardNet(pendulum.observation_space, pendulum.action_space),
        normalize_output_layer=networks.RunningNorm,
    )
    eval_rew_fn = functools.partial(net.predict_processed, update_stats=False)
    eval_rew_fn(*_batch(pendulum))
    assert net.normalize_output_layer.count.item() == 0


def test_deferred_reward_callback_with_ppo(pendulum):
    """PPO learns through the callback; afterwards the wrapper rewards per step."""
    net = reward_nets.BasicRewardNet(pendulum.observation_space, pendulum.action_space)
    venv = RewardVecEnvWrapper(pendulum, net.predict_processed)
    model = PPO("MlpPolicy", venv, n_steps=100, batch_size=100, n_epochs=1)
    model.learn(900, callback=DeferredRewardCallback(venv))
    # 300 steps in each of 3 envs: the 200-step episodes ended and were logged;
    # the last rollout (steps 200-299) starts with a reset and holds no
    # truncation, so its rewards are the net's alone.
    assert len(venv.episode_rewards) == 3
    observations = model.rollout_buffer.observations.reshape(-1, 3)
    actions = np.clip(model.rollout_buffer.actions.reshape(-1, 1), -2, 2)
    expected = net.predict_processed(observations, actions, observations, np.zeros(300))
    # After training, SB3 has flattened the observations env by env.
    np.testing.assert_allclose(
        model.rollout_buffer.rewards.T.reshape(-1), expected, rtol=1e-5, atol=1e-6
    )
    assert not venv.deferring


def test_deferring_only_during_rollouts(pendulum):
    """The callback owns the switch: on while collecting, off for the update."""
    net = reward_nets.BasicRewardNet(pendulum.observation_space, pendulum.action_space)
    venv = RewardVecEnvWrapper(pendulum, net.predict_processed)
    seen = []

    class Watch(BaseCallback):
        def _on_step(self):
            seen.append(("step", venv.deferring))
            return True

        def _on_rollout_end(self):
            seen.append(("rollout_end", venv.deferring))

    model = PPO("MlpPolicy", venv, n_steps=50, batch_size=50, n_epochs=1)
    model.learn(300, callback=[DeferredRewardCallback(venv), Watch()])
    assert {flag for kind, flag in seen if kind == "step"} == {True}
    assert {flag for kind, flag in seen if kind == "rollout_end"} == {False}
    assert not venv.deferring


def test_deferred_reward_callback_needs_on_policy(pendulum):
    venv = RewardVecEnvWrapper(pendulum, lambda s, a, n, d: np.zeros(len(d)))
    model = SAC("MlpPolicy", venv, learning_starts=10)
    with pytest.raises(TypeError, match="on-policy"):
        model.learn(20, callback=DeferredRewardCallback(venv))


class _FixedMoments(reward_nets.RewardNetWithVariance):
    """A net reporting a known mean and variance for every transition."""

    def __init__(self, observation_space, action_space, mean=1.0, var=4.0):
        super().__init__(observation_space, action_space)
        self.mean, self.var = mean, var

    def forward(self, state, action, next_state, done):
        return th.full((len(done),), self.mean)

    def predict_reward_moments(self, state, action, next_state, done, **kwargs):
        n = len(done)
        return np.full(n, self.mean), np.full(n, self.var)


def test_reward_net_with_variance_in_add_std_wrapper(pendulum):
    net = _FixedMoments(pendulum.observation_space, pendulum.action_space)
    wrapped = reward_nets.AddSTDRewardWrapper(net, default_alpha=-0.5)
    batch = _batch(pendulum)
    np.testing.assert_allclose(wrapped.predict_processed(*batch), 1.0 - 0.5 * 2.0)
    assert isinstance(
        reward_nets.RewardEnsemble(
            pendulum.observation_space,
            pendulum.action_space,
            [_FixedMoments(pendulum.observation_space, pendulum.action_space)] * 2,
        ),
        reward_nets.RewardNetWithVariance,
    )
    with pytest.raises(TypeError, match="RewardNetWithVariance"):
        reward_nets.AddSTDRewardWrapper(
            reward_nets.BasicRewardNet(
                pendulum.observation_space, pendulum.action_space
            )
        )
    with pytest.raises(TypeError, match="abstract"):
        reward_nets.RewardNetWithVariance(
            pendulum.observation_space, pendulum.action_space
        )


def test_load_reward_std_added_any_variance_net(tmp_path, pendulum):
    net = _FixedMoments(pendulum.observation_space, pendulum.action_space, var=9.0)
    batch = _batch(pendulum)
    for saved in (net, reward_nets.AddSTDRewardWrapper(net, default_alpha=5.0)):
        fn = serialize.load_reward(
            "RewardNet_std_added", _saved(tmp_path, saved), pendulum, alpha=1.0
        )
        np.testing.assert_allclose(fn(*batch), 1.0 + 3.0)


def test_load_reward_std_added_names_the_accepted_structures(tmp_path, pendulum):
    shaped = reward_nets.BasicShapedRewardNet(
        pendulum.observation_space, pendulum.action_space
    )
    with pytest.raises(TypeError) as info:
        serialize.load_reward("RewardNet_std_added", _saved(tmp_path, shaped), pendulum)
    assert str(info.value) == (
        "RewardNet_std_added needs a saved AddSTDRewardWrapper(RewardNetWithVariance)"
        " or RewardNetWithVariance (e.g. a RewardEnsemble), got BasicShapedRewardNet."
    )


def test_load_zero_is_public(pendulum):
    fn = serialize.load_zero("ignored", pendulum)
    rews = fn(*_batch(pendulum, n=4))
    assert rews.dtype == np.float32 and rews.tolist() == [0.0] * 4
    assert serialize.reward_registry.get("zero") is serialize.load_zero


def test_validate_reward_fn_passes_good_rewards_through(pendulum):
    batch = _batch(pendulum, n=5)
    good = serialize.ValidateRewardFn(lambda s, a, n, d: np.arange(len(d), dtype=float))
    np.testing.assert_array_equal(good(*batch), np.arange(5))


@pytest.mark.parametrize(
    ("bad", "got"),
    [
        (lambda s, a, n, d: np.zeros((len(d), 1)), r"shape \(5, 1\)"),
        (lambda s, a, n, d: np.zeros(len(d) + 1), r"shape \(6,\)"),
        (lambda s, a, n, d: [0.0] * len(d), "list"),
    ],
)
def test_validate_reward_fn_refuses_bad_rewards(pendulum, bad, got):
    with pytest.raises(ValueError, match=rf"returned {got}; expected .* \(5,\)"):
        serialize.ValidateRewardFn(bad)(*_batch(pendulum, n=5))


def test_load_reward_returns_validated_function(tmp_path, pendulum):
    net = reward_nets.BasicRewardNet(pendulum.observation_space, pendulum.action_space)
    fn = serialize.load_reward("RewardNet_normalized", _saved(tmp_path, net), pendulum)
    assert isinstance(fn, serialize.ValidateRewardFn)
    assert serialize.WrapperPrefix == Sequence[type[reward_nets.RewardNet]]
