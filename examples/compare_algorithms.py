"""Tutorial: reliably compare algorithm performance (CartPole-v1).

Reproduces the documentation's tutorial: train an expert and a not-quite
expert with PPO, compare them with a permutation test, clone both with BC, and
compare BC with DAgger on a small dataset from a suboptimal expert.

Run: ``python examples/compare_algorithms.py`` (``--fast`` for a tiny budget).
"""

import argparse
import tempfile

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv
from stable_baselines3.ppo import MlpPolicy

from imitation.algorithms import bc
from imitation.algorithms.dagger import SimpleDAggerTrainer
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.testing.reward_improvement import is_significant_reward_improvement

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

env = gym.make("CartPole-v1")
ppo_kwargs = dict(
    policy=MlpPolicy,
    env=env,
    seed=0,
    batch_size=64,
    ent_coef=0.0,
    learning_rate=0.0003,
    n_epochs=10,
    n_steps=64,
)
expert = PPO(**ppo_kwargs)
expert.learn(2_000 if FAST else 10_000)  # set to 100_000 for better performance
not_expert = PPO(**ppo_kwargs)
not_expert.learn(300 if FAST else 1_000)

n_eval = 10 if FAST else 100
expert_rewards, _ = evaluate_policy(expert, env, n_eval, return_episode_rewards=True)
not_expert_rewards, _ = evaluate_policy(
    not_expert, env, n_eval, return_episode_rewards=True
)
significant = is_significant_reward_improvement(
    not_expert_rewards, expert_rewards, 0.001
)
print(
    f"The expert is {'NOT ' if not significant else ''}significantly better than "
    "the not-expert."
)

rng = np.random.default_rng()
n_demos = 10 if FAST else 50
expert_transitions = rollout.flatten_trajectories(
    rollout.rollout(
        expert,
        DummyVecEnv([lambda: RolloutInfoWrapper(env)]),
        rollout.make_sample_until(min_timesteps=None, min_episodes=n_demos),
        rng=rng,
    )
)
not_expert_transitions = rollout.flatten_trajectories(
    rollout.rollout(
        not_expert,
        DummyVecEnv([lambda: RolloutInfoWrapper(env)]),
        rollout.make_sample_until(min_timesteps=None, min_episodes=n_demos),
        rng=rng,
    )
)
expert_bc_trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    demonstrations=expert_transitions,
    rng=rng,
)
not_expert_bc_trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    demonstrations=not_expert_transitions,
    rng=rng,
)
expert_bc_trainer.train(n_epochs=2)
not_expert_bc_trainer.train(n_epochs=2)
bc_expert_rewards, _ = evaluate_policy(
    expert_bc_trainer.policy, env, 10, return_episode_rewards=True
)
bc_not_expert_rewards, _ = evaluate_policy(
    not_expert_bc_trainer.policy, env, 10, return_episode_rewards=True
)
significant = is_significant_reward_improvement(
    bc_not_expert_rewards, bc_expert_rewards, 0.05
)
print(f"Cloned expert rewards: {bc_expert_rewards}")
print(f"Cloned not-expert rewards: {bc_not_expert_rewards}")
print(
    f"Cloned expert is {'NOT ' if not significant else ''}significantly better "
    "than the cloned not-expert."
)

# BC against DAgger, from a single episode of the suboptimal expert.
transitions = rollout.flatten_trajectories(
    rollout.rollout(
        expert,
        DummyVecEnv([lambda: RolloutInfoWrapper(env)]),
        rollout.make_sample_until(min_timesteps=64 if FAST else None, min_episodes=1),
        rng=rng,
    )
)
bc_trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    demonstrations=transitions,
    rng=rng,
)
bc_trainer.train(n_epochs=1)
with tempfile.TemporaryDirectory(prefix="dagger_example_") as tmpdir:
    print(tmpdir)
    dagger_bc_trainer = bc.BC(
        observation_space=env.observation_space,
        action_space=env.action_space,
        rng=np.random.default_rng(),
    )
    dagger_trainer = SimpleDAggerTrainer(
        venv=DummyVecEnv([lambda: RolloutInfoWrapper(env)]),
        scratch_dir=tmpdir,
        expert_policy=expert,
        bc_trainer=dagger_bc_trainer,
        rng=np.random.default_rng(),
    )
    dagger_trainer.train(1_000 if FAST else 5_000)

bc_rewards, _ = evaluate_policy(bc_trainer.policy, env, 10, return_episode_rewards=True)
dagger_rewards, _ = evaluate_policy(
    dagger_trainer.policy, env, 10, return_episode_rewards=True
)
significant = is_significant_reward_improvement(bc_rewards, dagger_rewards, 0.05)
print(f"BC rewards: {bc_rewards}")
print(f"DAgger rewards: {dagger_rewards}")
print(
    f"Our DAgger agent is {'NOT ' if not significant else ''}significantly "
    "better than BC."
)
