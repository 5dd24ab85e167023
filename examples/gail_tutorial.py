"""Tutorial: train an agent with Generative Adversarial Imitation Learning.

Reproduces the documentation's GAIL tutorial on ``seals/CartPole-v0``. The
only change: instead of downloading ``HumanCompatibleAI/ppo-seals-CartPole-v0``
from the HuggingFace Hub, the expert bundled with imitation is loaded (the
same kind of PPO policy). The full run trains for the tutorial's 200,000 env
steps (about a minute here) and should end near the expert's 500.

Run: ``python examples/gail_tutorial.py`` (``--fast`` for a single round).
"""

import argparse

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.ppo import MlpPolicy

from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.rewards.reward_nets import BasicRewardNet
from imitation.util import presets
from imitation.util.networks import RunningNorm
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

SEED = 42

env = make_vec_env(
    "seals:seals/CartPole-v0",
    rng=np.random.default_rng(SEED),
    n_envs=8,
    post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],  # to compute rollouts
)
# Stand-in for load_policy("ppo-huggingface", organization="HumanCompatibleAI", ...).
expert = load_policy("bundled", venv=env, env_name="seals-CartPole-v0")

rollouts = rollout.rollout(
    expert,
    env,
    rollout.make_sample_until(min_timesteps=None, min_episodes=60),
    rng=np.random.default_rng(SEED),
)

# The tutorial's settings (imitation.util.presets): PPO with batch_size=64,
# ent_coef=0.0, learning_rate=4e-4, gamma=0.95, n_epochs=5.
learner = PPO(env=env, policy=MlpPolicy, seed=SEED, **presets.GAIL_CARTPOLE_PPO)
reward_net = BasicRewardNet(
    observation_space=env.observation_space,
    action_space=env.action_space,
    normalize_input_layer=RunningNorm,
)
# demo_batch_size=1024, gen_replay_buffer_capacity=512, n_disc_updates_per_round=8
gail_trainer = GAIL(
    demonstrations=rollouts,
    **presets.GAIL_CARTPOLE_TRAINER,
    venv=env,
    gen_algo=learner,
    reward_net=reward_net,
)

# Evaluate the learner before training ...
env.seed(SEED)
learner_rewards_before_training, _ = evaluate_policy(
    learner, env, 10 if FAST else 100, return_episode_rewards=True
)

# ... train it ...
gail_trainer.train(20_000 if FAST else 200_000)

# ... and evaluate it again.
env.seed(SEED)
learner_rewards_after_training, _ = evaluate_policy(
    learner, env, 10 if FAST else 100, return_episode_rewards=True
)
print(
    "Rewards before training:",
    np.mean(learner_rewards_before_training),
    "+/-",
    np.std(learner_rewards_before_training),
)
print(
    "Rewards after training:",
    np.mean(learner_rewards_after_training),
    "+/-",
    np.std(learner_rewards_after_training),
)
