"""Tutorial: learn a reward function from preference comparisons on Atari.

Reproduces the documentation's "Learning a Reward Function using Preference
Comparisons on Atari": a CNN policy and a ``CnnRewardNet`` on Asteroids frames
(SB3's ``AtariWrapper``, 4 frames stacked, constant-length episodes), trained
from synthetic preferences; then the learned reward, shaped by the agent's
value function, is saved, loaded back, and a fresh learner is trained on it
alone and evaluated with the game score. As in the documentation, the budget
is tiny (a demonstration, not a proficient agent); see docs/atari.md.

Needs the Atari extra (``pip install imitation[atari]``); the game ROMs come
with ``ale-py``, nothing is downloaded.

Run: ``python examples/preference_comparisons_atari.py`` (``--fast`` for an
even smaller budget).
"""

import argparse
import pathlib
import tempfile

import ale_py
import gymnasium as gym
import numpy as np
import torch as th
from gymnasium.wrappers import TimeLimit
from seals.util import AutoResetWrapper
from stable_baselines3 import PPO
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecFrameStack
from stable_baselines3.ppo import CnnPolicy

from imitation.algorithms import preference_comparisons
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.rewards.reward_nets import CnnRewardNet, ShapedRewardNet, ValuePotential
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper
from imitation.rewards.serialize import load_reward_net

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

gym.register_envs(ale_py)  # Registers the ALE's environment ids with gymnasium.
device = th.device("cuda" if th.cuda.is_available() else "cpu")
rng = np.random.default_rng(0)


# Constant-length episodes: the game resets itself when it ends, and an
# "episode" is the first `num_steps` steps. For real training, use a much
# longer time limit.
def constant_length_asteroids(num_steps: int) -> gym.Env:
    atari_env = gym.make("AsteroidsNoFrameskip-v4")
    preprocessed_env = AtariWrapper(atari_env)  # 84x84 grey frames, 4 frames a step
    endless_env = AutoResetWrapper(preprocessed_env)
    limited_env = TimeLimit(endless_env, max_episode_steps=num_steps)
    return RolloutInfoWrapper(limited_env)


# For real training, use 8 environments in parallel (n_envs=8).
venv = make_vec_env(
    constant_length_asteroids,
    env_kwargs={"num_steps": 50 if FAST else 100},
    seed=1,
)
venv = VecFrameStack(venv, n_stack=4)

# The default CNN convolves the full 84x84 frames; --fast strides over them.
cnn_kwargs = dict(hid_channels=(16, 16), stride=2, padding=0) if FAST else {}
reward_net = CnnRewardNet(venv.observation_space, venv.action_space, **cnn_kwargs).to(
    device
)

fragmenter = preference_comparisons.RandomFragmenter(warning_threshold=0, rng=rng)
gatherer = preference_comparisons.SyntheticGatherer(rng=rng)
preference_model = preference_comparisons.PreferenceModel(reward_net)
reward_trainer = preference_comparisons.BasicRewardTrainer(
    preference_model=preference_model,
    loss=preference_comparisons.CrossEntropyRewardLoss(),
    epochs=3,
    rng=rng,
)

agent = PPO(
    policy=CnnPolicy,
    env=venv,
    seed=0,
    n_steps=16,  # To train on Atari well, set this to 128
    batch_size=16,  # To train on Atari well, set this to 256
    ent_coef=0.01,
    learning_rate=0.00025,
    n_epochs=4,
)

trajectory_generator = preference_comparisons.AgentTrainer(
    algorithm=agent,
    reward_fn=reward_net,
    venv=venv,
    exploration_frac=0.0,
    rng=rng,
)

pref_comparisons = preference_comparisons.PreferenceComparisons(
    trajectory_generator,
    reward_net,
    num_iterations=2,
    fragmenter=fragmenter,
    preference_gatherer=gatherer,
    reward_trainer=reward_trainer,
    fragment_length=10,
    transition_oversampling=1,
    initial_comparison_frac=0.1,
    allow_variable_horizon=False,
    initial_epoch_multiplier=1,
)

# Train the reward model (and the agent on it).
result = pref_comparisons.train(
    total_timesteps=16,
    total_comparisons=15,
)
print(result)

# Shape the learned reward with the agent's value function: a potential
# phi(s) = V(s) rewards moving to high-value states, which makes the reward
# more informative for RL. ValuePotential holds a copy of the agent's policy
# as a network, so the shaped net can be saved and loaded like any reward
# net. (For real training, also normalise the reward: NormalizedRewardNet,
# and pass update_stats=False to predict_processed when evaluating.)
shaped_reward_net = ShapedRewardNet(
    base=reward_net,
    potential=ValuePotential.from_policy(agent.policy),
    discount_factor=0.99,
)

with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / "shaped_reward_net.pt"
    th.save(shaped_reward_net, path)
    loaded_reward_net = load_reward_net(path, device=device)

# The reloaded net gives the same rewards.
obs = venv.reset()
acts = np.array([venv.action_space.sample()])
next_obs, _, dones, _ = venv.step(acts)
np.testing.assert_allclose(
    loaded_reward_net.predict_processed(obs, acts, next_obs, dones),
    shaped_reward_net.predict_processed(obs, acts, next_obs, dones),
    rtol=1e-6,
)

learned_reward_venv = RewardVecEnvWrapper(venv, loaded_reward_net.predict_processed)

# Train a fresh agent that sees only the shaped, learned reward.
learner = PPO(
    policy=CnnPolicy,
    env=learned_reward_venv,
    seed=0,
    batch_size=64,
    ent_coef=0.0,
    learning_rate=0.0003,
    n_epochs=2 if FAST else 10,
    n_steps=64,
)
learner.learn(64 if FAST else 1000)

# Evaluate the learner with the game's own score.
reward, _ = evaluate_policy(learner.policy, venv, 1 if FAST else 10)
print(f"Game score per episode: {reward}")

# Generate rollouts in the learner's own environment: learner.get_env()
# transposes the frames to channels first for the CNN.
rollouts = rollout.rollout(
    learner,
    learner.get_env(),
    rollout.make_sample_until(min_timesteps=None, min_episodes=1 if FAST else 3),
    rng=rng,
)
print(f"Collected {len(rollouts)} rollouts of {len(rollouts[0])} steps each.")
