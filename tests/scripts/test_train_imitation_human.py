"""``train_imitation dagger with ... expert.policy_type=human``, as documented.

Runs the command of ``docs/human-teachers.md`` (the same as the README's)
verbatim, then fast-mode overrides, as a subprocess; reads the labelling
page's URL from its terminal output and labels states over HTTP, as a
person's browser would.
"""

from __future__ import annotations

import io
import os
import pathlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import numpy as np
from PIL import Image

from imitation.algorithms.preference_comparisons import human
from imitation.testing import envs
from imitation.testing.documented_commands import documented_commands

REPO = pathlib.Path(__file__).parents[2]


def documented_dagger_command() -> list[str]:
    """The documented ``train_imitation dagger`` command with a person as expert."""
    module = "imitation.scripts.train_imitation"
    (command,) = [
        c
        for c in documented_commands(REPO / "docs" / "human-teachers.md", module)
        if "expert.policy_type=human" in c
    ]
    readme = documented_commands(REPO / "README.md", module)
    assert command in readme, "the README shows another command than the docs"
    return command


def label_through_the_cli(
    tmp_path: pathlib.Path, command: list[str], answer: Callable[[bytes, int], int]
) -> tuple[int, str]:
    """Run ``command``; label every state it asks with ``answer(picture, n)``.

    ``n`` counts the labels given so far. Returns how many were accepted, and
    the session token of the run.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    found = threading.Event()
    url = ""

    def read() -> None:
        nonlocal url
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            match = re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", line)
            if match and not found.is_set():
                url = match.group(1)
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    labelled = 0
    try:
        assert found.wait(120), "".join(output)
        base, token = url.split("/?token=")
        with httpx.Client(base_url=base, params={"token": token}) as client:
            while proc.poll() is None:
                try:
                    state = client.get("/api/next").json()["state"]
                    picture = client.get(state["picture"]) if state else None
                except httpx.HTTPError:
                    break  # The run finished and stopped its server.
                if state is None or picture is None or picture.status_code != 200:
                    time.sleep(0.05)
                    continue
                body = {
                    "state_id": state["id"],
                    "action": answer(picture.content, labelled),
                }
                if client.post("/api/label", json=body).status_code == 200:
                    labelled += 1
        assert proc.wait(120) == 0, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    reader.join(10)
    return labelled, token


FAST = (
    "fast",
    "dagger.human.retrain_every=4",
    "dagger.human.states_per_rollout=4",
    "dagger.human.max_pending=4",
    "dagger.human.timeout=120",
)


def test_cli_dagger_with_a_human_expert(tmp_path):
    log_dir = tmp_path / "run"
    command = [
        *documented_dagger_command(),
        "dagger.human.total_labels=12",
        *FAST,
        f"logging.log_dir={log_dir}",
    ]
    labelled, token = label_through_the_cli(tmp_path, command, lambda _, n: n % 2)
    log = human.LabelLog.read(log_dir / "human_labels.jsonl")
    assert labelled == len(log.labels) == 12
    assert (log_dir / "final.th").is_file()
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    for path in files:
        assert token.encode() not in path.read_bytes(), path


def test_cli_shows_image_observations_as_they_are(tmp_path):
    """An env observed through pictures is labelled from those pictures."""
    log_dir = tmp_path / "run"
    command = [
        "imitation.scripts.train_imitation",
        "dagger",
        "with",
        f"environment.gym_id=imitation.testing.envs:{envs.DOT_TO_CENTRE_ID}",
        "expert.policy_type=human",
        "dagger.human.total_labels=12",
        "dagger.human.context=0",
        *FAST,
        f"logging.log_dir={log_dir}",
    ]

    def read_dot(picture: bytes, _: int) -> int:
        image = np.asarray(Image.open(io.BytesIO(picture)))
        # The picture is the observation enlarged 9 times.
        return envs.dot_to_centre_action(image[::9, ::9])

    labelled, _ = label_through_the_cli(tmp_path, command, read_dot)
    log = human.LabelLog.read(log_dir / "human_labels.jsonl")
    assert labelled == len(log.labels) == 12
    for state_id, action in log.labels.items():
        assert action == envs.dot_to_centre_action(log.states[state_id][0])
