"""Running the Ray Tune scripts in tests: environment, local clusters, cleanup.

Every Ray process a test starts gets a token (``RAY_AUTH_MODE=token``), its
own short temporary directory and free ports, so tests in parallel workers
(and other users' Ray instances) do not meet; the test stops what it started
by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

RAY = pathlib.Path(sys.executable).with_name("ray")
DOC = pathlib.Path(__file__).parents[2] / "docs" / "parallel-and-tuning.md"
NODE_IP = "127.0.0.2"
"""Ray rewrites 127.0.0.1 to the machine's address; 127.0.0.2 stays loopback."""

FAST_RL = [
    "cartpole",
    "fast",
    "environment.fast",
    "rl.fast",
    "policy_evaluation.fast",
]
"""``train_rl`` named configs of a run of a few seconds."""


def documented_commands() -> list[list[str]]:
    """Every ``python -m ...`` command of docs/parallel-and-tuning.md, split."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    return [
        shlex.split(line)
        for block in blocks
        for line in block.replace("\\\n", " ").splitlines()
        if line.startswith("python -m ")
    ]


def documented(script: str, start: str = "") -> list[str]:
    """The arguments of the documented ``python -m imitation.scripts.<script>``.

    The command is the one in a ``bash`` block of docs/parallel-and-tuning.md
    whose arguments start with ``start`` (it must be the only one).
    """
    found = [
        command[3:]
        for command in documented_commands()
        if command[2] == f"imitation.scripts.{script}"
        and " ".join(command[3:]).startswith(start)
    ]
    assert len(found) == 1, f"{script} {start}...: {len(found)} documented"
    return found[0]


def ray_env(**extra: str) -> dict[str, str]:
    """The environment of a test's Ray processes (and of its scripts)."""
    env = dict(os.environ)
    env.pop("IMITATION_TRACEBACK", None)
    env.pop("RAY_ADDRESS", None)
    env.update(
        OMP_NUM_THREADS="1",
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_USAGE_STATS_ENABLED="0",
        RAY_DEDUP_LOGS="0",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def short_temp_dir() -> Iterator[str]:
    """A fresh directory with a short path (Ray puts sockets in it)."""
    path = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_script(
    cwd: pathlib.Path, env: dict[str, str], script: str, *args: str, ok: bool = True
) -> subprocess.CompletedProcess:
    """Run ``python -m imitation.scripts.<script> *args`` (bounded in time)."""
    result = subprocess.run(
        [sys.executable, "-m", f"imitation.scripts.{script}", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    if ok:
        assert result.returncode == 0, result.stderr[-4000:]
    return result


def sacred_runs(root: pathlib.Path, script: str) -> list[dict]:
    """``run.json`` and ``config.json`` of each Sacred run of ``script``."""
    runs = []
    for run_json in sorted((root / "sacred" / script).glob("*/run.json")):
        try:
            run = json.loads(run_json.read_text())
            run["config"] = json.loads((run_json.parent / "config.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue  # Sacred is writing them (not atomically): a run just starting
        run["dir"] = run_json.parent
        runs.append(run)
    return runs


def completed(runs: list[dict]) -> list[dict]:
    return [r for r in runs if r["status"] == "COMPLETED"]


def free_ports(n: int) -> list[int]:
    """``n`` ports free on the loopback address now."""
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.bind((NODE_IP, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _descendants(pid: int) -> set[int]:
    """PIDs of the processes below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def stop(procs: list[subprocess.Popen], grace: float = 15.0) -> None:
    """Stop ``ray start --block`` processes and all they started.

    SIGTERM first (``ray start --block`` then stops its node); whatever is
    left after ``grace`` seconds gets SIGKILL.
    """
    tree = set()
    for proc in procs:
        tree |= _descendants(proc.pid)
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def wait_for(path: pathlib.Path, text: str, proc: subprocess.Popen, timeout: float):
    """Wait until ``path`` (a process's log) contains ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        assert proc.poll() is None, path.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not in {path} after {timeout} s")


@contextlib.contextmanager
def local_cluster(
    log_dir: pathlib.Path, env: dict[str, str], temp_dir: str
) -> Iterator[str]:
    """A head node and a worker node on the loopback address, one CPU each.

    Yields:
        The head's address (``IP:port``) for ``ray.init(address=...)``.
    """
    port, client_port, head_agent, worker_agent = free_ports(4)
    address = f"{NODE_IP}:{port}"
    common = ["--block", f"--node-ip-address={NODE_IP}", "--num-cpus=1"]
    procs: list[subprocess.Popen] = []
    try:
        with open(log_dir / "head.log", "w") as head_log:
            procs.append(
                subprocess.Popen(
                    [
                        str(RAY),
                        "start",
                        "--head",
                        *common,
                        f"--port={port}",
                        f"--ray-client-server-port={client_port}",
                        f"--dashboard-agent-listen-port={head_agent}",
                        "--include-dashboard=false",
                        f"--temp-dir={temp_dir}",
                        "--disable-usage-stats",
                    ],
                    env=env,
                    stdout=head_log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(log_dir / "head.log", "Ray runtime started", procs[0], 120)
        with open(log_dir / "worker.log", "w") as worker_log:
            procs.append(
                subprocess.Popen(
                    [
                        str(RAY),
                        "start",
                        *common,
                        f"--address={address}",
                        f"--dashboard-agent-listen-port={worker_agent}",
                    ],
                    env=env,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(log_dir / "worker.log", "Ray runtime started", procs[1], 120)
        yield address
    finally:
        stop(procs)
