"""The documented command: ``train_preference_comparisons with human_preferences``.

Runs the Sacred script as a subprocess, reads the page's URL from its output
and answers every pair over HTTP, as a person's browser would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import httpx

from imitation.algorithms import preference_comparisons as pc


def test_cli_human_preferences(tmp_path):
    log_dir = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "imitation.scripts.train_preference_comparisons",
        # The documented command, then fast-mode overrides.
        "with",
        "pendulum",
        "human_preferences",
        "environment.fast",
        "rl.fast",
        "policy_evaluation.fast",
        "fast",
        "gatherer_kwargs.timeout=120",
        f"logging.log_dir={log_dir}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
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
    try:
        assert found.wait(120), "".join(output)
        base, token = url.split("/?token=")
        answered = 0
        with httpx.Client(base_url=base, params={"token": token}) as client:
            while proc.poll() is None:
                try:
                    pair = client.get("/api/next").json()["pair"]
                except httpx.HTTPError:
                    break  # The run finished and stopped its server.
                if pair is None:
                    time.sleep(0.05)
                    continue
                body = {"pair_id": pair["id"], "choice": "left"}
                client.post("/api/answer", json=body).raise_for_status()
                answered += 1
        assert proc.wait(120) == 0, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    reader.join(10)
    log = pc.AnswerLog.read(log_dir / "human_preferences.jsonl")
    # The "fast" config asks for 5 comparisons.
    assert answered == len(log.answers) == 5
    assert (log_dir / "checkpoints" / "final" / "reward_net.pt").is_file()
    # The session token reached the terminal only: no file of the run holds
    # it, Sacred's captured output (cout.txt) and the event logs included.
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name == "cout.txt" for path in files)
    for path in files:
        assert token.encode() not in path.read_bytes(), path
