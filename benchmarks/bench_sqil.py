"""SQIL learning over a DQN settings grid, a Q-value diagnosis, SAC, and speed.

Learning (``grid``): SQIL on ``seals/CartPole-v0`` and ``CartPole-v1`` from 20
episodes of the bundled expert, 100,000 env steps, for every point of the
grid learning rate {2.5e-4, 1e-3} x target update interval {500, 10000} x
train_freq {1, 4} (other settings below), 3 seeds. Each run is scored on 50
episodes with the greedy policy; the table gives the normalised score
``(return - random) / (expert - random)`` per seed. ``--algo soft`` (the
default) is SQIL's default discrete learner, :class:`~imitation.algorithms.
sqil.SoftDQN` (two Q-networks, ``twin_q=True``); ``--algo soft-one-q`` is
SoftDQN with one Q-network (``twin_q=False``, the earlier default);
``--algo hard`` is SB3's DQN (hard-max targets).

Diagnosis (``diagnose``): one run, logging every ``--every`` steps the return
and the Q-values on the expert's states and on the agent's latest 5,000
states. For rewards in {0, 1} no policy has a Q-value above
``(1 + ent_coef * log(n_actions)) / (1 - gamma)`` (100 for DQN at gamma 0.99).

SAC (``sac``): SQIL + SAC on ``Pendulum-v1`` from 20 episodes of the bundled
expert, 50,000 steps, scored every 10,000 on 50 episodes (mean return).

Speed (``speed``): one training phase (``train(gradient_steps)``) of SQIL's
default learner with its ``SQILReplayBuffer`` against SB3's DQN with a plain
``ReplayBuffer`` holding the same number of transitions, in turn in one
process.

Run::

    .venv/bin/python benchmarks/bench_sqil.py grid [--envs ENV ...]
        [--seeds S ...] [--lrs LR ...] [--targets N ...] [--train-freqs N ...]
        [--algo soft|soft-one-q|hard] [--ent-coef A] [--steps N]
    .venv/bin/python benchmarks/bench_sqil.py diagnose [--env ENV] [--seed S]
        [--lr LR] [--target N] [--train-freq N] [--algo soft|soft-one-q|hard]
    .venv/bin/python benchmarks/bench_sqil.py sac [--seeds S ...]
    .venv/bin/python benchmarks/bench_sqil.py speed

One training process at a time; ``OMP_NUM_THREADS=1`` and one torch thread.
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import DQN, SAC
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import sqil  # noqa: E402
from imitation.data import rollout, types  # noqa: E402
from imitation.policies.hub_stand_in import gym_id  # noqa: E402
from imitation.testing.expert_trajectories import (  # noqa: E402
    generate_expert_trajectories,
)
from imitation.util import logger  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

# Fixed across the grid; the grid varies learning_rate, target_update_interval
# and train_freq.
DQN_KWARGS: dict[str, Any] = dict(
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1_000,
    gamma=0.99,
    gradient_steps=1,
    exploration_fraction=0.1,
    exploration_final_eps=0.04,
    policy_kwargs=dict(net_arch=[256, 256]),
)
SAC_KWARGS: dict[str, Any] = dict(learning_rate=1e-3)
# name -> (learner, its extra keyword arguments)
ALGOS: dict[str, tuple[type[OffPolicyAlgorithm], dict[str, Any]]] = {
    "soft": (sqil.SoftDQN, {}),
    "soft-one-q": (sqil.SoftDQN, {"twin_q": False}),
    "hard": (DQN, {}),
}
N_DEMOS = 20


def mean_return(policy: Any, env_id: str, seed: int, n_episodes: int = 50) -> float:
    """Mean return of ``policy`` (None: uniformly random) over ``n_episodes``."""
    venv = make_vec_env(
        gym_id(env_id), rng=np.random.default_rng(seed + 1000), n_envs=5
    )
    trajs = rollout.generate_trajectories(
        policy,
        venv,
        rollout.make_min_episodes(n_episodes),
        rng=np.random.default_rng(seed),
        deterministic_policy=True,
    )
    venv.close()
    return float(np.mean([t.rews.sum() for t in trajs[:n_episodes]]))


def make_trainer(
    env_id: str,
    seed: int,
    algo: type[OffPolicyAlgorithm],
    rl_kwargs: dict[str, Any],
) -> tuple[sqil.SQIL, Sequence[types.TrajectoryWithRew]]:
    """SQIL on ``env_id`` from ``N_DEMOS`` expert episodes, and those episodes."""
    th.manual_seed(seed)
    demos = generate_expert_trajectories(env_id, N_DEMOS, np.random.default_rng(seed))
    venv = make_vec_env(gym_id(env_id), rng=np.random.default_rng(seed), n_envs=1)
    trainer = sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MlpPolicy",
        rl_algo_class=algo,
        rl_kwargs=dict(rl_kwargs, seed=seed, device="cpu"),
        custom_logger=logger.configure(format_strs=[]),
    )
    return trainer, demos


def grid(args: argparse.Namespace) -> None:
    """Train every grid point and seed; print one line per run, then a table."""
    algo, algo_kwargs = ALGOS[args.algo]
    if args.ent_coef is not None:
        if algo is not sqil.SoftDQN:
            raise SystemExit("--ent-coef is a SoftDQN setting: use --algo soft.")
        algo_kwargs = dict(algo_kwargs, ent_coef=args.ent_coef)
    points = list(itertools.product(args.lrs, args.targets, args.train_freqs))
    ent_note = "" if args.ent_coef is None else f" ent_coef={args.ent_coef:g}"
    for env_id in args.envs:
        random_ret = mean_return(None, env_id, 0, args.eval_episodes)
        demos = generate_expert_trajectories(env_id, N_DEMOS, np.random.default_rng(0))
        expert_ret = float(np.mean([t.rews.sum() for t in demos]))
        print(f"{env_id}: random {random_ret:.1f}, expert {expert_ret:.1f}", flush=True)
        rows = []
        for lr, target, train_freq in points:
            kwargs = dict(
                DQN_KWARGS,
                **algo_kwargs,
                learning_rate=lr,
                target_update_interval=target,
                train_freq=train_freq,
            )
            scores = []
            for seed in args.seeds:
                start = time.perf_counter()
                trainer, _ = make_trainer(env_id, seed, algo, kwargs)
                trainer.train(total_timesteps=args.steps)
                ret = mean_return(trainer.policy, env_id, seed, args.eval_episodes)
                score = (ret - random_ret) / (expert_ret - random_ret)
                scores.append(score)
                print(
                    f"RUN {args.algo}{ent_note} {env_id} lr={lr:g} target={target} "
                    f"train_freq={train_freq} seed={seed} steps={args.steps} "
                    f"return={ret:.1f} score={score:.3f} "
                    f"({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
            rows.append(
                [
                    f"{lr:g}",
                    target,
                    train_freq,
                    " ".join(f"{s:.2f}" for s in scores),
                    float(np.mean(scores)),
                    float(np.min(scores)),
                ]
            )
        print_table(
            f"SQIL ({args.algo}) on {env_id}, {args.steps} steps, seeds {args.seeds}",
            ["lr", "target", "train_freq", "per seed", "mean", "min"],
            rows,
        )


def diagnose(args: argparse.Namespace) -> None:
    """One run, logging the return and Q-values on expert and agent states."""
    algo, algo_kwargs = ALGOS[args.algo]
    kwargs = dict(
        DQN_KWARGS,
        **algo_kwargs,
        learning_rate=args.lr,
        target_update_interval=args.target,
        train_freq=args.train_freq,
    )
    trainer, demos = make_trainer(args.env, args.seed, algo, kwargs)
    model = trainer.rl_algo
    assert isinstance(model, DQN)
    expert_obs = th.as_tensor(np.concatenate([t.obs[:-1] for t in demos]))
    expert_acts = th.as_tensor(np.concatenate([t.acts for t in demos])).long()
    agent = trainer._buffer.replay_buffer
    print(
        "steps | return | expert states: max Q, Q(expert act), Q(other act), "
        "greedy = expert | agent's last 5000 states: max Q, max - min Q, "
        "share of actions taken that are not greedy now",
        flush=True,
    )
    for step in range(args.every, args.steps + 1, args.every):
        trainer.train(
            total_timesteps=args.every, reset_num_timesteps=step == args.every
        )
        recent = np.arange(agent.pos - 5000, agent.pos) % agent.buffer_size
        with th.no_grad():
            q_expert = model.q_net(expert_obs)
            q_agent = model.q_net(th.as_tensor(agent.observations[recent, 0]))
        q_act = q_expert.gather(1, expert_acts.view(-1, 1)).squeeze(1)
        q_other = q_expert.sum(1) - q_act  # two actions
        agree = (q_expert.argmax(1) == expert_acts).float().mean()
        taken = th.as_tensor(agent.actions[recent, 0, 0]).long()
        off_greedy = (q_agent.argmax(1) != taken).float().mean()
        ret = mean_return(trainer.policy, args.env, args.seed, 10)
        print(
            f"{step} | {ret:.1f} | {q_expert.max(1).values.mean():.2f} "
            f"{q_act.mean():.2f} {q_other.mean():.2f} {agree:.3f} | "
            f"{q_agent.max(1).values.mean():.2f} "
            f"{(q_agent.max(1).values - q_agent.min(1).values).mean():.3f} "
            f"{off_greedy:.3f}",
            flush=True,
        )


def sac(args: argparse.Namespace) -> None:
    """SQIL + SAC on Pendulum-v1: mean return every 10,000 steps."""
    start = time.perf_counter()
    curves = []
    for seed in args.seeds:
        trainer, _ = make_trainer("Pendulum-v1", seed, SAC, SAC_KWARGS)
        curve = []
        for step in range(10_000, 50_001, 10_000):
            trainer.train(total_timesteps=10_000, reset_num_timesteps=step == 10_000)
            curve.append(mean_return(trainer.policy, "Pendulum-v1", seed))
            print("sac", seed, step, round(curve[-1], 1), flush=True)
        curves.append(curve)
    rows = [
        [step, float(np.mean(r)), float(np.min(r)), float(np.max(r))]
        for step, r in zip(range(10_000, 50_001, 10_000), zip(*curves))
    ]
    print_table(
        f"SQIL + SAC on Pendulum-v1, seeds {args.seeds} "
        f"({time.perf_counter() - start:.0f} s)",
        ["env steps", "mean return", "min", "max"],
        rows,
    )


def speed(args: argparse.Namespace) -> None:
    """SQIL's training step against DQN's with a plain replay buffer."""
    demos = generate_expert_trajectories("CartPole-v1", 20, np.random.default_rng(0))
    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    kwargs = dict(
        DQN_KWARGS,
        learning_rate=1e-3,
        target_update_interval=500,
        train_freq=4,
        seed=0,
        device="cpu",
        learning_starts=0,
    )
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
        f"SQIL training step (CartPole-v1, batch 64, {n_steps} gradient steps)",
        ["measurement", "seconds", "per step (us)", "ratio"],
        [
            [
                "SQIL (SoftDQN, SQILReplayBuffer)",
                t_sqil,
                t_sqil / n_steps * 1e6,
                t_sqil / t_bare,
            ],
            ["floor: DQN with its ReplayBuffer", t_bare, t_bare / n_steps * 1e6, 1.0],
        ],
    )


def main() -> None:
    """Parse the command line and run the chosen benchmark."""
    th.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("grid")
    p.add_argument("--envs", nargs="+", default=["seals/CartPole-v0", "CartPole-v1"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--lrs", nargs="+", type=float, default=[2.5e-4, 1e-3])
    p.add_argument("--targets", nargs="+", type=int, default=[500, 10_000])
    p.add_argument("--train-freqs", nargs="+", type=int, default=[4, 1])
    p.add_argument("--algo", choices=sorted(ALGOS), default="soft")
    p.add_argument("--ent-coef", type=float, default=None)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--eval-episodes", type=int, default=50)
    p.set_defaults(fn=grid)
    p = sub.add_parser("diagnose")
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--target", type=int, default=500)
    p.add_argument("--train-freq", type=int, default=4)
    p.add_argument("--algo", choices=sorted(ALGOS), default="hard")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--every", type=int, default=5_000)
    p.set_defaults(fn=diagnose)
    p = sub.add_parser("sac")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.set_defaults(fn=sac)
    p = sub.add_parser("speed")
    p.set_defaults(fn=speed)
    args = parser.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
