"""Tutorial: train an agent using the DAgger algorithm (seals/CartPole-v0).

Reproduces the documentation's DAgger tutorial; the only change is that the
expert is the one bundled with imitation instead of a HuggingFace download.

Run: ``python examples/dagger_tutorial.py`` (``--fast`` for a tiny budget).
"""

import argparse
import tempfile

import numpy as np
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.algorithms import bc
from imitation.algorithms.dagger import SimpleDAggerTrainer
from imitation.policies.serialize import load_policy
from imitation.util.util import make_vec_env

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

env = make_vec_env(
    "seals:seals/CartPole-v0",
    rng=np.random.default_rng(),
    n_envs=1,
)
# The documentation downloads this expert: load_policy("ppo-huggingface",
# organization="HumanCompatibleAI", env_name="seals/CartPole-v0", venv=env).
expert = load_policy("bundled", env, env_name="seals/CartPole-v0")

bc_trainer = bc.BC(
    observation_space=env.observation_space,
    action_space=env.action_space,
    rng=np.random.default_rng(),
)
with tempfile.TemporaryDirectory(prefix="dagger_example_") as tmpdir:
    print(tmpdir)
    dagger_trainer = SimpleDAggerTrainer(
        venv=env,
        scratch_dir=tmpdir,
        expert_policy=expert,
        bc_trainer=bc_trainer,
        rng=np.random.default_rng(),
    )
    dagger_trainer.train(500 if FAST else 2000)

reward, _ = evaluate_policy(dagger_trainer.policy, env, 20)
print(reward)
