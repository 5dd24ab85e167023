"""GAIL and AIRL learning on the documentation's tutorial settings (several seeds).

* ``gail``: seals/CartPole-v0, 8 envs, 60 episodes of the bundled expert, PPO
  (batch 64, lr 4e-4, gamma 0.95, 5 epochs), BasicRewardNet with RunningNorm
  inputs, demo_batch_size 1024, gen_replay_buffer_capacity 512, 8
  discriminator updates per round; 200,000 env steps (12 rounds).
* ``airl``: the AIRL tutorial: PPO (lr 5e-4, clip 0.1, vf_coef 0.1), a
  BasicShapedRewardNet, demo_batch_size 2048, 16 discriminator updates per
  round; 300,000 env steps (18 rounds).
* ``pendulum``: GAIL with a SAC generator on Pendulum-v1 from 20 episodes of
  the bundled expert (see ``PENDULUM`` below), 30,000 env steps; scored every
  6,000 steps. The trainer relabels SAC's replayed rewards with the current
  discriminator.

Scores are normalised, ``(return - random) / (expert - random)``, with the
random policy's and the expert's returns measured in the same run. Each
checkpoint evaluates 16 episodes with the policy's most likely action (as the
tutorials' ``evaluate_policy``) and 16 sampling from it.

Run: ``.venv/bin/python benchmarks/bench_adversarial.py {gail,airl,pendulum}
[seed ...] [--steps N]`` (default seeds 0 1 2; steps as above).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch as th
from stable_baselines3 import PPO, SAC

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402
from imitation.algorithms.adversarial.airl import AIRL  # noqa: E402
from imitation.algorithms.adversarial.gail import GAIL  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet, BasicShapedRewardNet  # noqa: E402
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger, presets  # noqa: E402
from imitation.util.networks import RunningNorm  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

CARTPOLE = "seals:seals/CartPole-v0"
PENDULUM = dict(
    total=30_000,
    every=6_000,
    gen_train_timesteps=2_000,
    demo_batch_size=256,
    n_disc_updates_per_round=4,
    sac_kwargs=dict(learning_rate=1e-3, policy_kwargs=dict(net_arch=[64, 64])),
)


def mean_returns(policy, env_id: str, seed: int) -> tuple[float, float]:
    """Mean return over 16 episodes: (most likely action, sampled action)."""
    out = []
    for deterministic in (True, False):
        venv = make_vec_env(env_id, rng=np.random.default_rng(seed + 1000), n_envs=8)
        trajs = rollout.generate_trajectories(
            policy,
            venv,
            rollout.make_min_episodes(16),
            rng=np.random.default_rng(seed),
            deterministic_policy=deterministic and policy is not None,
        )
        out.append(float(np.mean([t.rews.sum() for t in trajs[:16]])))
    return out[0], out[1]


def cartpole_trainer(algo: str, seed: int):
    env = make_vec_env(
        CARTPOLE,
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
    quiet = logger.configure(format_strs=[])
    if algo == "gail":
        learner = PPO(
            env=env,
            policy="MlpPolicy",
            seed=seed,
            device="cpu",
            **presets.GAIL_CARTPOLE_PPO,
        )
        net = BasicRewardNet(
            env.observation_space, env.action_space, normalize_input_layer=RunningNorm
        )
        return GAIL(
            demonstrations=demos,
            **presets.GAIL_CARTPOLE_TRAINER,
            venv=env,
            gen_algo=learner,
            reward_net=net,
            custom_logger=quiet,
        )
    learner = PPO(
        env=env,
        policy="MlpPolicy",
        seed=seed,
        device="cpu",
        **presets.AIRL_CARTPOLE_PPO,
    )
    net = BasicShapedRewardNet(
        env.observation_space, env.action_space, normalize_input_layer=RunningNorm
    )
    return AIRL(
        demonstrations=demos,
        **presets.AIRL_CARTPOLE_TRAINER,
        venv=env,
        gen_algo=learner,
        reward_net=net,
        custom_logger=quiet,
    )


def pendulum_trainer(seed: int) -> GAIL:
    demos = generate_expert_trajectories("Pendulum-v1", 20, np.random.default_rng(seed))
    env = make_vec_env("Pendulum-v1", rng=np.random.default_rng(seed), n_envs=1)
    sac = SAC("MlpPolicy", env, seed=seed, device="cpu", **PENDULUM["sac_kwargs"])
    net = BasicRewardNet(
        env.observation_space, env.action_space, normalize_input_layer=RunningNorm
    )
    return GAIL(
        demonstrations=demos,
        demo_batch_size=PENDULUM["demo_batch_size"],
        venv=env,
        gen_algo=sac,
        reward_net=net,
        gen_train_timesteps=PENDULUM["gen_train_timesteps"],
        n_disc_updates_per_round=PENDULUM["n_disc_updates_per_round"],
        custom_logger=logger.configure(format_strs=[]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("setting", choices=["gail", "airl", "pendulum"])
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="env steps (default: the bar's)")
    args = parser.parse_args()
    th.set_num_threads(1)
    if args.setting == "pendulum":
        env_id, total, every = "Pendulum-v1", PENDULUM["total"], PENDULUM["every"]
    else:
        env_id = CARTPOLE
        total = 200_000 if args.setting == "gail" else 300_000
        every = 3 * 16_384
    total = args.steps or total
    reference = make_vec_env(env_id, rng=np.random.default_rng(0), n_envs=8)
    random_ret = mean_returns(None, env_id, 0)[0]
    expert_ret = mean_returns(
        load_policy("bundled", reference, env_name=env_id.split(":")[-1]), env_id, 0
    )[0]

    def norm(x: float) -> float:
        return (x - random_ret) / (expert_ret - random_ret)

    rows = []
    for seed in args.seeds:
        th.manual_seed(seed)
        if args.setting == "pendulum":
            trainer = pendulum_trainer(seed)
        else:
            trainer = cartpole_trainer(args.setting, seed)

        def evaluate(round_num: int, trainer=trainer, seed=seed) -> None:
            per_round = trainer.gen_train_timesteps
            last = round_num + 1 == total // per_round
            if (round_num + 1) % max(1, every // per_round) and not last:
                return
            det, stoch = mean_returns(trainer.policy, env_id, seed)
            steps = (round_num + 1) * per_round
            rows.append([seed, steps, det, norm(det), norm(stoch)])
            print(rows[-1], flush=True)

        trainer.train(total, callback=evaluate)
    print(f"random return {random_ret:.1f}, expert return {expert_ret:.1f}")
    print_table(
        f"{args.setting}: normalised score during training",
        ["seed", "env steps", "return", "normalised", "normalised (sampled actions)"],
        rows,
    )


if __name__ == "__main__":
    main()
