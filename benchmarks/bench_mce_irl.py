"""MCE IRL on CliffWorld (height 4, width 7, horizon 40): learning and speed.

Learning (tutorial settings: Adam, lr 0.01, 1,000 iterations; seeds 0 1 2),
as a fraction of the expert's return (the expert is soft-optimal for the true
reward). Two figures per run: the exact expected return (occupancy measure
times true reward) and the mean return of 5,000 sampled timesteps
(128 episodes), both divided by the expert's:

* analytic occupancy measure, reward MLP with one hidden layer of 256 (bar:
  >= 0.98);
* 10 sampled expert trajectories, same MLP (bar: >= 0.95);
* analytic occupancy measure, linear reward (``hid_sizes=[]``): must fail.

Speed: 300 iterations with hidden layer [256] (stopping thresholds off, so
exactly 300), beside floors measured in the same run: the reward network's
own work for 300 iterations (forward, backward, Adam step) and 300 exact
plannings (soft value iteration and occupancy measure). Best of 5, as wall
time and as this process's CPU time (which leaves out waiting for a CPU held
by other processes on a shared machine).

Run: ``.venv/bin/python benchmarks/bench_mce_irl.py [learn|speed] [seed ...]``
(default: both; seeds 0 1 2).
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
import torch as th
from seals import base_envs
from seals.diagnostics.cliff_world import CliffWorldEnv
from stable_baselines3.common.vec_env import DummyVecEnv

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import mce_irl  # noqa: E402
from imitation.algorithms.mce_irl import planning  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.rewards import reward_nets  # noqa: E402
from imitation.util import logger  # noqa: E402


def make_env() -> CliffWorldEnv:
    return CliffWorldEnv(height=4, width=7, horizon=40, use_xy_obs=True)


def state_venv(seed: int) -> DummyVecEnv:
    venv = DummyVecEnv([lambda: base_envs.ExposePOMDPStateWrapper(make_env())] * 4)
    venv.seed(seed)
    return venv


def sampled_return(policy, seed: int) -> float:
    trajs = rollout.generate_trajectories(
        policy,
        state_venv(seed + 100),
        rollout.make_min_timesteps(5000),
        rng=np.random.default_rng(seed),
    )
    return float(np.mean([t.rews.sum() for t in trajs]))


def make_mce(env, demos, hid_sizes, seed: int, **kwargs) -> mce_irl.MCEIRL:
    th.manual_seed(seed)
    net = reward_nets.BasicRewardNet(
        env.observation_space,
        env.action_space,
        hid_sizes=hid_sizes,
        use_action=False,
        use_done=False,
        use_next_state=False,
    )
    return mce_irl.MCEIRL(
        demos,
        env,
        net,
        rng=np.random.default_rng(seed),
        optimizer_kwargs={"lr": 0.01},
        custom_logger=logger.configure(format_strs=[]),
        **kwargs,
    )


def learn(seeds: list[int]) -> None:
    env = make_env()
    _, _, pi = mce_irl.mce_partition_fh(env)
    _, expert_om = mce_irl.mce_occupancy_measures(env, pi=pi)
    rows = []
    for seed in seeds:
        expert = mce_irl.TabularPolicy(
            state_space=env.state_space,
            action_space=env.action_space,
            pi=pi,
            rng=np.random.default_rng(seed),
        )
        expert_exact = float(expert_om @ env.reward_matrix)
        expert_sampled = sampled_return(expert, seed)
        trajs = rollout.generate_trajectories(
            expert,
            state_venv(seed),
            rollout.make_min_episodes(10),
            rng=np.random.default_rng(seed),
        )[:10]
        for name, demos, hid in (
            ("occupancy measure, [256]", expert_om, [256]),
            ("10 trajectories, [256]", trajs, [256]),
            ("occupancy measure, linear", expert_om, []),
        ):
            trainer = make_mce(env, demos, hid, seed)
            om = trainer.train(max_iter=1000)
            exact = float(om @ env.reward_matrix) / expert_exact
            sampled = sampled_return(trainer.policy, seed) / expert_sampled
            rows.append([seed, name, exact, sampled])
            print(seed, name, round(exact, 3), round(sampled, 3), flush=True)
    print_table(
        "MCE IRL on CliffWorld 4x7, horizon 40: return / expert return "
        f"(expert: {expert_exact:.1f} exact)",
        ["seed", "demonstrations, reward net", "exact", "sampled (5,000 steps)"],
        rows,
    )


def speed() -> None:
    env = make_env()
    _, expert_om = mce_irl.mce_occupancy_measures(env)
    n_iter = 300

    def ours() -> None:
        trainer = make_mce(env, expert_om, [256], 0, linf_eps=0.0, grad_l2_eps=0.0)
        trainer.train(max_iter=n_iter)

    probe = make_mce(env, expert_om, [256], 0)
    inputs = probe._net_inputs
    gap = th.zeros(env.state_dim)

    def network_only() -> None:
        trainer = make_mce(env, expert_om, [256], 0)
        net, opt = trainer.reward_net, trainer.optimizer
        for _ in range(n_iter):
            opt.zero_grad()
            mce_irl.squeeze_r(net(*inputs)).backward(gradient=gap)
            opt.step()

    trans = env.transition_matrix.reshape(-1, env.state_dim)
    r_sa = np.broadcast_to(env.reward_matrix[:, None], (env.state_dim, 4))
    weights = np.ones(env.horizon)

    def planning_only() -> None:
        for _ in range(n_iter):
            _, _, pi = planning.soft_value_iteration(trans, r_sa, env.horizon)
            planning.state_visitation(trans, env.initial_state_dist, pi, weights)

    fns = [ours, network_only, planning_only]
    wall = best_times_interleaved(fns, repeats=5)
    cpu = best_times_interleaved(fns, repeats=5, clock=time.process_time)
    names = [
        "MCEIRL.train (bar: < 1.2 s)",
        "floor: reward net forward+backward+Adam",
        "floor: exact planning (partition + occupancy)",
    ]
    rows = [[n, w, c, c / cpu[0]] for n, w, c in zip(names, wall, cpu)]
    rows.append(
        [
            "floor: sum of both",
            wall[1] + wall[2],
            cpu[1] + cpu[2],
            (cpu[1] + cpu[2]) / cpu[0],
        ]
    )
    print_table(
        f"MCE IRL speed: {n_iter} iterations, CliffWorld 4x7, horizon 40, [256]",
        ["measurement", "wall s", "CPU s", "CPU ratio to ours"],
        rows,
    )


def main() -> None:
    th.set_num_threads(1)
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    if what in ("all", "speed"):
        speed()
    if what in ("all", "learn"):
        learn(seeds)


if __name__ == "__main__":
    main()
