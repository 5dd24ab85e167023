"""Tests for policy wrappers (exploration, replay buffer, interactive) and base."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.data import rollout
from imitation.policies import base, interactive
from imitation.policies.exploration_wrapper import ExplorationWrapper
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.util import networks
from imitation.util.util import make_vec_env


@pytest.fixture
def venv(rng):
    env = make_vec_env("CartPole-v1", rng=rng, n_envs=4)
    yield env
    env.close()


def _always(action):
    return lambda obs, state, ep: (np.full(len(obs), action, dtype=np.int64), state)


@pytest.mark.parametrize(("random_prob", "expected"), [(0.0, 0.0), (1.0, 0.5)])
def test_exploration_extremes(venv, rng, random_prob, expected):
    wrapper = ExplorationWrapper(_always(0), venv, random_prob, 0.5, rng)
    obs = np.zeros((4, 4), dtype=np.float32)
    acts = np.concatenate([wrapper(obs, None, None)[0] for _ in range(500)])
    # Random actions are 1 half of the time; the wrapped policy always says 0.
    assert np.mean(acts) == pytest.approx(expected, abs=0.05)


def test_exploration_mixture_and_reproducibility(venv):
    def run(seed):
        wrapper = ExplorationWrapper(
            _always(0), venv, 0.5, 0.1, np.random.default_rng(seed)
        )
        obs = np.zeros((4, 4), dtype=np.float32)
        return np.stack([wrapper(obs, None, None)[0] for _ in range(400)])

    acts = run(0)
    # Half the envs-steps random (half of those 1): about 1/4 ones.
    assert np.mean(acts) == pytest.approx(0.25, abs=0.08)
    np.testing.assert_array_equal(acts, run(0))


def test_exploration_validates(venv, rng):
    with pytest.raises(ValueError, match="random_prob"):
        ExplorationWrapper(None, venv, 1.5, 0.1, rng)
    with pytest.raises(ValueError, match="switch_prob"):
        ExplorationWrapper(None, venv, 0.5, -0.1, rng)


def test_exploration_in_rollout(venv, rng):
    wrapper = ExplorationWrapper(_always(0), venv, 0.5, 0.5, rng)
    trajs = rollout.generate_trajectories(
        wrapper, venv, rollout.make_min_episodes(4), rng=rng
    )
    assert len(trajs) >= 4


def _reward_fn(obs, acts, next_obs, dones):
    return obs[:, 0] * 10.0


@pytest.mark.parametrize("algo", [SAC, DQN])
def test_replay_buffer_wrapper_relabels(algo, rng):
    env_id = "Pendulum-v1" if algo is SAC else "CartPole-v1"
    env = make_vec_env(env_id, rng=rng, n_envs=1)
    model = algo(
        "MlpPolicy",
        env,
        learning_starts=50,
        buffer_size=1000,
        policy_kwargs=dict(net_arch=[8]),
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs=dict(
            replay_buffer_class=ReplayBuffer, reward_fn=_reward_fn
        ),
        device="cpu",
        seed=0,
    )
    model.learn(200)
    buffer = model.replay_buffer
    assert isinstance(buffer, ReplayBufferRewardWrapper)
    assert buffer.size() == 200 and buffer.pos == 200
    batch = buffer.sample(32)
    expected = 10.0 * batch.observations[:, 0:1]
    assert th.allclose(batch.rewards, expected)


def test_replay_buffer_wrapper_bad_reward_shape(rng):
    env = make_vec_env("CartPole-v1", rng=rng, n_envs=1)
    buffer = ReplayBufferRewardWrapper(
        10,
        env.observation_space,
        env.action_space,
        replay_buffer_class=ReplayBuffer,
        reward_fn=lambda o, a, n, d: np.zeros((len(o), 2)),
    )
    obs = np.zeros((1, 4), dtype=np.float32)
    buffer.add(obs, obs, np.zeros(1), np.zeros(1), np.zeros(1), [{}])
    with pytest.raises(ValueError, match="reward_fn returned shape"):
        buffer.sample(4)


def test_interactive_policy_reads_keys():
    answers = iter(["x", " d ", "a"])
    prompts = []

    def fake_input(prompt):
        prompts.append(prompt)
        return next(answers)

    space = gym.spaces.Box(-1, 1, shape=(2,))
    policy = interactive.DiscreteInteractivePolicy(
        space,
        gym.spaces.Discrete(2),
        {"a": "left", "d": "right"},
        clear_screen_on_query=False,
        input_fn=fake_input,
    )
    obs = np.zeros((1, 2), dtype=np.float32)
    assert policy.predict(obs)[0].tolist() == [1]  # "x" rejected, then "d"
    assert policy.predict(obs)[0].tolist() == [0]
    assert "[a] left" in prompts[0]
    with pytest.raises(ValueError, match="n_envs=1"):
        policy.predict(np.zeros((2, 2), dtype=np.float32))


def test_interactive_policy_validates():
    space = gym.spaces.Box(-1, 1, shape=(2,))
    with pytest.raises(ValueError, match="Discrete"):
        interactive.DiscreteInteractivePolicy(space, space, {"a": "x"})
    with pytest.raises(ValueError, match="2 actions"):
        interactive.DiscreteInteractivePolicy(space, gym.spaces.Discrete(2), {"a": "x"})


def test_image_interactive_policy():
    shown = []
    space = gym.spaces.Box(0, 255, shape=(3, 8, 8), dtype=np.uint8)
    policy = interactive.ImageObsDiscreteInteractivePolicy(
        space,
        gym.spaces.Discrete(3),
        {"1": "a", "2": "b", "3": "c"},
        clear_screen_on_query=False,
        input_fn=lambda _: "3",
        show_fn=shown.append,
    )
    acts, _ = policy.predict(np.zeros((1, 3, 8, 8), dtype=np.uint8))
    assert acts.tolist() == [2]
    assert shown[0].shape == (8, 8, 3)
    with pytest.raises(ValueError, match="image"):
        interactive.ImageObsDiscreteInteractivePolicy(
            gym.spaces.Box(0, 1, shape=(4,)), gym.spaces.Discrete(1), {"a": "x"}
        )


def test_feedforward32_and_normalize_extractor(venv):
    model = PPO(
        base.FeedForward32Policy,
        venv,
        n_steps=32,
        batch_size=32,
        n_epochs=1,
        policy_kwargs=dict(
            features_extractor_class=base.NormalizeFeaturesExtractor,
            features_extractor_kwargs=dict(normalize_class=networks.RunningNorm),
        ),
        device="cpu",
    )
    model.learn(64)
    sizes = [
        m.out_features
        for m in model.policy.mlp_extractor.policy_net
        if hasattr(m, "out_features")
    ]
    assert sizes == [32, 32]
    norm = model.policy.features_extractor.normalize
    assert isinstance(norm, networks.RunningNorm) and norm.count.item() > 0


def test_sac1024_policy(rng):
    env = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    model = SAC(base.SAC1024Policy, env, learning_starts=10, device="cpu")
    model.learn(12)
    assert model.policy.actor.latent_pi[0].out_features == 1024


@pytest.mark.parametrize("cls", [base.RandomPolicy, base.ZeroPolicy])
def test_hard_coded_policies_in_sb3_tools(cls, venv):
    policy = cls(venv.observation_space, venv.action_space)
    mean, _ = evaluate_policy(policy, venv, n_eval_episodes=2)
    assert mean > 0
    acts, _ = policy.predict(np.zeros((3, 4), dtype=np.float32))
    assert acts.shape == (3,)


def test_random_policy_reproducible(venv):
    def sample(seed):
        policy = base.RandomPolicy(
            venv.observation_space, venv.action_space, rng=np.random.default_rng(seed)
        )
        return policy.predict(np.zeros((50, 4), dtype=np.float32))[0]

    np.testing.assert_array_equal(sample(1), sample(1))
    assert set(sample(1).tolist()) == {0, 1}
