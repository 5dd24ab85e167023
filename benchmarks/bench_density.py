"""Density-based reward modelling on Pendulum-v1: ranking, RL on it, speed.

Demonstrations: 20 episodes (4,000 transitions) of the bundled Pendulum-v1
expert; state-action density, Gaussian kernel, bandwidth 0.4, standardised
inputs (the tutorial's settings).

* ``auc``: the learned reward scores 4,000 held-out expert transitions and
  4,000 transitions of the uniformly random policy; the ROC AUC of expert vs
  random (1.0: every expert transition ranks above every random one).
* ``ppo``: PPO (RL Zoo's Pendulum settings, rewards normalised by
  ``VecNormalize``) trained on the learned reward only, 200,000 env steps;
  true mean return (50 episodes) of the untrained policy and every 50,000
  steps.
* ``speed``: the reward of 4,000 held-out state-action pairs after fitting on
  the 20 episodes, beside two floors measured in the same run:
  scikit-learn's ``KernelDensity`` with its default settings on the same
  standardised data, and an exact brute-force evaluation of the same sum of
  Gaussian kernels in numpy (all 16 million kernel terms, blocked). Best of
  3, as wall time and as this process's CPU time (which leaves out waiting
  for a CPU held by other processes on a shared machine).

Run: ``.venv/bin/python benchmarks/bench_density.py [auc|ppo|speed] [seed ...]``
(default: everything; seeds 0 1 2).
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
import torch as th
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecNormalize

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import density as db  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

ENV_ID = "Pendulum-v1"
BANDWIDTH = 0.4
TOTAL_STEPS = 200_000
EVAL_EVERY = 50_000
# RL Zoo's PPO settings for Pendulum-v1 (4 envs).
PPO_KWARGS = dict(
    n_steps=1024,
    batch_size=64,
    gae_lambda=0.95,
    gamma=0.9,
    n_epochs=10,
    ent_coef=0.0,
    learning_rate=1e-3,
    clip_range=0.2,
    use_sde=True,
    sde_sample_freq=4,
)


def make_trainer(seed: int, venv, rl_algo=None) -> db.DensityAlgorithm:
    demos = generate_expert_trajectories(ENV_ID, 20, np.random.default_rng(seed))
    trainer = db.DensityAlgorithm(
        demonstrations=demos,
        venv=venv,
        rng=np.random.default_rng(seed),
        rl_algo=rl_algo,
        density_type=db.DensityType.STATE_ACTION_DENSITY,
        kernel="gaussian",
        kernel_bandwidth=BANDWIDTH,
        standardise_inputs=True,
        custom_logger=logger.configure(format_strs=[]),
    )
    trainer.train()
    return trainer


def held_out(seed: int, policy) -> object:
    venv = make_vec_env(ENV_ID, rng=np.random.default_rng(seed + 500), n_envs=4)
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_timesteps(4000), np.random.default_rng(seed)
    )
    return rollout.flatten_trajectories(list(trajs)[:20])


def auc(seed: int) -> tuple[float, float, float]:
    venv = make_vec_env(ENV_ID, rng=np.random.default_rng(seed), n_envs=4)
    trainer = make_trainer(seed, venv)
    expert_demos = generate_expert_trajectories(
        ENV_ID, 20, np.random.default_rng(seed + 100)
    )
    expert = rollout.flatten_trajectories(expert_demos)
    rand = held_out(seed, None)
    r_exp = trainer(expert.obs, expert.acts, expert.next_obs, expert.dones)
    r_rand = trainer(rand.obs, rand.acts, rand.next_obs, rand.dones)
    labels = np.r_[np.ones(len(r_exp)), np.zeros(len(r_rand))]
    score = float(roc_auc_score(labels, np.r_[r_exp, r_rand]))
    return score, float(r_exp.mean()), float(r_rand.mean())


def mean_return(policy, seed: int) -> float:
    venv = make_vec_env(ENV_ID, rng=np.random.default_rng(seed + 1000), n_envs=5)
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(50), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:50]]))


def ppo_run(seed: int) -> list[tuple[int, float]]:
    th.manual_seed(seed)
    venv = make_vec_env(ENV_ID, rng=np.random.default_rng(seed), n_envs=4)
    ppo = PPO("MlpPolicy", venv, seed=seed, device="cpu", **PPO_KWARGS)
    trainer = make_trainer(seed, venv, ppo)
    # Log-densities span a wide range (about -2 at expert pairs, -40 and
    # below far from them): PPO learns on the rewards scaled by a running
    # estimate of the return's spread (``rollout`` and evaluation use the
    # raw environment).
    ppo.set_env(VecNormalize(trainer.venv_wrapped, norm_obs=False, gamma=0.9))
    curve = [(0, mean_return(trainer.policy, seed))]
    print("ppo", seed, 0, round(curve[-1][1], 1), flush=True)
    for step in range(EVAL_EVERY, TOTAL_STEPS + 1, EVAL_EVERY):
        trainer.train_policy(EVAL_EVERY)
        curve.append((step, mean_return(trainer.policy, seed)))
        print("ppo", seed, step, round(curve[-1][1], 1), flush=True)
    return curve


def brute_force_log_density(train: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Exact Gaussian KDE log-density, every kernel term evaluated (floor)."""
    n, dim = train.shape
    log_norm = np.log(n) + dim * np.log(BANDWIDTH * np.sqrt(2 * np.pi))
    out = np.empty(len(query))
    sq_train = (train**2).sum(axis=1)
    for lo in range(0, len(query), 1000):
        q = query[lo : lo + 1000]
        sq_dist = (q**2).sum(axis=1)[:, None] + sq_train[None, :] - 2 * q @ train.T
        out[lo : lo + 1000] = logsumexp(-sq_dist / (2 * BANDWIDTH**2), axis=1)
    return out - log_norm


def speed() -> None:
    venv = make_vec_env(ENV_ID, rng=np.random.default_rng(0), n_envs=4)
    demos = generate_expert_trajectories(ENV_ID, 20, np.random.default_rng(0))
    query = rollout.flatten_trajectories(
        generate_expert_trajectories(ENV_ID, 20, np.random.default_rng(1))
    )
    assert len(query) == 4000
    trainer = db.DensityAlgorithm(
        demonstrations=demos,
        venv=venv,
        rng=np.random.default_rng(0),
        kernel_bandwidth=BANDWIDTH,
        custom_logger=logger.configure(format_strs=[]),
    )
    train_x = trainer.transitions[None]
    scaler = StandardScaler().fit(train_x)
    train_s = scaler.transform(train_x)
    query_s = scaler.transform(np.concatenate([query.obs, query.acts], axis=1))
    default_kde = KernelDensity(bandwidth=BANDWIDTH).fit(train_s)

    def ours() -> None:
        trainer.train()
        trainer(query.obs, query.acts, query.next_obs, query.dones)

    def sklearn_default() -> None:
        default_kde.score_samples(query_s)

    def brute() -> None:
        brute_force_log_density(train_s, query_s)

    trainer.train()
    ours_r = trainer(query.obs, query.acts, query.next_obs, query.dones)
    err = max(
        np.abs(ours_r - default_kde.score_samples(query_s)).max(),
        np.abs(ours_r - brute_force_log_density(train_s, query_s)).max(),
    )
    fns = [ours, sklearn_default, brute]
    wall = best_times_interleaved(fns, repeats=3)
    cpu = best_times_interleaved(fns, repeats=3, clock=time.process_time)
    names = [
        "DensityAlgorithm.train() + __call__ (bar: < 1.5 s)",
        "floor: sklearn KernelDensity default settings (score only)",
        "floor: numpy brute-force exact sum (score only)",
    ]
    print_table(
        "Density reward: fit on 20 Pendulum episodes + reward of 4,000 "
        f"state-action pairs (max |difference| between the three: {err:.1e})",
        ["measurement", "wall s", "CPU s", "CPU ratio to ours"],
        [[n, w, c, c / cpu[0]] for n, w, c in zip(names, wall, cpu)],
    )


def main() -> None:
    th.set_num_threads(1)
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2]
    if what in ("all", "speed"):
        speed()
    if what in ("all", "auc"):
        rows = [[seed, *auc(seed)] for seed in seeds]
        print_table(
            "Learned reward ranks expert above random transitions (bar: AUC >= 0.95)",
            ["seed", "ROC AUC", "mean reward expert", "mean reward random"],
            rows,
        )
    if what in ("all", "ppo"):
        start = time.perf_counter()
        curves = [ppo_run(seed) for seed in seeds]
        rows = []
        for i, (step, _) in enumerate(curves[0]):
            returns = [c[i][1] for c in curves]
            gains = [c[i][1] - c[0][1] for c in curves]
            rows.append([step, np.mean(returns), np.min(gains), np.max(gains)])
        print_table(
            f"PPO on the density reward, {ENV_ID}, seeds {seeds}, true return "
            f"over 50 episodes ({time.perf_counter() - start:.0f} s; bar: gain "
            ">= 300 at 200k steps)",
            ["env steps", "mean return", "min gain vs untrained", "max gain"],
            rows,
        )


if __name__ == "__main__":
    main()
