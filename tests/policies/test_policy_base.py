"""Tests for imitation.policies.base."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.policies import base
from imitation.util import networks
from imitation.util.util import make_vec_env


@pytest.fixture
def venv(rng):
    env = make_vec_env("CartPole-v1", rng=rng, n_envs=4)
    yield env
    env.close()


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


class _ParityPolicy(base.NonTrainablePolicy):
    """Acts on one observation at a time: action 1 if its first entry is > 0."""

    def __init__(self, observation_space, action_space):
        super().__init__(observation_space, action_space)
        self.seen = []

    def _choose_action(self, obs):
        self.seen.append(obs)
        first = obs["x"][0] if isinstance(obs, dict) else obs[0]
        return np.array(int(first > 0))


def test_non_trainable_policy_acts_per_observation(venv):
    policy = _ParityPolicy(venv.observation_space, venv.action_space)
    obs = np.array([[1.0, 0, 0, 0], [-1.0, 0, 0, 0], [2.0, 0, 0, 0]], np.float32)
    acts, state = policy.predict(obs)
    assert acts.tolist() == [1, 0, 1] and state is None
    assert [o.shape for o in policy.seen] == [(4,)] * 3  # One at a time, unbatched.
    single, _ = policy.predict(obs[1])  # An unbatched observation works too.
    assert single.shape == () and int(single) == 0
    mean, _ = evaluate_policy(policy, venv, n_eval_episodes=2)
    assert mean > 0


def test_non_trainable_policy_dict_observations():
    from gymnasium import spaces

    space = spaces.Dict({"x": spaces.Box(-5, 5, shape=(2,), dtype=np.float32)})
    policy = _ParityPolicy(space, spaces.Discrete(2))
    acts, _ = policy.predict({"x": np.array([[3, 0], [-3, 0]], np.float32)})
    assert acts.tolist() == [1, 0]
    assert policy.seen[0]["x"].shape == (2,)


def test_non_trainable_policy_is_abstract(venv):
    with pytest.raises(TypeError, match="abstract"):
        base.NonTrainablePolicy(venv.observation_space, venv.action_space)


@pytest.mark.parametrize("cls", [base.RandomPolicy, base.ZeroPolicy])
def test_hard_coded_policies_are_non_trainable(cls, venv):
    policy = cls(venv.observation_space, venv.action_space)
    assert isinstance(policy, base.NonTrainablePolicy)
    one = policy._choose_action(np.zeros(4, dtype=np.float32))
    assert one.shape == venv.action_space.shape
    assert venv.action_space.contains(one.item())


def test_feed_forward_32_policy_on_dict_observations():
    """FeedForward32Policy combines the keys (SB3's CombinedExtractor) itself."""
    import gymnasium as gym
    import torch as th
    from stable_baselines3.common.torch_layers import CombinedExtractor

    from imitation.policies.base import FeedForward32Policy

    space = gym.spaces.Dict(
        {"a": gym.spaces.Box(-1, 1, (2,)), "b": gym.spaces.Box(-1, 1, (3,))}
    )
    policy = FeedForward32Policy(space, gym.spaces.Discrete(2), lambda _: 1e-3)
    assert isinstance(policy.features_extractor, CombinedExtractor)
    obs = {"a": th.zeros(4, 2), "b": th.ones(4, 3)}
    actions, _, _ = policy(obs)
    assert actions.shape == (4,)
