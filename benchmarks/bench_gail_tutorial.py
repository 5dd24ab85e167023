"""GAIL on the documentation's tutorial settings, beside ground-truth PPO.

Setting (the GAIL tutorial): seals/CartPole-v0, 8 envs, 60 episodes of the
bundled expert, PPO (batch 64, lr 4e-4, gamma 0.95, 5 epochs), BasicRewardNet
with RunningNorm inputs, demo_batch_size 1024, gen_replay_buffer_capacity 512,
8 discriminator updates per round, 200,000 env steps. The reference run trains
the same PPO on the true reward (``debug_use_ground_truth=True``): it shows
what the generator can reach in the budget, so a gap is the learned reward's.

Scores are normalised with the random policy's and the expert's returns
measured in the same run (16 episodes each evaluation).

Run: ``.venv/bin/python benchmarks/bench_gail_tutorial.py [seed ...]
[--disc-lr LR]`` (default seeds 0 1 2, the trainer's default learning rate).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.ppo import MlpPolicy

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402
from imitation.algorithms.adversarial.gail import GAIL  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.networks import RunningNorm  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

TOTAL = 200_000
ENV = "seals:seals/CartPole-v0"


def mean_return(policy, seed: int) -> float:
    venv = make_vec_env(ENV, rng=np.random.default_rng(seed + 1000), n_envs=8)
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(16), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:16]]))


def run(
    seed: int, ground_truth: bool, disc_lr: float | None
) -> list[tuple[int, float]]:
    th.manual_seed(seed)
    env = make_vec_env(
        ENV,
        rng=np.random.default_rng(seed),
        n_envs=8,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )
    expert = load_policy("bundled", env, env_name="seals-CartPole-v0")
    demos = rollout.rollout(
        expert,
        env,
        rollout.make_sample_until(min_timesteps=None, min_episodes=60),
        rng=np.random.default_rng(seed),
        verbose=False,
    )
    learner = PPO(
        env=env,
        policy=MlpPolicy,
        batch_size=64,
        ent_coef=0.0,
        learning_rate=0.0004,
        gamma=0.95,
        n_epochs=5,
        seed=seed,
        device="cpu",
    )
    reward_net = BasicRewardNet(
        env.observation_space, env.action_space, normalize_input_layer=RunningNorm
    )
    trainer = GAIL(
        demonstrations=demos,
        demo_batch_size=1024,
        gen_replay_buffer_capacity=512,
        n_disc_updates_per_round=8,
        venv=env,
        gen_algo=learner,
        reward_net=reward_net,
        debug_use_ground_truth=ground_truth,
        disc_opt_kwargs=None if disc_lr is None else {"lr": disc_lr},
        custom_logger=logger.configure(format_strs=[]),
    )
    curve = []

    def evaluate(round_num: int) -> None:
        if (round_num + 1) % 3 == 0:
            steps = (round_num + 1) * trainer.gen_train_timesteps
            curve.append((steps, mean_return(learner.policy, seed)))

    trainer.train(TOTAL, callback=evaluate)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--disc-lr", type=float, default=None)
    args = parser.parse_args()
    th.set_num_threads(1)
    random_ret = mean_return(None, 0)
    expert_ret = mean_return(
        load_policy(
            "bundled",
            make_vec_env(ENV, rng=np.random.default_rng(0), n_envs=8),
            env_name="seals-CartPole-v0",
        ),
        0,
    )

    def norm(x: float) -> float:
        return (x - random_ret) / (expert_ret - random_ret)

    rows = []
    for seed in args.seeds:
        gail = run(seed, False, args.disc_lr)
        truth = run(seed, True, args.disc_lr)
        for (steps, g), (_, t) in zip(gail, truth):
            rows.append([seed, steps, norm(g), norm(t)])
    print(f"random return {random_ret:.1f}, expert return {expert_ret:.1f}")
    print_table(
        f"GAIL, tutorial settings (disc lr {args.disc_lr or 'default'})",
        ["seed", "env steps", "GAIL normalised", "reference: PPO on true reward"],
        rows,
    )


if __name__ == "__main__":
    main()
