"""BC training throughput against a bare PyTorch floor measured in the same run.

Workload: 50,000 transitions with 4-float observations and 2 discrete actions
(the shape of seals/CartPole-v0 data); 1,000 optimisation steps at batch sizes
32 and 256. The floor is a hand-written loop with the same 32x32 tanh network,
the same loss (negative log-likelihood minus an entropy bonus) and Adam.

Run: ``.venv/bin/python benchmarks/bench_bc.py``.
"""

from __future__ import annotations

import pathlib
import sys

import gymnasium as gym
import numpy as np
import torch as th
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import bc  # noqa: E402
from imitation.data import types  # noqa: E402
from imitation.util import logger  # noqa: E402

N = 50_000
N_BATCHES = 1_000
OBS_SPACE = gym.spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)
ACT_SPACE = gym.spaces.Discrete(2)


def make_data(rng: np.random.Generator) -> types.Transitions:
    obs = rng.normal(size=(N + 1, 4)).astype(np.float32)
    acts = (obs[:-1, 0] > 0).astype(np.int64)
    return types.Transitions(
        obs=obs[:-1],
        acts=acts,
        infos=np.array([{}] * N),
        next_obs=obs[1:],
        dones=np.zeros(N, dtype=bool),
    )


def floor_loop(
    data: types.Transitions, batch_size: int, n_batches: int = N_BATCHES
) -> None:
    """The bare PyTorch loop: same network, loss and optimiser as BC."""
    net = nn.Sequential(
        nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2)
    )
    opt = th.optim.Adam(net.parameters())
    obs, acts = th.as_tensor(data.obs), th.as_tensor(data.acts)
    for _ in range(n_batches):
        idx = th.randint(0, N, (batch_size,))
        logp = th.log_softmax(net(obs[idx]), dim=-1)
        nll = -logp.gather(1, acts[idx, None]).mean()
        entropy = -(logp.exp() * logp).sum(-1).mean()
        loss = nll - 1e-3 * entropy
        opt.zero_grad()
        loss.backward()
        opt.step()


def library_loop(data: types.Transitions, batch_size: int) -> None:
    trainer = bc.BC(
        observation_space=OBS_SPACE,
        action_space=ACT_SPACE,
        rng=np.random.default_rng(0),
        demonstrations=data,
        batch_size=batch_size,
        custom_logger=logger.configure(format_strs=[]),
    )
    trainer.train(n_batches=N_BATCHES, progress_bar=False, log_interval=N_BATCHES)


def main() -> None:
    th.set_num_threads(1)
    data = make_data(np.random.default_rng(0))
    rows = []
    for batch_size in (32, 256):
        library_loop(data, batch_size)  # warm-up
        t_lib, t_floor = best_times_interleaved(
            [
                lambda b=batch_size: library_loop(data, b),
                lambda b=batch_size: floor_loop(data, b),
            ],
            repeats=3,
        )
        samples = N_BATCHES * batch_size
        rows.append(
            [
                batch_size,
                t_lib,
                samples / t_lib,
                t_floor,
                samples / t_floor,
                t_lib / t_floor,
            ]
        )
    print_table(
        f"BC training: {N_BATCHES} batches over {N} transitions",
        ["batch", "BC s", "BC samples/s", "floor s", "floor samples/s", "ratio"],
        rows,
    )


if __name__ == "__main__":
    main()
