"""Tutorial: learn a reward function using kernel density estimation.

Reproduces the documentation's density-based reward modelling example and
its Pendulum tutorial. Two stand-ins for downloads: the expert is the
Pendulum-v1 PPO expert bundled with imitation (instead of
``load_policy("ppo-huggingface", ...)``), and the example's saved rollouts
(``tests/testdata/.../final.npz``) are sampled from it and saved locally first.

Run: ``python examples/density_tutorial.py`` (``--fast`` for a tiny budget).
"""

import argparse
import pprint

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.algorithms import density as db
from imitation.data import rollout, serialize
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.util import util

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast
# PPO collects n_steps per env before each update, whatever the budget.
N_STEPS = 64 if FAST else 2048

# --- The API documentation's example -----------------------------------------
rng = np.random.default_rng(0)
env = util.make_vec_env("Pendulum-v1", rng=rng, n_envs=2)

# Stand-in for the repository's saved expert rollouts.
rollout_env = util.make_vec_env(
    "Pendulum-v1",
    rng=rng,
    n_envs=2,
    post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
)
bundled_expert = load_policy("bundled", rollout_env, env_name="Pendulum-v1")
serialize.save(
    "pendulum_rollouts",
    rollout.rollout(bundled_expert, rollout_env, rollout.make_min_episodes(4), rng=rng),
)
rollouts = serialize.load("pendulum_rollouts")

imitation_trainer = PPO(
    ActorCriticPolicy,
    env,
    learning_rate=3e-4,
    gamma=0.95,
    ent_coef=1e-4,
    n_steps=N_STEPS,
)
density_trainer = db.DensityAlgorithm(
    venv=env,
    rng=rng,
    demonstrations=rollouts,
    rl_algo=imitation_trainer,
    density_type=db.DensityType.STATE_ACTION_DENSITY,
    is_stationary=True,
    kernel="gaussian",
    kernel_bandwidth=0.4,
    standardise_inputs=True,
)
density_trainer.train()


def print_stats(density_trainer, n_trajectories, epoch=""):
    stats = density_trainer.test_policy(n_trajectories=n_trajectories)
    print("True reward function stats:")
    pprint.pprint(stats)
    stats_im = density_trainer.test_policy(
        true_reward=False,
        n_trajectories=n_trajectories,
    )
    print(f"Imitation reward function stats, epoch {epoch}:")
    pprint.pprint(stats_im)


print("Stats before training:")
print_stats(density_trainer, 1)
density_trainer.train_policy(100)  # Train for 1_000_000 steps to approach expert.
print("Stats after training:")
print_stats(density_trainer, 1)

# --- The tutorial ---------------------------------------------------------------
if FAST:
    N_VEC = 1
    N_TRAJECTORIES = 1
    N_ITERATIONS = 1
    N_RL_TRAIN_STEPS = 100
    N_EVAL_EPISODES = 5
    MIN_EPISODES = 4
else:
    N_VEC = 8
    N_TRAJECTORIES = 10
    N_ITERATIONS = 10
    N_RL_TRAIN_STEPS = 100_000
    N_EVAL_EPISODES = 100
    MIN_EPISODES = 57

SEED = 42
rng = np.random.default_rng(seed=SEED)
env_name = "Pendulum-v1"
rollout_env = DummyVecEnv(
    [lambda: RolloutInfoWrapper(gym.make(env_name)) for _ in range(N_VEC)]
)
# Stand-in for load_policy("ppo-huggingface", organization="HumanCompatibleAI", ...)
expert = load_policy("bundled", rollout_env, env_name=env_name)
rollouts = rollout.rollout(
    expert,
    rollout_env,
    rollout.make_sample_until(min_timesteps=2000, min_episodes=MIN_EPISODES),
    rng=rng,
)

env = util.make_vec_env(env_name, n_envs=N_VEC, rng=rng)
imitation_trainer = PPO(
    ActorCriticPolicy,
    env,
    learning_rate=3e-4,
    gamma=0.95,
    ent_coef=1e-4,
    n_steps=N_STEPS,
)
density_trainer = db.DensityAlgorithm(
    venv=env,
    rng=rng,
    demonstrations=rollouts,
    rl_algo=imitation_trainer,
    density_type=db.DensityType.STATE_ACTION_DENSITY,
    is_stationary=True,
    kernel="gaussian",
    kernel_bandwidth=0.4,  # found using divination & some palm reading
    standardise_inputs=True,
)
density_trainer.train()

# evaluate the expert
expert_rewards, _ = evaluate_policy(
    expert, env, N_EVAL_EPISODES, return_episode_rewards=True
)
# evaluate the learner before training
learner_rewards_before_training, _ = evaluate_policy(
    density_trainer.policy, env, N_EVAL_EPISODES, return_episode_rewards=True
)

novice_stats = density_trainer.test_policy(n_trajectories=N_TRAJECTORIES)
print("Stats before training:")
print_stats(density_trainer, 1)

print("Starting the training!")
for i in range(N_ITERATIONS):
    density_trainer.train_policy(N_RL_TRAIN_STEPS)
    print_stats(density_trainer, 1, epoch=str(i))

# evaluate the learner after training
learner_rewards_after_training, _ = evaluate_policy(
    density_trainer.policy, env, N_EVAL_EPISODES, return_episode_rewards=True
)
print("Mean expert reward:", np.mean(expert_rewards))
print("Mean reward before training:", np.mean(learner_rewards_before_training))
print("Mean reward after training:", np.mean(learner_rewards_after_training))
