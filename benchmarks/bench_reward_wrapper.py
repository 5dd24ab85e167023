"""The per-step reward call: ``predict_processed`` and ``RewardVecEnvWrapper``.

Everything is measured in one process, interleaved, so the ratios hold on any
machine (absolute times differ several times between machines):

* floor: the reward net's own forward (``net(s, a, s', done)``, no gradients)
  on a batch of 8 ``seals/CartPole-v0`` transitions already as tensors; the
  bare MLP inside it is shown too;
* ``BasicRewardNet.predict_processed`` on the same batch as numpy arrays
  (goal: at most 1.5x the floor);
* the wrapper's overhead per vec-step: 5,000 vec-steps of 8 envs with
  precomputed random actions, wrapped minus bare (goal: at most 2x the floor);
* for reference, the same forward run between env steps (bare envs plus one
  forward per vec-step, minus bare envs): between env steps the caches are
  cold, and the same call costs more than in a tight loop.

Run: ``.venv/bin/python benchmarks/bench_reward_wrapper.py``.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import torch as th

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.rewards.reward_nets import BasicRewardNet  # noqa: E402
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper  # noqa: E402
from imitation.util.util import make_vec_env  # noqa: E402

N_ENVS, N_STEPS, N_CALLS = 8, 5_000, 5_000


def _venv():
    return make_vec_env(
        "seals:seals/CartPole-v0", rng=np.random.default_rng(0), n_envs=N_ENVS
    )


def main() -> None:
    th.set_num_threads(1)
    bare = _venv()
    net = BasicRewardNet(bare.observation_space, bare.action_space)
    wrapped = RewardVecEnvWrapper(_venv(), net.predict_processed)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, size=(N_STEPS, N_ENVS))
    obs = bare.reset()
    acts = actions[0]
    next_obs, _, dones, _ = bare.step(acts)
    tensors = net.preprocess(obs, acts, next_obs, dones)
    mlp_input = th.cat([tensors[0], tensors[1]], dim=1)

    def forward_floor() -> None:
        with th.no_grad():
            for _ in range(N_CALLS):
                net(*tensors)

    def mlp_floor() -> None:
        with th.no_grad():
            for _ in range(N_CALLS):
                net.mlp(mlp_input)

    def predict_processed() -> None:
        for _ in range(N_CALLS):
            net.predict_processed(obs, acts, next_obs, dones)

    def loop(venv, with_forward: bool = False) -> None:
        venv.reset()
        for step_acts in actions:
            venv.step(step_acts)
            if with_forward:
                with th.no_grad():
                    net(*tensors)

    t_fwd, t_mlp, t_pred, t_wrapped, t_bare, t_bare_fwd = best_times_interleaved(
        [
            forward_floor,
            mlp_floor,
            predict_processed,
            lambda: loop(wrapped),
            lambda: loop(bare),
            lambda: loop(bare, with_forward=True),
        ]
    )
    fwd = t_fwd / N_CALLS * 1e6
    pred = t_pred / N_CALLS * 1e6
    overhead = (t_wrapped - t_bare) / N_STEPS * 1e6
    in_loop_fwd = (t_bare_fwd - t_bare) / N_STEPS * 1e6
    print_table(
        f"Per-step reward call: batches of {N_ENVS} seals/CartPole-v0 transitions",
        ["measurement", "us per call / vec-step", "ratio to the floor", "goal"],
        [
            ["floor: reward net forward (tensors, no grad)", fwd, 1.0, ""],
            ["bare MLP inside it", t_mlp / N_CALLS * 1e6, t_mlp / t_fwd, ""],
            ["BasicRewardNet.predict_processed (numpy)", pred, pred / fwd, "<= 1.5"],
            [
                "RewardVecEnvWrapper overhead per vec-step",
                overhead,
                overhead / fwd,
                "<= 2.0",
            ],
            [
                "the forward alone, between env steps (bare envs + forward)",
                in_loop_fwd,
                in_loop_fwd / fwd,
                "",
            ],
            ["(bare env vec-step, for scale)", t_bare / N_STEPS * 1e6, "", ""],
        ],
    )


if __name__ == "__main__":
    main()
