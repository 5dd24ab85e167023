"""Reward networks: the documentation's snippets, run end to end.

Defines a custom reward net, replaces Pendulum's reward with a BasicRewardNet,
normalises it, saves it with ``th.save`` and loads it back with
``load_reward_net`` (the documentation's ``th.load(path)``: imitation does not
widen what ``torch.load`` accepts, see docs/security.md) and ``load_reward``.

Run: ``python examples/reward_networks.py`` (``--fast`` is accepted; it is
always fast).
"""

import argparse
import tempfile
from functools import partial

import numpy as np
import torch as th

from imitation.rewards.reward_nets import BasicRewardNet, NormalizedRewardNet, RewardNet
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper
from imitation.rewards.serialize import load_reward, load_reward_net
from imitation.util import util
from imitation.util.networks import RunningNorm

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true", help="accepted; always fast")
parser.parse_args()


# Reward network architecture: a custom reward net.
class MyRewardNet(RewardNet):
    def __init__(self, observation_space, action_space):
        super().__init__(observation_space, action_space)
        # initialize your custom reward network here

    def forward(
        self,
        state: th.Tensor,  # (batch_size, *obs_shape)
        action: th.Tensor,  # (batch_size, *action_shape)
        next_state: th.Tensor,  # (batch_size, *obs_shape)
        done: th.Tensor,  # (batch_size,)
    ) -> th.Tensor:
        # implement your custom reward network here
        return th.zeros_like(done)  # (batch_size,)


rng = np.random.default_rng(0)
env_for_spaces = util.make_vec_env("Pendulum-v1", n_envs=1, rng=rng)
obs_space, action_space = env_for_spaces.observation_space, env_for_spaces.action_space
print(
    "custom net rewards:",
    MyRewardNet(obs_space, action_space).predict(
        np.zeros((2, 3), np.float32),
        np.zeros((2, 1), np.float32),
        np.zeros((2, 3), np.float32),
        np.zeros(2, bool),
    ),
)

# Replace an environment's reward with a reward network.
reward_net = BasicRewardNet(obs_space, action_space)
venv = util.make_vec_env("Pendulum-v1", n_envs=3, rng=rng)
venv = RewardVecEnvWrapper(venv, reward_net.predict_processed)
venv.reset()
_, rews, _, infos = venv.step(np.zeros((3, 1), np.float32))
print("learned rewards:", rews, "original:", [i["original_env_rew"] for i in infos])

# Reward network wrappers: normalisation.
train_reward_net = NormalizedRewardNet(
    reward_net,
    normalize_output_layer=RunningNorm,
)
eval_rew_fn = partial(reward_net.predict_processed, update_stats=False)

# Serializing and deserializing reward networks.
with tempfile.TemporaryDirectory() as tmp:
    path = f"{tmp}/reward_net.pt"
    th.save(train_reward_net, path)
    # Loads the net, wrappers included, without unpickling code from the file.
    train_reward_net = load_reward_net(path)
    eval_rew_fn_normalized = load_reward(
        reward_type="RewardNet_normalized", reward_path=path, venv=venv
    )
    eval_rew_fn_unnormalized = load_reward(
        reward_type="RewardNet_unnormalized", reward_path=path, venv=venv
    )
    rew_fn_normalized = load_reward(
        reward_type="RewardNet_normalized",
        reward_path=path,
        venv=venv,
        update_stats=True,
    )
print(
    "loaded:",
    type(train_reward_net).__name__,
    "wrapping",
    type(train_reward_net.base).__name__,
)
