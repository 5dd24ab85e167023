"""Cost of one adversarial round beside a bare ``PPO.learn`` on the same steps.

A GAIL round is ``train_gen()`` (one PPO rollout of 2,048 steps x 8 envs plus
its update, on the discriminator's reward, with the samples buffered) and 8
``train_disc()`` steps on 1,024 + 1,024 transitions; an AIRL round is the same
with 16 discriminator steps on 2,048 + 2,048 transitions (the tutorials'
settings). The floor is the same PPO configuration's ``learn`` on the same
number of env steps in the same process, on an env built the same way. The
three are timed in turn (best of several) so machine load hits them alike.

Run: ``.venv/bin/python benchmarks/bench_adversarial_speed.py [repeats]``
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch as th
from stable_baselines3 import PPO

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms.adversarial.airl import AIRL  # noqa: E402
from imitation.algorithms.adversarial.gail import GAIL  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet, BasicShapedRewardNet  # noqa: E402
from imitation.testing.expert_trajectories import generate_expert_trajectories  # noqa: E402
from imitation.util import logger  # noqa: E402
from imitation.util.networks import RunningNorm  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

ENV_ID = "seals/CartPole-v0"
PPO_KWARGS = dict(batch_size=64, ent_coef=0.0, gamma=0.95, n_epochs=5, device="cpu")


def make_env(seed: int):
    return make_vec_env(
        f"seals:{ENV_ID}",
        rng=np.random.default_rng(seed),
        n_envs=8,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(env)],
    )


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    th.set_num_threads(1)
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

    def adversarial_round(trainer) -> None:
        trainer.train_gen()
        for _ in range(trainer.n_disc_updates_per_round):
            trainer.train_disc()

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
