"""BC and DAgger on seals/CartPole-v0 with Dict observations, beside the flat env.

The dict env is ``DictObsWrapper`` over seals/CartPole-v0 (``{"pos": [x,
theta], "vel": [x_dot, theta_dot]}``); the learners use their default policy,
which for a ``Dict`` space is ``MultiInputFeedForward32Policy`` (SB3's
``CombinedExtractor``, then 32x32). The flat env with ``FeedForward32Policy``
is run in the same loop as the reference.

Settings are those of ``bench_learning_bc_dagger.py`` (seeds, evaluation
episodes, how BC is built and scored), imported from it:

* BC: 4 epochs on 10 expert episodes. The dict demonstrations are the flat
  expert episodes of the same seed converted with ``dict_trajectories_from_flat``.
* DAgger: ``SimpleDAggerTrainer.train(4000)`` with 4 envs from scratch; on the
  dict env the flat bundled expert acts through ``FlatPolicyOnDictObs``.

Scores are normalised, (return - random) / (expert - random), with the random
and expert returns measured on each env in the same run. Target: >= 0.9 on
every seed for the dict env.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dict_obs_bc_dagger.py``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

import numpy as np
import torch as th
from stable_baselines3.common import policies

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402
from bench_learning_bc_dagger import (  # noqa: E402
    EVAL_EPISODES,
    SEEDS,
    make_bc,
    mean_return,
)
from imitation.algorithms import dagger  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.testing.dict_obs import (  # noqa: E402
    FlatPolicyOnDictObs,
    dict_trajectories_from_flat,
)
from imitation.testing.envs import DictObsWrapper  # noqa: E402
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

ENV = "seals:seals/CartPole-v0"
N_DEMOS = 10
BC_EPOCHS = 4  # as bench_learning_bc_dagger.py
DAGGER_STEPS = 4_000
TARGET = 0.9


def run_bc(venv, demos, rng) -> tuple[policies.BasePolicy, float]:
    """Train BC; return (policy, training seconds)."""
    trainer = make_bc(venv, rng)
    trainer.set_demonstrations(demos)
    start = time.perf_counter()
    trainer.train(n_epochs=BC_EPOCHS, progress_bar=False)
    seconds = time.perf_counter() - start
    return trainer.policy, seconds


def run_dagger(venv, expert, rng) -> tuple[policies.BasePolicy, int, float]:
    """Train DAgger from scratch; return (policy, env steps, training seconds)."""
    with tempfile.TemporaryDirectory() as scratch:
        trainer = dagger.SimpleDAggerTrainer(
            venv=venv,
            scratch_dir=scratch,
            expert_policy=expert,
            bc_trainer=make_bc(venv, rng),
            rng=rng,
            custom_logger=logger.configure(format_strs=[]),
        )
        start = time.perf_counter()
        trainer.train(DAGGER_STEPS, bc_train_kwargs={"progress_bar": False})
        seconds = time.perf_counter() - start
    return trainer.policy, trainer.total_timesteps, seconds


def main() -> None:
    th.set_num_threads(1)
    venvs = {
        "dict": make_vec_env(
            ENV,
            rng=np.random.default_rng(100),
            n_envs=4,
            post_wrappers=[lambda env, _: RolloutInfoWrapper(DictObsWrapper(env))],
        ),
        "flat": make_vec_env(ENV, rng=np.random.default_rng(100), n_envs=4),
    }
    flat_expert = load_policy("bundled", venvs["flat"], env_name="seals/CartPole-v0")
    experts = {
        "dict": FlatPolicyOnDictObs(flat_expert, venvs["dict"].observation_space),
        "flat": flat_expert,
    }
    baselines = {
        kind: (mean_return(None, venv, 100), mean_return(experts[kind], venv, 100))
        for kind, venv in venvs.items()
    }

    rows = []
    scores: dict[tuple[str, str], list[float]] = {}
    for seed in SEEDS:
        flat_demos = generate_expert_trajectories(
            "seals/CartPole-v0", N_DEMOS, np.random.default_rng(seed)
        )
        demos = {"flat": flat_demos, "dict": dict_trajectories_from_flat(flat_demos)}
        for kind in ("dict", "flat"):
            venv = venvs[kind]
            random_ret, expert_ret = baselines[kind]

            def normalize(ret: float, lo: float = random_ret, hi: float = expert_ret):
                return (ret - lo) / (hi - lo)

            th.manual_seed(seed)
            policy, seconds = run_bc(venv, demos[kind], np.random.default_rng(seed))
            ret = mean_return(policy, venv, seed)
            scores.setdefault(("BC", kind), []).append(normalize(ret))
            rows.append(
                [
                    seed,
                    kind,
                    f"BC, {N_DEMOS} episodes",
                    "-",
                    ret,
                    normalize(ret),
                    seconds,
                ]
            )

            th.manual_seed(seed)
            policy, steps, seconds = run_dagger(
                venv, experts[kind], np.random.default_rng(seed)
            )
            ret = mean_return(policy, venv, seed)
            scores.setdefault(("DAgger", kind), []).append(normalize(ret))
            rows.append([seed, kind, "DAgger", steps, ret, normalize(ret), seconds])

    for kind, (random_ret, expert_ret) in baselines.items():
        print(f"{kind}: random return {random_ret:.1f}, expert return {expert_ret:.1f}")
    print_table(
        f"Per seed (mean return over {EVAL_EPISODES} episodes)",
        ["seed", "obs", "algorithm", "env steps", "return", "normalised", "train s"],
        rows,
    )
    print_table(
        "Normalised score over seeds",
        ["algorithm", "obs", "mean", "min", "max", f">= {TARGET} on every seed"],
        [
            [algo, kind, np.mean(s), np.min(s), np.max(s), min(s) >= TARGET]
            for (algo, kind), s in scores.items()
        ],
    )


if __name__ == "__main__":
    main()
