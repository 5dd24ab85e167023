"""``eval_policy with ... expert.policy_type=human``: a person plays, in the browser.

Runs the CartPole command of ``docs/human-teachers.md`` (the same as the
README's) verbatim, then shorter episodes, as a subprocess; reads the playing
page's URL from its terminal output and presses keys over HTTP, as a
person's browser would.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import threading

import httpx
import numpy as np

from imitation.data import serialize
from imitation.testing.documented_commands import documented_commands

REPO = pathlib.Path(__file__).parents[2]


def documented_play_command(env_config: str) -> list[str]:
    """The documented ``eval_policy`` command where a person plays ``env_config``."""
    module = "imitation.scripts.eval_policy"
    (command,) = [
        c
        for c in documented_commands(REPO / "docs" / "human-teachers.md", module)
        if "expert.policy_type=human" in c and c[2] == env_config
    ]
    return command


def test_cli_records_demonstrations_played_in_the_browser(tmp_path, monkeypatch):
    log_dir = tmp_path / "run"
    command = documented_play_command("seals_cartpole")
    readme = documented_commands(REPO / "README.md", "imitation.scripts.eval_policy")
    assert command in readme, "the README shows another command than the docs"
    command = [
        sys.executable,
        "-m",
        *command,
        "eval_n_episodes=2",
        "environment.max_episode_steps=6",
        "human.timeout=120",
        f"logging.log_dir={log_dir}",
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MINARI_DATASETS_PATH": str(tmp_path / "minari"),
    }
    proc = subprocess.Popen(
        command,
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
    steps = 0
    try:
        assert found.wait(120), "".join(output)
        base, token = url.split("/?token=")
        with httpx.Client(base_url=base, params={"token": token}) as client:
            while proc.poll() is None:
                try:
                    status = client.get("/api/next").json()
                except httpx.HTTPError:
                    break  # The run finished and stopped its server.
                if status["finished"] >= 2:
                    break
                body = {"episode": status["episode"], "t": status["t"]}
                body["control"] = status["t"] % 2  # Left, right, left, ...
                if client.post("/api/act", json=body).status_code == 200:
                    steps += 1
        assert proc.wait(120) == 0, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    reader.join(10)
    demos = serialize.load(log_dir / "demos")
    assert len(demos) == 2 and steps == 12
    assert all(len(d.acts) == 6 and not d.terminal for d in demos)
    np.testing.assert_array_equal(demos[0].acts, [0, 1, 0, 1, 0, 1])
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    from imitation.data import minari as imitation_minari

    loaded = imitation_minari.load_trajectories("human/cartpole-v0")
    np.testing.assert_allclose(loaded[1].obs, demos[1].obs)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
