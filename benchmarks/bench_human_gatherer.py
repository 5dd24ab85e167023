"""Speed of the human preference gatherer, each figure beside its goal and floor.

* Preparing a pair (goal < 1 s): render both 50-step fragments of CartPole
  and Pendulum to frames and encode them as two MP4 clips. Floor: the raw
  ``env.render()`` calls for the same 102 frames, stepping the env.
* Serving a pair (goal < 100 ms): what the page does for the next question,
  ``GET /api/next`` and both clips, over real HTTP to the uvicorn server.
  Floor: one HTTP request refused for its token (the smallest round trip).
* Recording an answer: ``POST /api/answer``, which returns only after the
  answer is ``fsync``-ed to the log. Floor: appending a line and ``fsync``.

Run: ``.venv/bin/python benchmarks/bench_human_gatherer.py``.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
import threading
import time

import gymnasium as gym
import httpx
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms import preference_comparisons as pc  # noqa: E402
from imitation.algorithms.preference_comparisons.human import (  # noqa: E402
    rendering,
)
from imitation.data import types  # noqa: E402

FRAGMENT_LENGTH = 50
REPEATS = 5


def _fragment(env_id: str, seed: int) -> types.TrajectoryWithRew:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    all_obs, acts, rews = [obs], [], []
    for _ in range(FRAGMENT_LENGTH):
        act = env.action_space.sample()
        obs, rew, terminated, truncated, _ = env.step(act)
        all_obs.append(obs)
        acts.append(act)
        rews.append(rew)
        if terminated or truncated:
            obs, _ = env.reset()
    return types.TrajectoryWithRew(
        obs=np.array(all_obs),
        acts=np.array(acts),
        rews=np.array(rews, dtype=float),
        infos=None,
        terminal=False,
    )


def _raw_render(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(2 * (FRAGMENT_LENGTH + 1)):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        env.render()
        if terminated or truncated:
            env.reset()
    env.close()


def bench_prepare(env_id: str, workdir: pathlib.Path) -> list[list[object]]:
    renderer = rendering.StateRenderer(env_id)
    pair = (_fragment(env_id, 0), _fragment(env_id, 1))
    paths = [workdir / "left.mp4", workdir / "right.mp4"]
    prepare, frames, raw = best_times_interleaved(
        [
            lambda: rendering.write_clips(pair, renderer, paths, 30.0),
            lambda: [rendering.render_fragment(f, renderer) for f in pair],
            lambda: _raw_render(env_id),
        ],
        repeats=REPEATS,
    )
    renderer.close()
    steps = f"2x{FRAGMENT_LENGTH} steps"
    return [
        [f"prepare a pair ({env_id}, {steps})", prepare, 1.0, raw],
        [f"  rendering its frames only ({env_id})", frames, "", raw],
    ]


def bench_serve(workdir: pathlib.Path) -> list[list[object]]:
    pairs = [
        (_fragment("Pendulum-v1", 2 * i), _fragment("Pendulum-v1", 2 * i + 1))
        for i in range(REPEATS + 1)
    ]
    gatherer = pc.HumanGatherer(
        "Pendulum-v1", workdir / "answers.jsonl", mode="async", timeout=60
    )
    base = gatherer.url.split("/?")[0]
    client = httpx.Client(base_url=base, params={"token": gatherer.token})
    refused = httpx.Client(base_url=base)
    serve_times, answer_times, floor_times = [], [], []
    try:
        # The async round returns after the first answer. Serving is timed
        # once every clip is ready (rendering is ahead of the person).

        def answer_all() -> None:
            while (state := client.get("/api/next").json())["ready"] < len(pairs):
                time.sleep(0.01)
            for _ in range(len(pairs)):
                start = time.perf_counter()
                state = client.get("/api/next").json()
                for side in ("left", "right"):
                    assert client.get(state["pair"][side]).status_code == 200
                serve_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                client.post(
                    "/api/answer",
                    json={"pair_id": state["pair"]["id"], "choice": "left"},
                ).raise_for_status()
                answer_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert refused.get("/api/next").status_code == 403
                floor_times.append(time.perf_counter() - start)

        person = threading.Thread(target=answer_all)
        person.start()
        gatherer.gather(pairs)
        person.join()
    finally:
        client.close()
        refused.close()
        gatherer.close()
    fsync_floor = min(_append_fsync(workdir / "floor.jsonl") for _ in range(REPEATS))
    return [
        ["serve a pair (next + 2 clips)", min(serve_times), 0.1, min(floor_times)],
        ["record an answer (POST, fsync)", min(answer_times), "", fsync_floor],
    ]


def _append_fsync(path: pathlib.Path) -> float:
    start = time.perf_counter()
    with open(path, "ab") as file:
        file.write(b'{"type":"answer","pair_id":0,"choice":"left"}\n')
        file.flush()
        os.fsync(file.fileno())
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = pathlib.Path(tmp)
        rows = [
            *bench_prepare("CartPole-v1", workdir),
            *bench_prepare("Pendulum-v1", workdir),
            *bench_serve(workdir),
        ]
    print_table(
        "Human preference gatherer (seconds, best of 5)",
        ["operation", "time", "goal", "floor"],
        rows,
    )


if __name__ == "__main__":
    main()
