"""Per-step overhead of RewardVecEnvWrapper with a BasicRewardNet.

Workload: 5,000 vec-steps of 8 ``seals/CartPole-v0`` envs with precomputed
random actions. The floor is the same loop on the bare envs; the overhead is
the difference per vec-step.

Run: ``.venv/bin/python benchmarks/bench_reward_wrapper.py``.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch as th

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet  # noqa: E402
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

N_ENVS, N_STEPS = 8, 5_000


def main() -> None:
    th.set_num_threads(1)
    bare = make_vec_env(
        "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=N_ENVS
    )
    net = BasicRewardNet(bare.observation_space, bare.action_space)
    wrapped = RewardVecEnvWrapper(
        make_vec_env(
            "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=N_ENVS
        ),
        net.predict_processed,
    )
    actions = np.random.default_rng(0).integers(0, 2, size=(N_STEPS, N_ENVS))

    def loop(venv) -> None:
        venv.reset()
        for acts in actions:
            venv.step(acts)

    t_wrapped, t_bare = best_times_interleaved(
        [lambda: loop(wrapped), lambda: loop(bare)]
    )
    overhead_us = (t_wrapped - t_bare) / N_STEPS * 1e6
    print_table(
        f"RewardVecEnvWrapper: {N_STEPS} vec-steps of {N_ENVS} seals/CartPole-v0 envs",
        ["measurement", "seconds", "per vec-step (us)"],
        [
            [
                "wrapped (BasicRewardNet.predict_processed)",
                t_wrapped,
                t_wrapped / N_STEPS * 1e6,
            ],
            ["floor: bare envs", t_bare, t_bare / N_STEPS * 1e6],
            ["overhead", t_wrapped - t_bare, overhead_us],
        ],
    )


if __name__ == "__main__":
    main()
