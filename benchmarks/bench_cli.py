"""The command line's overhead: start-up and a fast GAIL run, beside their floors.

* ``print_config`` of ``train_adversarial`` against ``python -c "import
  stable_baselines3, sacred"`` (goal: at most 1.5x);
* a fast GAIL run on ``seals/CartPole-v0`` from the bundled expert, through
  the CLI, against the same training written with the Python API, each in a
  fresh process (goal: at most 1.2x).

Each command runs in turn with the other, best of ``--repeats`` (default 3).
Run: ``.venv/bin/python benchmarks/bench_cli.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402

STEPS = 4096

CLI_GAIL = [
    "-m",
    "imitation.scripts.train_adversarial",
    "gail",
    "with",
    "seals_cartpole",
    "environment.fast",
    "demonstrations.fast",
    "policy_evaluation.fast",
    "rl.fast",
    "fast",
    "expert.policy_type=bundled",
    "demonstrations.source=generated",
    f"total_timesteps={STEPS}",
    "logging.log_format_strs=[]",
    "seed=0",
]

# The same run through the Python API: the settings the named configs above
# resolve to (print_config shows them).
API_GAIL = f"""
import numpy as np, torch as th
from stable_baselines3 import PPO
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout, wrappers
from imitation.policies.base import FeedForward32Policy
from imitation.policies.serialize import load_policy
from imitation.rewards.reward_nets import BasicRewardNet, NormalizedRewardNet
from imitation.util import logger, networks
from imitation.util.util import make_vec_env

def venv():
    return make_vec_env(
        "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=2,
        max_episode_steps=20,
        post_wrappers=[lambda env, _: wrappers.RolloutInfoWrapper(env)])

demo_env = venv()
expert = load_policy("bundled", demo_env, env_name="seals/CartPole-v0")
demos = rollout.rollout(expert, demo_env, rollout.make_min_episodes(1),
                        rng=np.random.default_rng(0), verbose=False)[:1]
env = venv()
net = NormalizedRewardNet(
    BasicRewardNet(env.observation_space, env.action_space,
                   normalize_input_layer=networks.RunningNorm),
    networks.RunningNorm)
agent = PPO(FeedForward32Policy, env, n_steps=4, batch_size=4, ent_coef=0.0,
            learning_rate=3e-4, n_epochs=10, seed=0, device="cpu")
trainer = GAIL(demonstrations=demos, demo_batch_size=1, venv=env,
               gen_algo=agent, reward_net=net, n_disc_updates_per_round=1,
               gen_replay_buffer_capacity=4,
               custom_logger=logger.configure(format_strs=[]))
trainer.train({STEPS})
rollout.rollout_stats(rollout.generate_trajectories(
    trainer.policy, env, rollout.make_min_episodes(1),
    rng=np.random.default_rng(0)))
"""


def timed(args: list[str], cwd: str) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as cwd:
        pairs = {
            "start-up": (
                ["-m", "imitation.scripts.train_adversarial", "print_config"],
                ["-c", "import stable_baselines3, sacred"],
            ),
            "fast GAIL": (CLI_GAIL, ["-c", API_GAIL]),
        }
        best = {name: [float("inf"), float("inf")] for name in pairs}
        for _ in range(repeats):
            for name, commands in pairs.items():
                for i, args in enumerate(commands):
                    best[name][i] = min(best[name][i], timed(args, cwd))
    print_table(
        f"Command-line overhead (best of {repeats}, fresh processes)",
        ["measurement", "CLI s", "floor s", "ratio", "goal"],
        [
            [
                "train_adversarial print_config / import SB3 + Sacred",
                best["start-up"][0],
                best["start-up"][1],
                best["start-up"][0] / best["start-up"][1],
                "<= 1.5",
            ],
            [
                f"fast GAIL, {STEPS} steps / the same via the Python API",
                best["fast GAIL"][0],
                best["fast GAIL"][1],
                best["fast GAIL"][0] / best["fast GAIL"][1],
                "<= 1.2",
            ],
        ],
    )


if __name__ == "__main__":
    main()
