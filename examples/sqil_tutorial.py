"""Tutorials: train agents with Soft Q Imitation Learning (DQN, then SAC).

Reproduces the documentation's two SQIL tutorials. The only change: instead
of downloading ``HumanCompatibleAI/ppo-CartPole-v1`` (and the Pendulum one)
from the HuggingFace Hub, the datasets are built from the experts bundled
with imitation, in the same format, and read the same way.

Run: ``python examples/sqil_tutorial.py`` (``--fast`` for a tiny budget).
"""

import argparse

import gymnasium as gym
import numpy as np
from stable_baselines3 import sac
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.algorithms import sqil
from imitation.data import huggingface_utils, rollout
from imitation.testing.expert_trajectories import generate_expert_trajectories
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast


def local_hub_dataset(env_id: str, n: int) -> dict:
    """Stand-in for ``datasets.load_dataset("HumanCompatibleAI/ppo-<env>")``."""
    trajs = generate_expert_trajectories(env_id, n, np.random.default_rng(0))
    return {"train": huggingface_utils.trajectories_to_dataset(trajs)}


# SQIL with DQN on CartPole-v1.
dataset = local_hub_dataset("CartPole-v1", 4 if FAST else 100)
expert_trajectories = huggingface_utils.TrajectoryDatasetSequence(dataset["train"])
trajectory_stats = rollout.rollout_stats(expert_trajectories)
print(
    f"We have {trajectory_stats['n_traj']} trajectories."
    f"The average length of each trajectory is {trajectory_stats['len_mean']}."
    f"The average return of each trajectory is {trajectory_stats['return_mean']}."
)
venv = DummyVecEnv([lambda: gym.make("CartPole-v1")])
sqil_trainer = sqil.SQIL(
    venv=venv,
    demonstrations=expert_trajectories,
    policy="MlpPolicy",
)
reward_before_training, _ = evaluate_policy(sqil_trainer.policy, venv, 10)
print(f"Reward before training: {reward_before_training}")
sqil_trainer.train(total_timesteps=1_000)  # 100_000 or more for good results
reward_after_training, _ = evaluate_policy(sqil_trainer.policy, venv, 10)
print(f"Reward after training: {reward_after_training}")

# SQIL with SAC on Pendulum-v1.
dataset = local_hub_dataset("Pendulum-v1", 4 if FAST else 200)
expert_trajectories = huggingface_utils.TrajectoryDatasetSequence(dataset["train"])
SEED = 42
venv = make_vec_env("Pendulum-v1", rng=np.random.default_rng(seed=SEED))
sqil_trainer = sqil.SQIL(
    venv=venv,
    demonstrations=expert_trajectories,
    policy="MlpPolicy",
    rl_algo_class=sac.SAC,
    rl_kwargs=dict(seed=SEED),
)
reward_before_training, _ = evaluate_policy(
    sqil_trainer.policy, venv, 10 if FAST else 100
)
print(f"Reward before training: {reward_before_training}")
sqil_trainer.train(total_timesteps=200 if FAST else 1_000)  # 50_000+ for good results
reward_after_training, _ = evaluate_policy(
    sqil_trainer.policy, venv, 10 if FAST else 100
)
print(f"Reward after training: {reward_after_training}")
