"""Cost of one adversarial round beside a bare ``PPO.learn`` on the same steps.

A GAIL round is ``train_gen()`` (one PPO rollout of 2,048 steps x 8 envs plus
its update, on the discriminator's reward, with the samples buffered) and 8
``train_disc()`` steps on 1,024 + 1,024 transitions; an AIRL round is the same
with 16 discriminator steps on 2,048 + 2,048 transitions (the tutorials'
settings). The floor is the same PPO configuration's ``learn`` on the same
number of env steps in the same process, on an env built the same way. The
three are timed in turn (best of several) so machine load hits them alike.

``--task seals_hopper`` (or another seals MuJoCo task of the benchmark)
times the same three on that task in the benchmark's tuned shapes
(``gail_<task>`` / ``airl_<task>``: their PPO settings, rollout size, reward
nets and discriminator settings; 8 envs), the floor being PPO with the GAIL
config's settings on the GAIL rollout size, and AIRL's round divided by its
own bare PPO. Demonstrations there are 10 episodes of random actions: the
cost does not depend on what they show.

Run: ``.venv/bin/python benchmarks/bench_adversarial_speed.py [repeats]
[--task T [--cpu]]``
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import PPO

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms.adversarial.airl import AIRL  # noqa: E402
from imitation.algorithms.adversarial.gail import GAIL  # noqa: E402
from imitation.data import rollout  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.rewards.reward_nets import (  # noqa: E402
    BasicRewardNet,
    BasicShapedRewardNet,
    NormalizedRewardNet,
)
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.networks import RunningNorm  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

ENV_ID = "seals/CartPole-v0"
PPO_KWARGS = dict(batch_size=64, ent_coef=0.0, gamma=0.95, n_epochs=5, device="cpu")


def make_env(seed: int, env_id: str = ENV_ID):
    return make_vec_env(
        f"seals:{env_id}",
        rng=np.random.default_rng(seed),
        n_envs=8,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )


def _tuned_round(algo: str, task: str, seed: int, quiet) -> tuple[Any, PPO, str]:
    """A trainer in the tuned shape of ``<algo>_<task>``; a bare PPO like its own."""
    from imitation.scripts.config import common  # the benchmark's tuned settings

    config = common.tuned_configs([algo])[f"{algo}_{task}"]
    env_id = config["environment"]["gym_id"]
    ppo_kwargs = dict(
        config["rl"]["rl_kwargs"],
        n_steps=config["rl"]["batch_size"] // 8,
        policy_kwargs=config["policy"]["policy_kwargs"],
        device="cpu",
    )
    bare = PPO("MlpPolicy", make_env(seed + 10, env_id), seed=seed, **ppo_kwargs)
    env = make_env(seed, env_id)
    demos = rollout.generate_trajectories(
        None, env, rollout.make_min_episodes(10), rng=np.random.default_rng(seed)
    )
    reward = config["reward"]
    net = reward["net_cls"](
        env.observation_space, env.action_space, **reward["net_kwargs"]
    )
    if reward["normalize_output_layer"] is not None:
        net = NormalizedRewardNet(net, reward["normalize_output_layer"])
    trainer_cls = GAIL if algo == "gail" else AIRL
    trainer = trainer_cls(
        demonstrations=demos,
        venv=env,
        gen_algo=PPO("MlpPolicy", env, seed=seed, **ppo_kwargs),
        reward_net=net,
        custom_logger=quiet,
        **config["algorithm_kwargs"],
    )
    bare.set_logger(quiet)
    return trainer, bare, env_id


def main_tuned(task: str, repeats: int, cpu: bool = False) -> None:
    """Time the tuned GAIL and AIRL rounds of ``task`` beside bare PPO.

    ``cpu``: time with this process's CPU time instead of wall time.
    """
    quiet = logger.configure(format_strs=[])
    gail, gail_bare, env_id = _tuned_round("gail", task, 0, quiet)
    airl, airl_bare, _ = _tuned_round("airl", task, 1, quiet)

    def learn(model: PPO):
        return lambda: model.learn(model.n_steps * 8, reset_num_timesteps=False)

    times = best_times_interleaved(
        [
            learn(gail_bare),
            lambda: adversarial_round(gail),
            learn(airl_bare),
            lambda: adversarial_round(airl),
        ],
        repeats=repeats,
        clock=time.process_time if cpu else time.perf_counter,
    )
    print_table(
        f"{env_id}: one round in the tuned shapes, best of {repeats}"
        + (" (CPU seconds)" if cpu else ""),
        ["what", "seconds", "x bare PPO.learn"],
        [
            [
                f"GAIL round ({gail_bare.n_steps * 8:,} steps)",
                times[1],
                times[1] / times[0],
            ],
            ["floor: bare PPO.learn (GAIL's PPO)", times[0], 1.0],
            [
                f"AIRL round ({airl_bare.n_steps * 8:,} steps)",
                times[3],
                times[3] / times[2],
            ],
            ["floor: bare PPO.learn (AIRL's PPO)", times[2], 1.0],
        ],
    )


def adversarial_round(trainer) -> None:
    """One round: the generator's rollout and update, then the discriminator's."""
    trainer.train_gen()
    for _ in range(trainer.n_disc_updates_per_round):
        trainer.train_disc()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("repeats", type=int, nargs="?", default=5)
    parser.add_argument("--task", help="a seals MuJoCo task, e.g. seals_hopper")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="with --task: CPU time of this process, not wall time (busy machine)",
    )
    args = parser.parse_args()
    repeats = args.repeats
    th.set_num_threads(1)
    if args.task:
        main_tuned(args.task, repeats, cpu=args.cpu)
        return
    demos = generate_expert_trajectories(ENV_ID, 60, np.random.default_rng(0))
    quiet = logger.configure(format_strs=[])

    bare = PPO("MlpPolicy", make_env(0), learning_rate=4e-4, seed=0, **PPO_KWARGS)
    bare.set_logger(quiet)
    steps = bare.n_steps * bare.n_envs

    env = make_env(1)
    gail = GAIL(
        demonstrations=demos,
        demo_batch_size=1024,
        gen_replay_buffer_capacity=512,
        n_disc_updates_per_round=8,
        venv=env,
        gen_algo=PPO("MlpPolicy", env, learning_rate=4e-4, seed=1, **PPO_KWARGS),
        reward_net=BasicRewardNet(
            env.observation_space, env.action_space, normalize_input_layer=RunningNorm
        ),
        custom_logger=quiet,
    )
    env = make_env(2)
    airl = AIRL(
        demonstrations=demos,
        demo_batch_size=2048,
        gen_replay_buffer_capacity=512,
        n_disc_updates_per_round=16,
        venv=env,
        gen_algo=PPO(
            "MlpPolicy",
            env,
            learning_rate=5e-4,
            clip_range=0.1,
            vf_coef=0.1,
            seed=2,
            **PPO_KWARGS,
        ),
        reward_net=BasicShapedRewardNet(
            env.observation_space, env.action_space, normalize_input_layer=RunningNorm
        ),
        custom_logger=quiet,
    )

    def bare_learn() -> None:
        bare.learn(steps, reset_num_timesteps=False)

    times = best_times_interleaved(
        [bare_learn, lambda: adversarial_round(gail), lambda: adversarial_round(airl)],
        repeats=repeats,
    )
    floor = times[0]
    print_table(
        f"One round ({steps:,} env steps), best of {repeats}",
        ["what", "seconds", "x bare PPO.learn"],
        [
            ["GAIL round (train_gen + 8 train_disc)", times[1], times[1] / floor],
            ["AIRL round (train_gen + 16 train_disc)", times[2], times[2] / floor],
            ["floor: bare PPO.learn", floor, 1.0],
        ],
    )


if __name__ == "__main__":
    main()
