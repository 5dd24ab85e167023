"""Dict observations on the reward path: reward-net speed and GAIL learning.

* ``speed``: one ``predict_processed`` call of a ``BasicRewardNet`` (hidden
  sizes (32, 32), ``RunningNorm`` inputs, wrapped in a ``NormalizedRewardNet``
  as adversarial training does) on a batch of 8 transitions, with CartPole's
  observations split into ``{"pos": Box(2), "vel": Box(2)}`` against the same
  architecture on the equivalent flat ``Box(4)`` observations. Both nets have
  the same weights; timings are interleaved in one process and the best of
  several repeats is kept, so the ratio is robust to machine load. The goal
  is a ratio of at most 1.3.
* ``learn``: GAIL with the CartPole tutorial settings (``GAIL_CARTPOLE_PPO``,
  ``GAIL_CARTPOLE_TRAINER``; PPO ``MultiInputPolicy``; 8 envs) on
  seals/CartPole-v0 wrapped in ``DictObsWrapper``, from 60 episodes of the
  bundled expert converted to dict form with ``dict_obs_from_flat``; 200,000
  env steps. Scores are normalised, ``(return - random) / (expert - random)``,
  with the random policy's and the expert's returns measured on the flat env
  in the same run (16 episodes each; the learner is scored with its most
  likely action, as the tutorials' ``evaluate_policy`` does). Goal: >= 0.9.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dict_obs.py speed``
or ``... bench_dict_obs.py learn [seed ...] [--steps N]`` (default seeds 0 1 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time

import numpy as np
import torch as th
from stable_baselines3 import PPO

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms.adversarial.gail import GAIL  # noqa: E402
from imitation.data import rollout, types  # noqa: E402
from imitation.data.wrappers import RolloutInfoWrapper  # noqa: E402
from imitation.policies.serialize import load_policy  # noqa: E402
from imitation.rewards.reward_nets import (  # noqa: E402
    BasicRewardNet,
    NormalizedRewardNet,
)
from imitation.testing.envs import (  # noqa: E402
    DICT_CARTPOLE_KEYS,
    DictObsWrapper,
    dict_obs_from_flat,
)
from imitation.util import logger, presets  # noqa: E402
from imitation.util.networks import RunningNorm  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

CARTPOLE = "seals:seals/CartPole-v0"


def _venv(seed: int, n_envs: int, dict_obs: bool):
    def wrap(env, _):
        return RolloutInfoWrapper(DictObsWrapper(env) if dict_obs else env)

    return make_vec_env(
        CARTPOLE,
        rng=np.random.default_rng(seed),
        n_envs=n_envs,
        post_wrappers=[wrap],
    )


def speed(calls: int = 2000, repeats: int = 7) -> None:
    """Time ``predict_processed`` on 8 dict vs 8 flat observations."""
    flat_env, dict_env = _venv(0, 1, False), _venv(0, 1, True)
    nets = []
    for env in (flat_env, dict_env):
        th.manual_seed(0)
        base = BasicRewardNet(
            env.observation_space, env.action_space, normalize_input_layer=RunningNorm
        )
        nets.append(NormalizedRewardNet(base, RunningNorm))
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((8, 4)).astype(np.float32)
    next_obs = rng.standard_normal((8, 4)).astype(np.float32)
    acts = rng.integers(0, 2, size=8)
    dones = np.zeros(8, dtype=bool)
    dict_obs, dict_next = dict_obs_from_flat(obs), dict_obs_from_flat(next_obs)
    # The dict net concatenates the keys in sorted order ("pos" then "vel"):
    # give the flat net its features in that order, so the two compute the same.
    order = [i for key in sorted(DICT_CARTPOLE_KEYS) for i in DICT_CARTPOLE_KEYS[key]]
    obs, next_obs = obs[:, order], next_obs[:, order]
    flat_net, dict_net = nets
    # Same weights, same inputs: the two nets must agree.
    np.testing.assert_allclose(
        flat_net.predict_processed(obs, acts, next_obs, dones, update_stats=False),
        dict_net.predict_processed(
            dict_obs, acts, dict_next, dones, update_stats=False
        ),
        rtol=1e-5,
        atol=1e-6,
    )

    def run_flat() -> None:
        for _ in range(calls):
            flat_net.predict_processed(obs, acts, next_obs, dones)

    def run_dict() -> None:
        for _ in range(calls):
            dict_net.predict_processed(dict_obs, acts, dict_next, dones)

    t_flat, t_dict = best_times_interleaved(
        [run_flat, run_dict], repeats=repeats, clock=time.process_time
    )
    us_flat, us_dict = 1e6 * t_flat / calls, 1e6 * t_dict / calls
    print_table(
        "predict_processed, batch of 8 (best of interleaved repeats, CPU time)",
        ["observations", "us per call", "ratio to flat"],
        [["flat Box(4)", us_flat, 1.0], ["Dict pos/vel", us_dict, us_dict / us_flat]],
    )


def _mean_return(policy, seed: int, dict_obs: bool) -> float:
    venv = _venv(seed + 1000, 8, dict_obs)
    trajs = rollout.generate_trajectories(
        policy,
        venv,
        rollout.make_min_episodes(16),
        rng=np.random.default_rng(seed),
        deterministic_policy=policy is not None,
    )
    return float(np.mean([t.rews.sum() for t in trajs[:16]]))


def _dict_expert_demos(seed: int) -> list[types.Trajectory]:
    flat_env = _venv(seed, 8, False)
    expert = load_policy("bundled", flat_env, env_name="seals-CartPole-v0")
    trajs = rollout.rollout(
        expert,
        flat_env,
        rollout.make_sample_until(min_timesteps=None, min_episodes=60),
        rng=np.random.default_rng(seed),
        verbose=False,
    )
    return [
        dataclasses.replace(t, obs=types.DictObs(dict_obs_from_flat(t.obs)))
        for t in trajs
    ]


def learn(seeds: list[int], total: int) -> None:
    """GAIL on the dict-observation CartPole; prints normalised scores."""
    reference = _venv(0, 8, False)
    expert = load_policy("bundled", reference, env_name="seals-CartPole-v0")
    random_ret = _mean_return(None, 0, False)
    expert_ret = _mean_return(expert, 0, False)
    rows = []
    for seed in seeds:
        th.manual_seed(seed)
        env = _venv(seed, 8, True)
        learner = PPO(
            env=env,
            policy="MultiInputPolicy",
            seed=seed,
            device="cpu",
            **presets.GAIL_CARTPOLE_PPO,
        )
        net = BasicRewardNet(
            env.observation_space, env.action_space, normalize_input_layer=RunningNorm
        )
        trainer = GAIL(
            demonstrations=_dict_expert_demos(seed),
            **presets.GAIL_CARTPOLE_TRAINER,
            venv=env,
            gen_algo=learner,
            reward_net=net,
            custom_logger=logger.configure(format_strs=[]),
        )
        start = time.perf_counter()
        trainer.train(total)
        minutes = (time.perf_counter() - start) / 60
        ret = _mean_return(trainer.policy, seed, True)
        norm = (ret - random_ret) / (expert_ret - random_ret)
        rows.append([seed, total, ret, norm, minutes])
        print(rows[-1], flush=True)
    print(f"random return {random_ret:.1f}, expert return {expert_ret:.1f}")
    print_table(
        "GAIL on dict-observation CartPole: normalised score",
        ["seed", "env steps", "return", "normalised", "minutes"],
        rows,
    )


def main() -> None:
    """Parse the arguments and run the selected mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["speed", "learn"])
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps")
    args = parser.parse_args()
    th.set_num_threads(1)
    if args.mode == "speed":
        speed()
    else:
        learn(args.seeds, args.steps)


if __name__ == "__main__":
    main()
