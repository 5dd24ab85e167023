"""SQIL learning (3 seeds) and the cost of a SQIL training step.

Learning, scored every 25,000 (DQN) or 10,000 (SAC) env steps on 50 episodes:

* DQN on ``CartPole-v1`` from 20 episodes of the bundled expert, 100,000
  steps; normalised score ``(return - random) / (expert - random)``.
* SAC on ``Pendulum-v1`` from 20 episodes of the bundled expert, 50,000 steps;
  mean return.

Speed: one training phase (``train(gradient_steps)``) of the learner with its
``SQILReplayBuffer`` against the same learner with a plain ``ReplayBuffer``
holding the same number of transitions, measured in turn in one process.

Run: ``.venv/bin/python benchmarks/bench_sqil.py [dqn|sac|speed] [seed ...]``
(default: everything; seeds 0 1 2).
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
import torch as th
from stable_baselines3 import DQN, SAC

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import sqil  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

DQN_KWARGS = dict(
    learning_rate=2.5e-4,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1_000,
    gamma=0.99,
    target_update_interval=1_000,
    train_freq=4,
    gradient_steps=1,
    exploration_fraction=0.1,
    exploration_final_eps=0.04,
    policy_kwargs=dict(net_arch=[256, 256]),
)
SAC_KWARGS: dict = dict(learning_rate=1e-3)
SETUPS = {
    "dqn": ("CartPole-v1", DQN, DQN_KWARGS, 100_000, 25_000),
    "sac": ("Pendulum-v1", SAC, SAC_KWARGS, 50_000, 10_000),
}


def mean_return(policy, env_id: str, seed: int) -> float:
    venv = make_vec_env(env_id, rng=np.random.default_rng(seed + 1000), n_envs=5)
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(50), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:50]]))


def learning_run(kind: str, seed: int) -> list[tuple[int, float]]:
    env_id, algo, kwargs, total, every = SETUPS[kind]
    th.manual_seed(seed)
    demos = generate_expert_trajectories(env_id, 20, np.random.default_rng(seed))
    venv = make_vec_env(env_id, rng=np.random.default_rng(seed), n_envs=1)
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MlpPolicy",
        rl_algo_class=algo,
        rl_kwargs=dict(kwargs, seed=seed, device="cpu"),
        custom_logger=logger.configure(format_strs=[]),
    )
    curve = []
    for step in range(every, total + 1, every):
        trainer.train(total_timesteps=every, reset_num_timesteps=step == every)
        curve.append((step, mean_return(trainer.policy, env_id, seed)))
        print(kind, seed, step, round(curve[-1][1], 1), flush=True)
    return curve


def speed() -> None:
    demos = generate_expert_trajectories("CartPole-v1", 20, np.random.default_rng(0))
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    kwargs = dict(DQN_KWARGS, seed=0, device="cpu", learning_starts=0)
    quiet = logger.configure(format_strs=[])
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MlpPolicy",
        rl_kwargs=kwargs,
        custom_logger=quiet,
    )
    bare = DQN("MlpPolicy", venv, **kwargs)
    bare.set_logger(quiet)
    for model in (trainer.rl_algo, bare):
        model.learn(2_000)  # fill both agent buffers with 2,000 transitions
    n_steps = 2_000

    def sqil_phase() -> None:
        trainer.rl_algo.train(gradient_steps=n_steps, batch_size=64)

    def bare_phase() -> None:
        bare.train(gradient_steps=n_steps, batch_size=64)

    t_sqil, t_bare = best_times_interleaved([sqil_phase, bare_phase], repeats=5)
    print_table(
        f"SQIL training step (DQN, CartPole-v1, batch 64, {n_steps} gradient steps)",
        ["measurement", "seconds", "per step (us)", "ratio"],
        [
            [
                "SQIL (SQILReplayBuffer)",
                t_sqil,
                t_sqil / n_steps * 1e6,
                t_sqil / t_bare,
            ],
            ["floor: DQN with its ReplayBuffer", t_bare, t_bare / n_steps * 1e6, 1.0],
        ],
    )


def main() -> None:
    th.set_num_threads(1)
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    if what in ("all", "speed"):
        speed()
    for kind in ("dqn", "sac"):
        if what not in ("all", kind):
            continue
        start = time.perf_counter()
        curves = [learning_run(kind, seed) for seed in seeds]
        env_id = SETUPS[kind][0]
        rows = []
        if kind == "dqn":
            random_ret = mean_return(None, env_id, 0)
            expert_ret = 500.0
            print(f"random return {random_ret:.1f}, expert return {expert_ret:.1f}")
            for i, (step, _) in enumerate(curves[0]):
                scores = [
                    (c[i][1] - random_ret) / (expert_ret - random_ret) for c in curves
                ]
                rows.append([step, np.mean(scores), np.min(scores), np.max(scores)])
            header = ["env steps", "normalised mean", "min", "max"]
        else:
            for i, (step, _) in enumerate(curves[0]):
                returns = [c[i][1] for c in curves]
                rows.append([step, np.mean(returns), np.min(returns), np.max(returns)])
            header = ["env steps", "mean return", "min", "max"]
        print_table(
            f"SQIL + {kind.upper()} on {env_id}, seeds {seeds} "
            f"({time.perf_counter() - start:.0f} s)",
            header,
            rows,
        )


if __name__ == "__main__":
    main()
