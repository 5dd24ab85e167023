"""ONNX export of a BC policy: time to export, against floors from the same run.

Workload: the policy of ``imitation.algorithms.bc.BC`` for seals/CartPole-v0
(``FeedForward32Policy``: 4 observations, 2 discrete actions, 32x32 MLP),
trained for one epoch on two expert episodes. Measured:

* ``export_onnx`` the first time in the process (includes the exporter's
  one-off set-up: loading onnxscript and building its op registry), and warm
  (best of 3);
* floors: ``torch.export.export`` of the same module (the graph capture the
  ONNX exporter starts with) and ``export_torchscript`` (a trace);
* per-call latency of one action: onnxruntime on the exported file against
  ``policy.predict`` (best of 5 runs of 200 calls).

Wall and CPU time (``time.process_time``) are both shown: on a shared
machine, wall time includes waiting for a core. Goal: an export under 5 s.
Run: ``.venv/bin/python benchmarks/bench_onnx_export.py``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402

GOAL_SECONDS = 5.0
N_CALLS = 200


def trained_bc_policy():
    """A BC policy for seals/CartPole-v0, trained briefly on expert episodes."""
    from imitation.algorithms import bc
    from imitation.data import rollout
    from imitation.data.wrappers import RolloutInfoWrapper
    from imitation.policies.serialize import load_policy
    from imitation.util.util import make_vec_env

    rng = np.random.default_rng(0)
    venv = make_vec_env(
        "seals:seals/CartPole-v0",
        rng=rng,
        n_envs=1,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    demos = rollout.rollout(expert, venv, rollout.make_min_episodes(2), rng=rng)
    venv.close()
    trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        demonstrations=rollout.flatten_trajectories(demos),
        rng=rng,
    )
    trainer.train(n_epochs=1, progress_bar=False)
    return trainer.policy


def main() -> None:
    import onnxruntime
    import torch as th

    from imitation.policies import export
    from imitation.util import networks

    policy = trained_bc_policy()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = pathlib.Path(tmp, "policy.onnx")
        start, start_cpu = time.perf_counter(), time.process_time()
        export.export_onnx(policy, onnx_path)
        t_cold = time.perf_counter() - start
        cpu_cold = time.process_time() - start_cpu
        max_diff = export.check_onnx(policy, onnx_path)

        module = export.as_module(policy)
        args = tuple(th.as_tensor(v) for v in export.random_inputs(module, 3).values())

        def onnx_export() -> None:
            export.export_onnx(policy, onnx_path)

        def torch_export() -> None:
            with networks.evaluating(module):
                th.distributions.Distribution.set_default_validate_args(False)
                try:
                    th.export.export(module, args, strict=False)
                finally:
                    th.distributions.Distribution.set_default_validate_args(True)

        def torchscript() -> None:
            export.export_torchscript(policy, pathlib.Path(tmp, "policy.pt"))

        t_warm, t_capture, t_trace = best_times_interleaved(
            [onnx_export, torch_export, torchscript], repeats=3
        )
        # CPU time of this process: what the export costs on an idle machine.
        cpu_warm, cpu_capture, cpu_trace = best_times_interleaved(
            [onnx_export, torch_export, torchscript],
            repeats=3,
            clock=time.process_time,
        )

        session = onnxruntime.InferenceSession(
            str(onnx_path), providers=["CPUExecutionProvider"]
        )
        obs = np.zeros((1, 4), dtype=np.float32)

        def ort_calls() -> None:
            for _ in range(N_CALLS):
                session.run(None, {"obs": obs})

        def predict_calls() -> None:
            for _ in range(N_CALLS):
                policy.predict(obs, deterministic=True)

        t_ort, t_predict = best_times_interleaved([ort_calls, predict_calls])
    print_table(
        f"ONNX export of a BC policy (goal: under {GOAL_SECONDS:g} s)",
        ["measurement", "wall seconds", "CPU seconds", "goal"],
        [
            ["export_onnx, first in the process", t_cold, cpu_cold, "< 5"],
            ["export_onnx, warm (best of 3)", t_warm, cpu_warm, "< 5"],
            ["floor: torch.export.export (capture only)", t_capture, cpu_capture, ""],
            ["floor: export_torchscript (trace + save)", t_trace, cpu_trace, ""],
        ],
    )
    print(f"\ncheck_onnx: max |onnxruntime - PyTorch| = {max_diff:g} (limit 1e-05)")
    print_table(
        "One action (batch of 1), per call",
        ["measurement", "microseconds", "ratio to predict"],
        [
            ["onnxruntime session.run", 1e6 * t_ort / N_CALLS, t_ort / t_predict],
            ["floor: policy.predict (PyTorch)", 1e6 * t_predict / N_CALLS, 1.0],
        ],
    )
    met = max(t_cold, t_warm) < GOAL_SECONDS
    print(
        f"\nGoal (wall) {'met' if met else 'MISSED'}: {t_cold:.2f} s cold, "
        f"{t_warm:.2f} s warm; CPU {cpu_cold:.2f} s cold, {cpu_warm:.2f} s warm."
    )


if __name__ == "__main__":
    main()
