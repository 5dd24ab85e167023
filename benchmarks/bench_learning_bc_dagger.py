"""Learning curves of BC and DAgger on seals/CartPole-v0 over 3 seeds.

Scores are normalised: (return - random) / (expert - random), with the random
policy's and the bundled expert's mean returns measured in the same run (50
episodes each). Every score is the mean return over 50 episodes of the trained
policy (stochastic actions).

* BC: trained for 4 epochs on 1, 2, 5, 10 and 25 expert episodes.
* DAgger: ``SimpleDAggerTrainer`` with 4 envs, scored after each round
  (about 2,000 env steps per round).

Run: ``.venv/bin/python benchmarks/bench_learning_bc_dagger.py``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

import numpy as np
import torch as th

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402
from imitation.algorithms import bc, dagger  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

SEEDS = (0, 1, 2)
N_DEMOS = (1, 2, 5, 10, 25)
DAGGER_ROUNDS = 4
EVAL_EPISODES = 50


def mean_return(policy, venv, seed: int) -> float:
    trajs = rollout.generate_trajectories(
        policy,
        venv,
        rollout.make_min_episodes(EVAL_EPISODES),
        rng=np.random.default_rng(seed),
    )
    return float(np.mean([t.rews.sum() for t in trajs[:EVAL_EPISODES]]))


def make_bc(venv, rng) -> bc.BC:
    return bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=logger.configure(format_strs=[]),
    )


def main() -> None:
    th.set_num_threads(1)
    venv = make_vec_env(
        "seals:seals/CartPole-v0", rng=np.random.default_rng(100), n_envs=4
    )
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    random_ret = mean_return(None, venv, 100)
    expert_ret = mean_return(expert, venv, 100)

    def normalize(ret: float) -> float:
        return (ret - random_ret) / (expert_ret - random_ret)

    bc_scores = {n: [] for n in N_DEMOS}
    dagger_scores: dict[int, list[float]] = {r: [] for r in range(1, DAGGER_ROUNDS + 1)}
    dagger_steps: dict[int, list[int]] = {r: [] for r in range(1, DAGGER_ROUNDS + 1)}
    for seed in SEEDS:
        th.manual_seed(seed)
        rng = np.random.default_rng(seed)
        demos = generate_expert_trajectories("seals/CartPole-v0", max(N_DEMOS), rng)
        for n in N_DEMOS:
            trainer = make_bc(venv, rng)
            trainer.set_demonstrations(demos[:n])
            trainer.train(n_epochs=4, progress_bar=False)
            bc_scores[n].append(normalize(mean_return(trainer.policy, venv, seed)))
        with tempfile.TemporaryDirectory() as scratch:
            trainer_dagger = dagger.SimpleDAggerTrainer(
                venv=venv,
                scratch_dir=scratch,
                expert_policy=expert,
                bc_trainer=make_bc(venv, rng),
                rng=rng,
                custom_logger=logger.configure(format_strs=[]),
            )
            for round_num in range(1, DAGGER_ROUNDS + 1):
                # One round per call: train() stops once its budget is reached.
                trainer_dagger.train(1, bc_train_kwargs={"progress_bar": False})
                dagger_steps[round_num].append(trainer_dagger.total_timesteps)
                score = mean_return(trainer_dagger.policy, venv, seed)
                dagger_scores[round_num].append(normalize(score))

    print(f"random return {random_ret:.1f}, expert return {expert_ret:.1f}")
    print_table(
        "BC on seals/CartPole-v0 (normalised score, 3 seeds)",
        ["expert episodes", "mean", "min", "max"],
        [[n, np.mean(s), np.min(s), np.max(s)] for n, s in bc_scores.items()],
    )
    print_table(
        "DAgger on seals/CartPole-v0 (normalised score, 3 seeds)",
        ["round", "env steps so far", "mean", "min", "max"],
        [
            [r, int(np.mean(dagger_steps[r])), np.mean(s), np.min(s), np.max(s)]
            for r, s in dagger_scores.items()
        ],
    )


if __name__ == "__main__":
    main()
