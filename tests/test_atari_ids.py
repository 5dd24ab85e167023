"""Importing imitation makes the ALE's Atari ids resolve, when ale-py is installed."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("ale_py")


@pytest.mark.parametrize(
    "env_id", ["AsteroidsNoFrameskip-v4", "PongNoFrameskip-v4", "ALE/Pong-v5"]
)
def test_legacy_ale_ids_resolve_after_importing_imitation(env_id):
    # A fresh interpreter: nothing else has imported ale_py yet.
    code = (
        "import gymnasium as gym\n"
        f"assert {env_id!r} not in gym.registry\n"
        "import imitation\n"
        f"env = gym.make({env_id!r})\n"
        "obs, _ = env.reset(seed=0)\n"
        "env.close()\n"
        "print(obs.shape)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "(210, 160, 3)"
