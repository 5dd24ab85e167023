"""Print the bundled seals MuJoCo experts' table for docs/benchmarks.md.

Reads only the JSON records beside the experts (written by
``tools/train_experts.py``), so the published table is reproducible from the
committed files: ``.venv/bin/python tools/expert_table.py``.
"""

from __future__ import annotations

from imitation.policies import serialize

MUJOCO = [
    "seals/Ant-v1",
    "seals/HalfCheetah-v1",
    "seals/Hopper-v1",
    "seals/Swimmer-v1",
    "seals/Walker2d-v1",
]
ORIGINAL = {  # the original release's expert returns, as its summary implies
    "seals/Ant-v1": "~2,500",
    "seals/HalfCheetah-v1": "~1,630",
    "seals/Hopper-v1": "~200",
    "seals/Swimmer-v1": "~290",
    "seals/Walker2d-v1": "~2,470",
}


def main() -> None:
    """Print the summary table, then each expert's learning curve.

    Tasks without a bundled expert are left out.
    """
    print(
        "| task | steps (seed) | train wall time | selected at | "
        "return, 50 episodes | bar | original's |"
    )
    print("|---|---|---|---|---|---|---|")
    bundled = serialize.bundled_expert_env_names()
    records = {e: serialize.bundled_expert_record(e) for e in MUJOCO if e in bundled}
    for env, r in records.items():
        curve = r["learning_curve"]
        best = max(curve, key=lambda point: point["return_mean"])
        print(
            f"| `{env}` | {r['timesteps']:,} ({r['seed']}) "
            f"| {r['train_seconds'] / 60:.0f} min | {best['steps']:,} "
            f"| {r['eval_return_mean']:.1f} ± {r['eval_return_std']:.1f} "
            f"| >= {r['quality_bar']:g} | {ORIGINAL[env]} |"
        )
    print()
    steps = sorted({p["steps"] for r in records.values() for p in r["learning_curve"]})
    print("| steps | " + " | ".join(e.split("/")[1] for e in records) + " |")
    print("|---" * (len(records) + 1) + "|")
    for n in steps:
        cells = []
        for r in records.values():
            found = [p for p in r["learning_curve"] if p["steps"] == n]
            cells.append(f"{found[0]['return_mean']:.0f}" if found else "")
        print(f"| {n:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
