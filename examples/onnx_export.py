"""Export a BC policy to ONNX and run it with onnxruntime, without PyTorch.

1. Train BC on demonstrations of the bundled seals/CartPole-v0 expert.
2. Export the policy with ``imitation.policies.export.export_onnx`` and check
   that onnxruntime agrees with PyTorch (``check_onnx``).
3. Run the exported policy in a separate Python process that cannot import
   torch (a ``sys.meta_path`` finder refuses it): it acts in the environment
   with onnxruntime alone, as a deployment would, and computes the actions for
   a batch of observations that this process compares with the PyTorch
   policy's.

Run: ``python examples/onnx_export.py`` (``--fast`` for a tiny budget). The
inference part alone: ``python examples/onnx_export.py --infer policy.onnx
--obs obs.npy --out actions.npy``.
"""

from __future__ import annotations

import argparse
import pathlib
import sys


class _BlockTorch:
    """A meta-path finder that makes ``import torch`` fail in this process."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is blocked: this process runs without torch.")
        return None


def infer(model: str, obs_path: str, out_path: str, episodes: int) -> None:
    """Act with the ONNX policy using only numpy, gymnasium and onnxruntime."""
    sys.meta_path.insert(0, _BlockTorch())  # type: ignore[arg-type]
    import gymnasium as gym
    import numpy as np
    import onnxruntime as ort
    import seals  # noqa: F401 - registers seals/CartPole-v0

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    (obs_input,) = (i.name for i in session.get_inputs())

    def act(obs: np.ndarray) -> np.ndarray:
        return session.run(None, {obs_input: obs.astype(np.float32)})[0]

    np.save(out_path, act(np.load(obs_path)))
    env = gym.make("seals/CartPole-v0")
    returns = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = int(act(obs[None])[0])
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    assert "torch" not in sys.modules, "torch was imported"
    print(f"onnxruntime-only returns over {episodes} episodes: {returns}")


def main(fast: bool) -> None:
    """Train, export, check, and run the exported policy without torch."""
    import subprocess
    import tempfile

    import numpy as np

    from imitation.algorithms import bc
    from imitation.data import rollout
    from imitation.data.wrappers import RolloutInfoWrapper
    from imitation.policies import export
    from imitation.policies.serialize import load_policy
    from imitation.util.util import make_vec_env

    rng = np.random.default_rng(0)
    venv = make_vec_env(
        "seals:seals/CartPole-v0",
        rng=rng,
        n_envs=2,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    demos = rollout.rollout(
        expert, venv, rollout.make_min_episodes(2 if fast else 20), rng=rng
    )
    trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        demonstrations=rollout.flatten_trajectories(demos),
        rng=rng,
    )
    trainer.train(n_epochs=1 if fast else 5, progress_bar=False)
    venv.close()

    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(tmp, "policy.onnx")
        export.export_onnx(trainer.policy, model)
        diff = export.check_onnx(trainer.policy, model)
        print(f"Exported to {model.name}; onnxruntime vs PyTorch: max diff {diff:g}")

        obs = rng.normal(size=(256, 4)).astype(np.float32)
        np.save(pathlib.Path(tmp, "obs.npy"), obs)
        out = pathlib.Path(tmp, "actions.npy")
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--infer",
                str(model),
                "--obs",
                str(pathlib.Path(tmp, "obs.npy")),
                "--out",
                str(out),
                "--episodes",
                "1" if fast else "5",
            ],
            check=True,
        )
        torch_actions, _ = trainer.policy.predict(obs, deterministic=True)
        onnx_actions = np.load(out)
        assert np.array_equal(onnx_actions, torch_actions), "actions differ"
        print(f"The torch-free process chose the same {len(obs)} actions as PyTorch.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--fast", action="store_true", help="tiny budget")
    parser.add_argument("--infer", metavar="MODEL", help="only run MODEL.onnx")
    parser.add_argument("--obs", help="with --infer: observations (.npy) to act on")
    parser.add_argument("--out", help="with --infer: where to save their actions")
    parser.add_argument("--episodes", type=int, default=5, help="with --infer")
    args = parser.parse_args()
    if args.infer:
        infer(args.infer, args.obs, args.out, args.episodes)
    else:
        main(args.fast)
