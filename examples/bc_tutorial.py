"""Tutorial: train an agent using Behavior Cloning (seals/CartPole-v0).

Reproduces the documentation's BC tutorial; the only change is that the expert
is the one bundled with imitation instead of a HuggingFace download.

Run: ``python examples/bc_tutorial.py`` (``--fast`` for a tiny budget).
"""

import argparse

import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.algorithms import bc
from imitation.data import rollout
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

env = make_vec_env(
    "seals:seals/CartPole-v0",
    rng=np.random.default_rng(),
    post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],  # for rollouts later
)
# The documentation downloads this expert: load_policy("ppo-huggingface",
# organization="HumanCompatibleAI", env_name="seals/CartPole-v0", venv=env).
expert = load_policy("bundled", env, env_name="seals/CartPole-v0")

reward, _ = evaluate_policy(expert, env, 10)
print(f"Expert reward: {reward}")

rng = np.random.default_rng()
rollouts = rollout.rollout(
    expert,
    env,
    rollout.make_sample_until(min_timesteps=None, min_episodes=10 if FAST else 50),
    rng=rng,
)
transitions = rollout.flatten_trajectories(rollouts)
print(
    f"The `rollout` function generated a list of {len(rollouts)} {type(rollouts[0])}.\n"
    f"After flattening, this list is turned into a {type(transitions)} object "
    f"containing {len(transitions)} transitions.\n"
    f"The transitions object contains arrays for: {', '.join(transitions.__dict__)}."
)

bc_trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    demonstrations=transitions,
    rng=rng,
)
reward_before_training, _ = evaluate_policy(bc_trainer.policy, env, 10)
print(f"Reward before training: {reward_before_training}")

bc_trainer.train(n_epochs=1)
reward_after_training, _ = evaluate_policy(bc_trainer.policy, env, 10)
print(f"Reward after training: {reward_after_training}")
