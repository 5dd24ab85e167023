"""Speed of the DAgger labelling page, each figure beside its goal and floor.

* Preparing a state (goal <= 20 ms): render the state and the 3 before it
  (CartPole), fade them into one picture and encode it as JPEG. Floors, in
  the same run: one bare ``env.render()``, and the four the state needs.
* Serving a state (goal <= 50 ms): what the page does for the next state,
  ``GET /api/next`` and the picture, over real HTTP to the uvicorn server.
  Floor: one HTTP request refused for its token (the smallest round trip).
* Recording a label: ``POST /api/label``, which returns only after the label
  is ``fsync``-ed to the log.

Run: ``.venv/bin/python benchmarks/bench_human_labeller.py``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

import gymnasium as gym
import httpx
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.algorithms.preference_comparisons import human  # noqa: E402
from imitation.util import logger  # noqa: E402

REPEATS = 20
STATES = 40


def main() -> None:
    """Measure and print the table."""
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    trajectory = [obs]
    for _ in range(3):
        obs, *_ = env.step(env.action_space.sample())
        trajectory.append(obs)
    context, state = np.array(trajectory[:-1]), trajectory[-1]
    with tempfile.TemporaryDirectory() as tmp:
        labeller = human.HumanLabeller(
            "CartPole-v1",
            pathlib.Path(tmp) / "labels.jsonl",
            env.action_space,
            custom_logger=logger.configure(format_strs=[]),
        )
        try:
            prepare, one_render, four_renders = best_times_interleaved(
                [
                    lambda: labeller.prepare(state, context),
                    env.render,
                    lambda: [env.render() for _ in range(4)],
                ],
                repeats=REPEATS,
            )
            for _ in range(STATES):
                labeller.ask(state, context)
            base = labeller.address.rstrip("/")
            serve_times, label_times, floor_times = [], [], []
            with (
                httpx.Client(base_url=base, params={"token": labeller.token}) as client,
                httpx.Client(base_url=base) as refused,
            ):
                while client.get("/api/next").json()["ready"] < STATES:
                    time.sleep(0.01)
                for _ in range(STATES):
                    start = time.perf_counter()
                    next_state = client.get("/api/next").json()["state"]
                    assert client.get(next_state["picture"]).status_code == 200
                    serve_times.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    body = {"state_id": next_state["id"], "action": 0}
                    client.post("/api/label", json=body).raise_for_status()
                    label_times.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    assert refused.get("/api/next").status_code == 403
                    floor_times.append(time.perf_counter() - start)
        finally:
            labeller.close()
            env.close()
    ms = 1000.0
    print_table(
        f"Labelling page, CartPole (best of {REPEATS} / {STATES}, milliseconds)",
        ["Operation", "Time", "Goal", "Floor"],
        [
            [
                "Prepare a state: 4 frames, faded, JPEG",
                prepare * ms,
                "<= 20",
                f"{one_render * ms:.3f} (1 env.render), "
                f"{four_renders * ms:.3f} (4 renders)",
            ],
            [
                "Serve a state: GET /api/next + picture",
                min(serve_times) * ms,
                "<= 50",
                f"{min(floor_times) * ms:.3f} (one refused request)",
            ],
            [
                "Serve a state, median",
                float(np.median(serve_times)) * ms,
                "<= 50",
                "",
            ],
            [
                "Record a label: POST /api/label, fsync-ed",
                min(label_times) * ms,
                "",
                "",
            ],
        ],
    )


if __name__ == "__main__":
    main()
