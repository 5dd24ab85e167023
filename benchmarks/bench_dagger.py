"""DAgger wall-clock time against a floor measured in the same run.

Workload: ``SimpleDAggerTrainer.train(6000)`` on 4 ``seals/CartPole-v0`` envs
with the bundled expert and default settings (BC on all data each round,
rollout statistics logged by BC). The floor is the bare cost of the same work:
stepping the envs with the expert for the same number of steps plus a bare
PyTorch training loop (32x32 net, NLL loss, Adam) for the same number of
batches.

Run: ``.venv/bin/python benchmarks/bench_dagger.py``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

import numpy as np
import torch as th

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402
from bench_bc import floor_loop, make_data  # noqa: E402
from imitation.algorithms import bc, dagger  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

TOTAL_STEPS = 6_000


def run_dagger(seed: int) -> tuple[float, int, int]:
    """Time one DAgger run; return (seconds, env steps, BC batches)."""
    rng = np.random.default_rng(seed)
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=4)
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    quiet = logger.configure(format_strs=[])
    trainer_bc = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=quiet,
    )
    batches = [0]
    with tempfile.TemporaryDirectory() as scratch:
        trainer = dagger.SimpleDAggerTrainer(
            venv=venv,
            scratch_dir=scratch,
            expert_policy=expert,
            bc_trainer=trainer_bc,
            rng=rng,
            custom_logger=quiet,
        )
        start = time.perf_counter()
        trainer.train(
            TOTAL_STEPS,
            bc_train_kwargs={
                "progress_bar": False,
                "on_batch_end": lambda: batches.__setitem__(0, batches[0] + 1),
            },
        )
        seconds = time.perf_counter() - start
        steps = trainer.total_timesteps
    return seconds, steps, batches[0]


def env_floor(n_steps: int) -> float:
    venv = make_vec_env(
        "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=4
    )
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    act = rollout.policy_to_callable(expert, venv, deterministic_policy=True)
    start = time.perf_counter()
    obs = venv.reset()
    for _ in range(n_steps // 4):
        acts, _ = act(obs, None, None)
        obs, _, _, _ = venv.step(acts)
    return time.perf_counter() - start


def main() -> None:
    th.set_num_threads(1)
    run_dagger(0)  # warm-up
    results = [run_dagger(seed) for seed in (1, 2, 3)]
    seconds = min(r[0] for r in results)
    _, steps, n_batches = results[0]
    data = make_data(np.random.default_rng(0))
    start = time.perf_counter()
    floor_loop(data, 32, n_batches)
    bc_floor = time.perf_counter() - start
    floor = env_floor(steps) + bc_floor
    print_table(
        f"DAgger: SimpleDAggerTrainer.train({TOTAL_STEPS}) on 4 seals/CartPole-v0 envs",
        ["measurement", "seconds", "ratio to floor"],
        [
            [
                f"DAgger ({steps} env steps, {n_batches} BC batches)",
                seconds,
                seconds / floor,
            ],
            ["floor: env steps with expert + bare BC loop", floor, 1.0],
        ],
    )


if __name__ == "__main__":
    main()
