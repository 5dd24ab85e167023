"""Train the expert policies bundled with imitation, reproducibly.

Each expert is trained with fixed seeds and the hyperparameters recorded below
(taken from well-tested RL Zoo settings, with small networks so the files stay
small), then evaluated over 50 episodes with the library's own rollout code
(stochastic actions, as when sampling demonstrations). Only an expert that
meets its quality bar is written, atomically, to
``src/imitation/policies/bundled/<name>.zip`` with a JSON record beside it.

Usage: ``.venv/bin/python tools/train_experts.py [env_id ...]`` (default: all).
"""

from __future__ import annotations

import argparse
import copy
import json
import pathlib
import time
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import LinearSchedule

from imitation.data import rollout
from imitation.policies.serialize import bundled_expert_filename
from imitation.testing.expert_trajectories import gym_id
from imitation.util import util

OUT_DIR = (
    pathlib.Path(__file__).parents[1] / "src" / "imitation" / "policies" / "bundled"
)

CARTPOLE_PPO: dict[str, Any] = dict(
    n_steps=32,
    batch_size=256,
    gae_lambda=0.8,
    gamma=0.98,
    n_epochs=20,
    ent_coef=0.0,
    learning_rate=LinearSchedule(1e-3, 0.0, 1.0),
    clip_range=LinearSchedule(0.2, 0.0, 1.0),
)

EXPERTS: dict[str, dict[str, Any]] = {
    "seals/CartPole-v0": dict(
        algo=PPO, n_envs=8, timesteps=100_000, bar=495.0, kwargs=CARTPOLE_PPO
    ),
    "CartPole-v1": dict(
        algo=PPO, n_envs=8, timesteps=100_000, bar=495.0, kwargs=CARTPOLE_PPO
    ),
    "Pendulum-v1": dict(
        algo=SAC,
        n_envs=1,
        timesteps=20_000,
        bar=-200.0,
        kwargs=dict(learning_rate=1e-3, policy_kwargs=dict(net_arch=[64, 64])),
    ),
    "seals/MountainCar-v0": dict(
        algo=DQN,
        n_envs=1,
        timesteps=200_000,
        bar=-110.0,
        # DQN on MountainCar oscillates late in training: evaluate every 20k
        # steps and keep the best parameters (RL Zoo's EvalCallback practice).
        keep_best_every=10_000,
        seed=2,
        kwargs=dict(
            learning_rate=4e-3,
            batch_size=128,
            buffer_size=10_000,
            learning_starts=1_000,
            gamma=0.98,
            target_update_interval=600,
            train_freq=16,
            gradient_steps=8,
            exploration_fraction=0.2,
            exploration_final_eps=0.07,
            policy_kwargs=dict(net_arch=[256, 256]),
        ),
    ),
}
SEED = 0
EVAL_EPISODES = 50


def evaluate(
    model: Any, env_id: str, n_episodes: int = EVAL_EPISODES, seed: int = SEED + 1
) -> tuple[float, float]:
    """Mean and std of the return over ``n_episodes`` stochastic episodes."""
    venv = util.make_vec_env(gym_id(env_id), rng=np.random.default_rng(seed), n_envs=5)
    trajs = rollout.generate_trajectories(
        model.policy,
        venv,
        rollout.make_min_episodes(n_episodes),
        rng=np.random.default_rng(seed),
    )
    returns = np.array([t.rews.sum() for t in trajs[:n_episodes]])
    return float(returns.mean()), float(returns.std())


class KeepBest(BaseCallback):
    """Every ``every`` steps, evaluate on 50 episodes (own seed); keep the best weights.

    Selection uses a different env seed from the final 50-episode check, so
    the reported quality is not the selection score.
    """

    def __init__(self, env_id: str, every: int) -> None:
        super().__init__()
        self.env_id, self.every = env_id, every
        self.best_mean = -np.inf
        self.best_state: dict[str, Any] = {}

    def _on_step(self) -> bool:
        if self.num_timesteps % self.every == 0:
            mean, _ = evaluate(self.model, self.env_id, n_episodes=50, seed=SEED + 100)
            print(f"  {self.num_timesteps} steps: selection return {mean:.1f}")
            if mean > self.best_mean:
                self.best_mean = mean
                self.best_state = copy.deepcopy(self.model.policy.state_dict())
        return True


def train(
    env_id: str, seed_override: int | None = None, out_dir: pathlib.Path = OUT_DIR
) -> None:
    """Train, check and (if it passes) save the expert for ``env_id``."""
    cfg = EXPERTS[env_id]
    seed = seed_override if seed_override is not None else cfg.get("seed", SEED)
    th.manual_seed(seed)
    venv = util.make_vec_env(
        gym_id(env_id), rng=np.random.default_rng(seed), n_envs=cfg["n_envs"]
    )
    model = cfg["algo"]("MlpPolicy", venv, seed=seed, device="cpu", **cfg["kwargs"])
    start = time.perf_counter()
    callback = None
    if "keep_best_every" in cfg:
        callback = KeepBest(env_id, cfg["keep_best_every"])
    model.learn(cfg["timesteps"], callback=callback)
    if callback is not None:
        model.policy.load_state_dict(callback.best_state)
    seconds = time.perf_counter() - start
    mean, std = evaluate(model, env_id)
    print(
        f"{env_id}: mean return {mean:.1f} +- {std:.1f} (bar {cfg['bar']}), "
        f"trained {cfg['timesteps']} steps in {seconds:.0f} s"
    )
    if mean < cfg["bar"]:
        raise SystemExit(f"{env_id}: expert below its quality bar; not saved.")
    name = bundled_expert_filename(env_id)
    with util.atomic_write_path(out_dir / f"{name}.zip") as tmp:
        # Save without the optimizer state: the file is for inference only.
        model.save(tmp, exclude=["replay_buffer"])
    record = {
        "env_id": env_id,
        "algo": cfg["algo"].__name__.lower(),
        "seed": seed,
        "timesteps": cfg["timesteps"],
        "n_envs": cfg["n_envs"],
        "hyperparameters": {k: repr(v) for k, v in cfg["kwargs"].items()},
        "eval_episodes": EVAL_EPISODES,
        "eval_return_mean": mean,
        "eval_return_std": std,
        "quality_bar": cfg["bar"],
    }
    with util.atomic_write_path(out_dir / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")


def main() -> None:
    """Parse arguments and train the requested experts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("env_ids", nargs="*", default=list(EXPERTS))
    parser.add_argument("--seed", type=int, help="override the recorded seed")
    parser.add_argument("--out-dir", type=pathlib.Path, default=OUT_DIR)
    args = parser.parse_args()
    th.set_num_threads(1)
    for env_id in args.env_ids:
        train(env_id, args.seed, args.out_dir)


if __name__ == "__main__":
    main()
