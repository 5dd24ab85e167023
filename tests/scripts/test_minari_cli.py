"""``demonstrations.source=minari`` on the command line, run as a subprocess."""

from __future__ import annotations

import pathlib
import re
import shlex

import gymnasium as gym
import numpy as np
import pytest
from cli_helpers import run, sacred_run

from imitation.data import minari as im_minari
from imitation.data import rollout
from imitation.policies.base import RandomPolicy
from imitation.util.util import make_vec_env

DOC = pathlib.Path(__file__).parents[2] / "docs" / "formats.md"
DATASET_ID = "seals-cartpole/expert-v0"  # The id docs/formats.md uses.


def documented_command() -> list[str]:
    """The ``source=minari`` command of docs/formats.md, split into arguments."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.DOTALL)
    (command,) = [b for b in blocks if "demonstrations.source=minari" in b]
    args = shlex.split(command.replace("\\\n", " "))
    assert args[:3] == ["python", "-m", "imitation.scripts.train_imitation"]
    return args[3:]


@pytest.fixture
def minari_dataset(tmp_path, monkeypatch):
    """Three random seals/CartPole-v0 episodes as a Minari dataset in a tmp root."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    rng = np.random.default_rng(0)
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=1)
    try:
        trajs = rollout.generate_trajectories(
            RandomPolicy(venv.observation_space, venv.action_space, rng),
            venv,
            rollout.make_min_episodes(3),
            rng=rng,
        )
    finally:
        venv.close()
    env = gym.make("seals:seals/CartPole-v0")
    im_minari.save_trajectories(DATASET_ID, trajs, env=env)
    env.close()
    return trajs


def test_bc_trains_on_a_minari_dataset(tmp_path, minari_dataset):
    log_dir = tmp_path / "bc"
    # The documented command, then overrides that shrink its budget.
    run(
        tmp_path,
        "train_imitation",
        *documented_command(),
        "fast",
        "environment.fast",
        "policy_evaluation.fast",
        "demonstrations.n_expert_demos=2",
        f"logging.log_dir={log_dir}",
    )
    info = sacred_run(log_dir)
    assert info["status"] == "COMPLETED"
    assert (log_dir / "final.th").is_file()
    # The demonstrations' statistics are those of the dataset's first episodes.
    expert = info["result"]["expert_stats"]
    returns = [float(t.rews.sum()) for t in minari_dataset[:2]]
    assert expert["n_traj"] == 2
    assert expert["return_mean"] == pytest.approx(np.mean(returns))
