"""Tests for imitation.algorithms.learner_on_reward."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common import callbacks
from stable_baselines3.common.buffers import ReplayBuffer

from imitation.algorithms import preference_comparisons as pc
from imitation.algorithms.learner_on_reward import LearnerOnReward
from imitation.data import rollout
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.rewards.reward_nets import BasicRewardNet
from imitation.rewards.reward_wrapper import DeferredRewardCallback
from imitation.util import logger, sb3_compat, util


def _quiet():
    return logger.configure(format_strs=[])


def _pendulum(seed=0):
    return util.make_vec_env("Pendulum-v1", rng=np.random.default_rng(seed), n_envs=1)


def _sac(venv, **kwargs):
    return SAC(
        "MlpPolicy",
        venv,
        learning_starts=50,
        batch_size=32,
        policy_kwargs=dict(net_arch=[16]),
        device="cpu",
        seed=0,
        **kwargs,
    )


def _stored_rewards(sac, net):
    """Every stored transition as the learner sees it, and ``net``'s reward of it."""
    buffer = sac.replay_buffer
    assert buffer.n_envs == 1
    seen = sb3_compat.replay_samples(buffer, np.arange(buffer.size()))
    expected = net.predict_processed(
        seen.observations.numpy(),
        sac.policy.unscale_action(seen.actions.numpy()),
        seen.next_observations.numpy(),
        seen.dones.numpy().reshape(-1).astype(bool),
    )
    return seen.rewards.numpy().reshape(-1), expected


def _change(net):
    """A reward-model update: every weight moves."""
    with th.no_grad():
        for p in net.parameters():
            p.add_(th.randn_like(p))


def test_replayed_transitions_carry_the_current_reward():
    th.manual_seed(0)
    venv = _pendulum()
    net = BasicRewardNet(venv.observation_space, venv.action_space)
    sac = _sac(venv)
    learner = LearnerOnReward(sac, venv, net.predict_processed, _quiet())
    learner.learn(100)
    learner.learn(100)
    n = sac.replay_buffer.size()
    assert n == sac.num_timesteps >= 200  # the phases add up to one run
    stored_before = sac.replay_buffer.rewards[:n, 0].copy()
    _change(net)
    seen, expected = _stored_rewards(sac, net)
    assert len(seen) == n
    np.testing.assert_allclose(seen, expected, rtol=1e-5, atol=1e-6)
    # What the buffer holds was computed by the reward before the update.
    assert not np.allclose(stored_before, expected, atol=1e-3)


def test_a_used_off_policy_learner_keeps_its_transitions_relabelled():
    th.manual_seed(0)
    venv = _pendulum()
    net = BasicRewardNet(venv.observation_space, venv.action_space)
    sac = _sac(venv)
    sac.learn(60)  # on the environment's reward
    inner = sac.replay_buffer
    LearnerOnReward(sac, venv, net.predict_processed, _quiet())
    assert isinstance(sac.replay_buffer, ReplayBufferRewardWrapper)
    assert sac.replay_buffer.replay_buffer is inner and inner.size() == 60
    seen, expected = _stored_rewards(sac, net)
    np.testing.assert_allclose(seen, expected, rtol=1e-5, atol=1e-6)


def test_relabelling_choices():
    venv = _pendulum()
    net = BasicRewardNet(venv.observation_space, venv.action_space)
    # A buffer that already relabels, with a reward its builder chose, stays.
    chosen = _sac(
        venv,
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs=dict(
            replay_buffer_class=ReplayBuffer, reward_fn=net.predict
        ),
    )
    buffer = chosen.replay_buffer
    LearnerOnReward(chosen, venv, net.predict_processed, _quiet())
    assert chosen.replay_buffer is buffer and buffer.reward_fn == net.predict
    # A fixed reward may be left alone, and the environment's always is.
    for reward_fn, relabel in ((net.predict_processed, False), (None, True)):
        sac = _sac(venv)
        plain = sac.replay_buffer
        LearnerOnReward(sac, venv, reward_fn, _quiet(), relabel=relabel)
        assert sac.replay_buffer is plain
    with pytest.raises(ValueError, match="Cannot relabel the rewards of a NStep"):
        LearnerOnReward(_sac(venv, n_steps=3), venv, net.predict_processed, _quiet())


def test_environment_callbacks_and_logging():
    venv = util.make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=2)
    net = BasicRewardNet(venv.observation_space, venv.action_space)
    ppo = PPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0)
    custom_logger = _quiet()
    learner = LearnerOnReward(
        ppo,
        venv,
        net.predict_processed,
        custom_logger,
        log_name="agent",
        defer_rewards=True,
    )
    assert ppo.get_env() is learner.venv_wrapped
    assert learner.venv_wrapped.venv is venv
    assert ppo.logger is custom_logger
    assert isinstance(learner.callback, callbacks.CallbackList)
    assert learner.callback.callbacks[0] is learner.log_callback
    assert isinstance(learner.callback.callbacks[1], DeferredRewardCallback)

    class Count(callbacks.BaseCallback):
        def _on_step(self):
            return True

    extra = Count()
    learner.learn(32, callback=extra)
    assert extra.n_calls == 16  # the caller's callback runs besides the own ones
    assert any(key.startswith("mean/agent/") for key in custom_logger.name_to_value)
    # Off-policy learners need no deferred rewards; the env's reward no callback.
    dqn = DQN("MlpPolicy", venv, device="cpu")
    off_policy = LearnerOnReward(
        dqn, venv, net.predict_processed, _quiet(), defer_rewards=True
    )
    assert off_policy.callback is off_policy.log_callback
    on_truth = LearnerOnReward(PPO("MlpPolicy", venv), venv, None, _quiet())
    assert on_truth.venv_wrapped is venv and on_truth.callback is None


def test_training_run_spans_phases():
    venv = util.make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    ppo = PPO(
        "MlpPolicy",
        venv,
        n_steps=16,
        batch_size=16,
        n_epochs=1,
        seed=0,
        learning_rate=lambda progress: 1e-3 * progress,
    )
    learner = LearnerOnReward(ppo, venv, None, _quiet())
    with learner.training_run(64):
        for remaining in (0.75, 0.5, 0.25, 0.0):
            learner.learn(16)
            lr = ppo.policy.optimizer.param_groups[0]["lr"]
            assert lr == pytest.approx(1e-3 * remaining)
    learner.learn(16)  # outside the run: a learn call of its own
    assert ppo.policy.optimizer.param_groups[0]["lr"] == pytest.approx(0.0)


def test_restart_episodes():
    venv = util.make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    ppo = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0)
    learner = LearnerOnReward(ppo, venv, None, _quiet())
    learner.learn(16)
    with mock.patch.object(venv, "reset", wraps=venv.reset) as reset:
        learner.learn(16)
        assert reset.call_count == 0  # the learner continues its episodes...
        learner.restart_episodes()
        learner.learn(16)
        assert reset.call_count == 1  # ...unless told to start afresh


def test_preference_comparisons_with_sac_relabels_after_reward_updates():
    """SAC's replayed rewards follow the reward model through the whole loop."""
    th.manual_seed(0)
    rng = np.random.default_rng(0)
    venv = _pendulum()
    net = BasicRewardNet(venv.observation_space, venv.action_space)
    sac = _sac(venv)
    generator = pc.AgentTrainer(sac, net, venv, rng=rng, custom_logger=_quiet())
    reward_trainer = pc.BasicRewardTrainer(
        pc.PreferenceModel(net), pc.CrossEntropyRewardLoss(), rng=rng, epochs=2
    )
    trainer = pc.PreferenceComparisons(
        generator,
        net,
        num_iterations=2,
        fragmenter=pc.RandomFragmenter(rng=rng, warning_threshold=0),
        preference_gatherer=pc.SyntheticGatherer(rng=rng),
        reward_trainer=reward_trainer,
        fragment_length=10,
        initial_epoch_multiplier=2,
        custom_logger=_quiet(),
    )
    trainer.train(total_timesteps=200, total_comparisons=20, progress_bar=False)
    n = sac.replay_buffer.size()
    assert n >= 200
    stored_before = sac.replay_buffer.rewards[:n, 0].copy()
    # One more reward-model update, as the next iteration would make.
    pairs = pc.RandomFragmenter(rng=rng, warning_threshold=0)(
        rollout.generate_trajectories(
            sac, venv, rollout.make_min_timesteps(200), rng=rng
        ),
        10,
        10,
    )
    trainer.dataset.push(pairs, pc.SyntheticGatherer(rng=rng)(pairs))
    reward_trainer.train(trainer.dataset)
    seen, expected = _stored_rewards(sac, net)
    np.testing.assert_allclose(seen, expected, rtol=1e-5, atol=1e-6)
    # Without relabelling SAC would replay the rewards of earlier models.
    assert not np.allclose(stored_before, expected, atol=1e-4)
