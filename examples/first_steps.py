"""First steps: clone the behaviour of an expert with BC (seals/CartPole-v0).

Reproduces the documentation's "Python Interface Quickstart". Two changes:
the pretrained expert is the one bundled with imitation instead of a
HuggingFace download, and evaluation does not render (no display here; pass
``env_make_kwargs={"render_mode": "human"}`` and ``render=True`` to watch).

Run: ``python examples/first_steps.py`` (``--fast`` for a tiny budget).
"""

import argparse

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.ppo import MlpPolicy

from imitation.algorithms import bc
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
parser.add_argument("--train-expert", action="store_true", help="train, don't load")
args = parser.parse_args()

rng = np.random.default_rng(0)
env = make_vec_env(
    "seals:seals/CartPole-v0",
    rng=rng,
    post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],  # for computing rollouts
)


def train_expert():
    # note: use `download_expert` instead to load a pretrained, competent expert
    print("Training a expert.")
    expert = PPO(
        policy=MlpPolicy,
        env=env,
        seed=0,
        batch_size=64,
        ent_coef=0.0,
        learning_rate=0.0003,
        n_epochs=10,
        n_steps=64,
    )
    expert.learn(1_000)  # Note: change this to 100_000 to train a decent expert.
    return expert


def download_expert():
    print("Loading a pretrained expert.")
    # The documentation downloads it: load_policy("ppo-huggingface",
    # organization="HumanCompatibleAI", env_name="seals-CartPole-v0", venv=env).
    return load_policy("bundled", venv=env, env_name="seals-CartPole-v0")


def sample_expert_transitions():
    expert = train_expert() if args.train_expert else download_expert()
    print("Sampling expert transitions.")
    rollouts = rollout.rollout(
        expert,
        env,
        rollout.make_sample_until(
            min_timesteps=None, min_episodes=8 if args.fast else 50
        ),
        rng=rng,
    )
    return rollout.flatten_trajectories(rollouts)


transitions = sample_expert_transitions()
bc_trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    demonstrations=transitions,
    rng=rng,
)
evaluation_env = make_vec_env("seals:seals/CartPole-v0", rng=rng)

print("Evaluating the untrained policy.")
reward, _ = evaluate_policy(bc_trainer.policy, evaluation_env, n_eval_episodes=3)
print(f"Reward before training: {reward}")

print("Training a policy using Behavior Cloning")
bc_trainer.train(n_epochs=1)

print("Evaluating the trained policy.")
reward, _ = evaluate_policy(bc_trainer.policy, evaluation_env, n_eval_episodes=3)
print(f"Reward after training: {reward}")
