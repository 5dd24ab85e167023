"""Rollout-collection throughput against two floors measured in the same run.

Workload: at least 40,000 steps from 8 ``seals/CartPole-v0`` envs with an MLP
(SB3 PPO ``MlpPolicy``) policy, stochastic actions.

* ``rollout.generate_trajectories``: the library, building trajectories.
* floor ``predict`` loop: ``venv.step`` + ``policy.predict``, nothing stored.
* floor ``forward`` loop: ``venv.step`` + a no-grad forward of the policy
  network (observation to tensor, action sampling, back to numpy).

Run: ``.venv/bin/python benchmarks/bench_rollout.py``.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch as th
from stable_baselines3 import PPO

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

N_ENVS = 8
MIN_STEPS = 40_000
STEPS_PER_ENV = MIN_STEPS // N_ENVS


def main() -> None:
    th.set_num_threads(1)
    venv = make_vec_env(
        "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=N_ENVS
    )
    policy = PPO("MlpPolicy", venv, seed=0, device="cpu").policy
    policy.set_training_mode(False)

    def library() -> None:
        trajs = rollout.generate_trajectories(
            policy,
            venv,
            rollout.make_min_timesteps(MIN_STEPS),
            rng=np.random.default_rng(0),
        )
        assert sum(len(t) for t in trajs) >= MIN_STEPS

    def predict_loop() -> None:
        obs = venv.reset()
        for _ in range(STEPS_PER_ENV):
            acts, _ = policy.predict(obs)
            obs, _, _, _ = venv.step(acts)

    def forward_loop() -> None:
        obs = venv.reset()
        for _ in range(STEPS_PER_ENV):
            with th.no_grad():
                acts = policy._predict(th.as_tensor(obs)).numpy()
            obs, _, _, _ = venv.step(acts)

    library()  # warm-up
    t_lib, t_pred, t_fwd = best_times_interleaved([library, predict_loop, forward_loop])
    print_table(
        f"Rollout collection: {MIN_STEPS} steps, {N_ENVS} seals/CartPole-v0 envs",
        ["measurement", "seconds", "ratio to forward floor"],
        [
            ["imitation rollout.generate_trajectories", t_lib, t_lib / t_fwd],
            ["floor: venv.step + policy.predict", t_pred, t_pred / t_fwd],
            ["floor: venv.step + no-grad forward", t_fwd, 1.0],
        ],
    )


if __name__ == "__main__":
    main()
