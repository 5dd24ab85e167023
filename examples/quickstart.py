"""Quickstart: imitation's main job, offline, on the expert bundled for CartPole.

It loads the bundled ``seals/CartPole-v0`` expert, samples demonstrations from
it, saves them to disk and loads them back, then prints a table of returns.
Each algorithm added to the library adds its row to this table.

Run: ``bash scripts/quickstart.sh`` (or ``python examples/quickstart.py --fast``).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from imitation.data import rollout, serialize
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.util.util import make_vec_env

ENV_ID = "seals/CartPole-v0"


def evaluate(policy: object, venv: object, n_episodes: int, seed: int) -> float:
    """Mean return of ``policy`` over ``n_episodes`` episodes."""
    trajs = rollout.generate_trajectories(
        policy,  # type: ignore[arg-type]
        venv,  # type: ignore[arg-type]
        rollout.make_min_episodes(n_episodes),
        rng=np.random.default_rng(seed),
    )
    return float(np.mean([t.rews.sum() for t in trajs]))


def main() -> None:
    """Run the quickstart and print the results table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="tiny budgets, for CI")
    args = parser.parse_args()
    n_demos = 10 if args.fast else 50
    n_eval = 4 if args.fast else 20

    rng = np.random.default_rng(0)
    venv = make_vec_env(
        f"seals:{ENV_ID}",
        rng=rng,
        n_envs=4,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    expert = load_policy("bundled", venv, env_name=ENV_ID)

    start = time.perf_counter()
    demos = rollout.rollout(
        expert, venv, rollout.make_min_episodes(n_demos), rng=rng, verbose=False
    )
    collect_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        serialize.save(f"{tmp}/demos", demos)
        loaded = serialize.load(f"{tmp}/demos")
        n_loaded = sum(len(t) for t in loaded)
        io_s = time.perf_counter() - start
    assert n_loaded == sum(len(t) for t in demos)

    rows = [
        ("random policy", evaluate(None, venv, n_eval, seed=1)),
        ("bundled expert", evaluate(expert, venv, n_eval, seed=1)),
    ]
    print(f"\n{ENV_ID}: {len(demos)} expert demonstrations ({n_loaded} transitions)")
    print(f"collected in {collect_s:.2f} s; saved and loaded back in {io_s:.2f} s\n")
    print(f"| {'policy':<16} | mean return ({n_eval} episodes) |")
    print(f"|{'-' * 18}|{'-' * 30}|")
    for name, ret in rows:
        print(f"| {name:<16} | {ret:>28.1f} |")


if __name__ == "__main__":
    main()
