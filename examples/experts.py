"""Experts: load a policy from a file, register a custom expert type, use bundled ones.

Reproduces the documentation's "Experts" section. "your-env" is
``seals/CartPole-v0`` here, and "path/to/model.zip" is a small PPO model this
script trains and saves first. The HuggingFace loaders need network access
(or a filled local Hub cache); without them they fail fast and point to the
experts bundled with the package, which this script uses instead.

Run: ``python examples/experts.py`` (``--fast`` for a tiny budget).
"""

import argparse
import pathlib
import tempfile

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common import policies
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.policies.base import ZeroPolicy
from imitation.policies.serialize import (
    HubUnavailableError,
    bundled_expert_env_names,
    load_policy,
    policy_registry,
    save_stable_model,
)
from imitation.util import util

parser = argparse.ArgumentParser()
parser.add_argument("--fast", action="store_true")
FAST = parser.parse_args().fast

# Loading a policy from a file.
venv = util.make_vec_env(
    "seals:seals/CartPole-v0", n_envs=4, rng=np.random.default_rng()
)
with tempfile.TemporaryDirectory() as tmp:
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64)
    model.learn(256 if FAST else 2048)
    save_stable_model(pathlib.Path(tmp) / "path" / "to", model)  # writes model.zip
    local_policy = load_policy("ppo", venv, path=f"{tmp}/path/to/model.zip")
    print("Loaded from a file:", type(local_policy).__name__)

# Loading a policy from HuggingFace: without network or cache, a clear error.
try:
    remote_policy = load_policy(
        "ppo-huggingface",
        organization="HumanCompatibleAI",
        env_name="seals/CartPole-v0",
        venv=venv,
    )
except HubUnavailableError as error:
    print("HuggingFace Hub unavailable:", str(error)[:120], "...")


# Custom expert types.
def my_policy_loader(venv, some_param: int) -> policies.BasePolicy:
    # load your policy here
    policy = ZeroPolicy(venv.observation_space, venv.action_space)
    return policy


policy_registry.register("my-policy", my_policy_loader)
custom = load_policy("my-policy", venv, some_param=42)
print("Custom expert type:", type(custom).__name__)

# The experts bundled with imitation, usable offline.
print("Bundled experts:", bundled_expert_env_names())
expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
reward, _ = evaluate_policy(expert, venv, 4 if FAST else 20)
print(f"Bundled seals/CartPole-v0 expert: mean return {reward}")
