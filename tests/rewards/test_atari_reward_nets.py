"""A CnnRewardNet on Atari frames, shaped by a PPO policy's value function.

The Atari preference-comparisons tutorial shapes the learned reward with the
agent's value function; :class:`ValuePotential` makes that shaped net savable.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack
from torch import nn

from imitation.rewards import persistence, reward_nets, serialize

# The spaces of Atari frames preprocessed as in the tutorial (84x84 grey, 4 stacked).
FRAMES = gym.spaces.Box(0, 255, shape=(84, 84, 4), dtype=np.uint8)
ACTIONS = gym.spaces.Discrete(6)


@pytest.fixture(scope="module")
def atari_venv():
    """Pong, preprocessed as in the tutorial: 84x84 grey frames, 4 stacked."""
    import ale_py

    gym.register_envs(ale_py)
    venv = VecFrameStack(
        DummyVecEnv([lambda: AtariWrapper(gym.make("PongNoFrameskip-v4"))]),
        n_stack=4,
    )
    venv.seed(0)
    yield venv
    venv.close()


@pytest.fixture(scope="module")
def transitions(atari_venv):
    """A batch of 6 real transitions (uint8 observations, channels last)."""
    rng = np.random.default_rng(0)
    obs = [atari_venv.reset()]
    acts, dones = [], []
    for _ in range(6):
        act = rng.integers(atari_venv.action_space.n, size=1)
        ob, _, done, _ = atari_venv.step(act)
        obs.append(ob)
        acts.append(act)
        dones.append(done)
    state = np.concatenate(obs[:-1])
    next_state = np.concatenate(obs[1:])
    return state, np.concatenate(acts), next_state, np.concatenate(dones)


def _agent(venv, **policy_kwargs) -> PPO:
    return PPO(
        "CnnPolicy",
        venv,
        seed=0,
        n_steps=16,
        batch_size=16,
        policy_kwargs=policy_kwargs,
    )


def _shaped(venv, agent) -> reward_nets.ShapedRewardNet:
    base = reward_nets.CnnRewardNet(venv.observation_space, venv.action_space)
    potential = reward_nets.ValuePotential.from_policy(agent.policy)
    return reward_nets.ShapedRewardNet(base, potential, discount_factor=0.99)


def test_value_potential_equals_policy_values(atari_venv, transitions):
    agent = _agent(atari_venv)
    net = _shaped(atari_venv, agent)
    state, act, next_state, done = transitions
    prep_state = net.preprocess(state, act, next_state, done)[0]
    with th.no_grad():
        potential = net.potential(prep_state)
        # What the tutorial's value_potential computes from raw frames.
        raw = th.as_tensor(state).permute(0, 3, 1, 2)
        expected = agent.policy.predict_values(raw).flatten()
    assert potential.shape == (6,)
    th.testing.assert_close(potential, expected, rtol=1e-5, atol=1e-5)
    # Shaping: r + gamma * (1 - done) * V(s') - V(s).
    with th.no_grad():
        base = net.base.predict_th(*transitions)
        next_v = net.potential(net.preprocess(*transitions)[2])
    shaped = base + 0.99 * (1 - th.as_tensor(done, dtype=th.float32)) * next_v
    th.testing.assert_close(
        net.predict_th(*transitions), shaped - potential, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("share_features_extractor", [True, False])
def test_shaped_cnn_reward_net_saves_and_reloads(
    atari_venv, transitions, tmp_path, share_features_extractor
):
    agent = _agent(atari_venv, share_features_extractor=share_features_extractor)
    net = _shaped(atari_venv, agent)
    path = tmp_path / "reward_net.pt"
    th.save(net, path)
    loaded = serialize.load_reward_net(path)  # torch's weights-only loader
    assert isinstance(loaded, reward_nets.ShapedRewardNet)
    assert isinstance(loaded.potential, reward_nets.ValuePotential)
    assert loaded.potential.policy.share_features_extractor is share_features_extractor
    np.testing.assert_array_equal(
        loaded.predict(*transitions), net.predict(*transitions)
    )
    # As a reward function, shaping kept or removed.
    shaped_fn = serialize.load_reward("RewardNet_normalized", path, atari_venv)
    unshaped_fn = serialize.load_reward("RewardNet_unshaped", path, atari_venv)
    np.testing.assert_array_equal(shaped_fn(*transitions), net.predict(*transitions))
    np.testing.assert_array_equal(
        unshaped_fn(*transitions), net.base.predict(*transitions)
    )


def test_potential_is_a_snapshot_of_the_policy(atari_venv, transitions):
    agent = _agent(atari_venv)
    net = _shaped(atari_venv, agent)
    before = net.predict(*transitions)
    with th.no_grad():
        for param in agent.policy.value_net.parameters():
            param.add_(1.0)
    np.testing.assert_array_equal(net.predict(*transitions), before)


def test_value_potential_of_a_vector_policy_round_trips(cartpole_venv, tmp_path):
    agent = PPO("MlpPolicy", cartpole_venv, seed=0, n_steps=16, batch_size=32)
    base = reward_nets.BasicRewardNet(
        cartpole_venv.observation_space, cartpole_venv.action_space
    )
    potential = reward_nets.ValuePotential.from_policy(agent.policy, hwc_format=False)
    net = reward_nets.ShapedRewardNet(base, potential, discount_factor=0.9)
    obs = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    batch = (obs, np.array([0, 1, 1, 0]), obs[::-1].copy(), np.zeros(4, dtype=bool))
    th.save(net, tmp_path / "net.pt")
    loaded = serialize.load_reward_net(tmp_path / "net.pt")
    np.testing.assert_array_equal(loaded.predict(*batch), net.predict(*batch))
    with pytest.raises(ValueError, match="hwc_format=False"):
        reward_nets.ValuePotential.from_policy(agent.policy)


def test_value_potential_needs_an_actor_critic_policy():
    with pytest.raises(ValueError, match="actor-critic policy class"):
        reward_nets.ValuePotential(FRAMES, ACTIONS, policy_class=nn.Linear)


def test_function_potential_gets_error_naming_value_potential(tmp_path):
    base = reward_nets.CnnRewardNet(FRAMES, ACTIONS)

    def value_potential(state):  # Like the tutorial's closure: cannot be saved.
        return state.flatten(1).mean(dim=1)

    net = reward_nets.ShapedRewardNet(base, value_potential, discount_factor=0.99)
    with pytest.raises(
        persistence.UnsavableModuleError, match=r"ValuePotential\.from_policy"
    ):
        th.save(net, tmp_path / "x.pt")


def test_plain_torch_module_potential_gets_error_naming_savable_module(tmp_path):
    base = reward_nets.CnnRewardNet(FRAMES, ACTIONS)
    potential = nn.Sequential(nn.Flatten(), nn.LazyLinear(1))
    net = reward_nets.ShapedRewardNet(base, potential, discount_factor=0.99)
    with pytest.raises(persistence.UnsavableModuleError, match="SavableModule"):
        th.save(net, tmp_path / "x.pt")


def test_own_savable_potential_module_round_trips(atari_venv, transitions, tmp_path):
    """The fix the error names: a torch module made savable by the mixin."""
    net = reward_nets.ShapedRewardNet(
        reward_nets.CnnRewardNet(atari_venv.observation_space, atari_venv.action_space),
        _MeanPixelPotential(scale=2.0),
        discount_factor=0.99,
    )
    th.save(net, tmp_path / "net.pt")
    loaded = serialize.load_reward_net(tmp_path / "net.pt")
    np.testing.assert_array_equal(
        loaded.predict(*transitions), net.predict(*transitions)
    )


class _MeanPixelPotential(persistence.SavableModule, nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(th.tensor(scale))

    def forward(self, state: th.Tensor) -> th.Tensor:
        return self.weight * state.flatten(1).mean(dim=1)
