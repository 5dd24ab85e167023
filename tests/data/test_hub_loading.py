"""Loading experts and demonstrations from a local HuggingFace Hub cache, offline.

A Hub cache is filled by :mod:`imitation.testing.hub_cache` and read by the
real ``huggingface_hub`` functions: in a subprocess pointed at it with
``HF_HUB_CACHE`` (with and without ``HF_HUB_OFFLINE``), and in this process
with :func:`~imitation.testing.hub_cache.use_hub_cache`.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import huggingface_hub
import numpy as np
import pytest

from imitation.data import huggingface_utils, types
from imitation.policies import serialize
from imitation.testing import hub_cache

ENV_NAME = "seals/CartPole-v0"
N_EPISODES = 2
MISSING_ORG = "imitation-tests-no-such-org"

# Run in a fresh interpreter whose Hub client reads HF_HUB_CACHE at import.
SUBPROCESS_SCRIPT = f"""
import json, time
import numpy as np
from imitation.data.huggingface_utils import load_rollouts_from_huggingface
from imitation.policies.serialize import HubUnavailableError, load_policy
from imitation.util.util import make_vec_env

out = {{}}
venv = make_vec_env("seals:{ENV_NAME}", rng=np.random.default_rng(0), n_envs=2)
policy = load_policy("ppo-huggingface", venv, env_name="{ENV_NAME}")
bundled = load_policy("bundled", venv, env_name="{ENV_NAME}")
obs = np.stack([venv.observation_space.sample() for _ in range(16)])
out["policy_type"] = type(policy).__name__
out["same_actions"] = bool(
    (policy.predict(obs, deterministic=True)[0]
     == bundled.predict(obs, deterministic=True)[0]).all()
)
for env_name in ("{ENV_NAME}", "seals:{ENV_NAME}"):
    trajs = load_rollouts_from_huggingface("ppo", env_name)
    out[env_name] = {{
        "sequence_type": type(trajs).__name__,
        "types": [type(t).__name__ for t in trajs],
        "lengths": [len(t) for t in trajs],
        "obs_shapes": [list(t.obs.shape) for t in trajs],
        "returns": [float(t.rews.sum()) for t in trajs],
    }}
errors = []
for load in (
    lambda: load_rollouts_from_huggingface("ppo", "{ENV_NAME}", "{MISSING_ORG}"),
    lambda: load_policy(
        "ppo-huggingface", venv, env_name="{ENV_NAME}", organization="{MISSING_ORG}"
    ),
):
    start = time.monotonic()
    try:
        load()
    except HubUnavailableError as exc:
        errors.append({{"seconds": time.monotonic() - start, "message": str(exc)}})
out["errors"] = errors
print("RESULT" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def populated_cache(tmp_path_factory) -> pathlib.Path:
    """A Hub cache with the seals/CartPole-v0 expert and 2 of its episodes."""
    cache = tmp_path_factory.mktemp("hub-cache")
    repo_ids = hub_cache.populate_hub_cache(
        cache, env_names=[ENV_NAME], n_episodes=N_EPISODES
    )
    assert repo_ids == ["HumanCompatibleAI/ppo-seals-CartPole-v0"]
    return cache


def _hub_free_env(cache: pathlib.Path, home: pathlib.Path, offline: bool) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))
    }
    env["HF_HUB_CACHE"] = str(cache)
    env["HF_HOME"] = str(home)  # keeps the `datasets` cache out of ~/.cache
    env["OMP_NUM_THREADS"] = "1"
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


@pytest.mark.parametrize("offline", [True, False], ids=["HF_HUB_OFFLINE", "online"])
def test_subprocess_loads_from_cache(populated_cache, tmp_path, offline):
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_SCRIPT],
        env=_hub_free_env(populated_cache, tmp_path / "hf-home", offline),
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    line = next(li for li in proc.stdout.splitlines() if li.startswith("RESULT"))
    out = json.loads(line.removeprefix("RESULT"))

    assert out["policy_type"] == "ActorCriticPolicy"
    assert out["same_actions"]

    # Loading by either spelling of the env name gives the same demonstrations,
    # which are the ones in the cache.
    assert out[ENV_NAME] == out[f"seals:{ENV_NAME}"]
    demos = out[ENV_NAME]
    assert demos["sequence_type"] == "TrajectoryDatasetSequence"
    assert demos["types"] == ["TrajectoryWithRew"] * N_EPISODES
    assert demos["lengths"] == [500] * N_EPISODES  # seals CartPole: fixed horizon
    assert demos["obs_shapes"] == [[501, 4]] * N_EPISODES
    with hub_cache.use_hub_cache(populated_cache, offline=True):
        local = huggingface_utils.load_rollouts_from_huggingface("ppo", ENV_NAME)
    assert demos["returns"] == [float(t.rews.sum()) for t in local]

    # Missing repositories fail at once, naming the repository and what to do.
    dataset_error, model_error = out["errors"]
    for error in (dataset_error, model_error):
        assert error["seconds"] < 10
        assert f"{MISSING_ORG}/ppo-seals-CartPole-v0" in error["message"]
        expected = "HF_HUB_OFFLINE is set" if offline else "Cannot reach|download"
        assert any(part in error["message"] for part in expected.split("|"))
    assert "demonstrations.source=local" in dataset_error["message"]
    assert "python -m imitation.testing.hub_cache" in dataset_error["message"]
    assert "bundled" in model_error["message"]
    assert elapsed < 60


def test_in_process_cache(populated_cache):
    with hub_cache.use_hub_cache(populated_cache, offline=True):
        trajs = huggingface_utils.load_rollouts_from_huggingface(
            "ppo", ENV_NAME, split="train[:1]"
        )
        assert len(trajs) == 1
        assert isinstance(trajs[0], types.TrajectoryWithRew)
        start = time.monotonic()
        with pytest.raises(serialize.HubUnavailableError, match="Hub dataset"):
            huggingface_utils.load_rollouts_from_huggingface("sac", ENV_NAME)
        assert time.monotonic() - start < 10
    assert str(populated_cache) != huggingface_hub.constants.HF_HUB_CACHE


def test_in_process_cache_without_offline_flag(populated_cache, monkeypatch):
    def no_dns(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with hub_cache.use_hub_cache(populated_cache, offline=False):
        assert len(huggingface_utils.load_rollouts_from_huggingface("ppo", ENV_NAME))
        with pytest.raises(serialize.HubUnavailableError, match="Cannot reach"):
            huggingface_utils.load_rollouts_from_huggingface("ppo", "seals/Nope-v0")


def test_hub_dataset_repo_id():
    assert (
        huggingface_utils.hub_dataset_repo_id("ppo", "seals:seals/CartPole-v0")
        == "HumanCompatibleAI/ppo-seals-CartPole-v0"
    )
    assert (
        huggingface_utils.hub_dataset_repo_id("sac", "Pendulum-v1", "org")
        == "org/sac-Pendulum-v1"
    )


def test_write_cached_repo_is_found_by_huggingface_hub(tmp_path):
    files = {"a.txt": b"first", "sub/dir/b.bin": b"\x00\x01"}
    snapshot = hub_cache.write_cached_repo(tmp_path, "org/repo", files, "dataset")
    # Writing the same files again is a no-op; new contents make a new commit.
    assert hub_cache.write_cached_repo(tmp_path, "org/repo", files, "dataset") == (
        snapshot
    )
    assert (tmp_path / "datasets--org--repo" / "refs" / "main").read_text() == (
        snapshot.name
    )
    found = huggingface_hub.snapshot_download(
        "org/repo", repo_type="dataset", cache_dir=tmp_path, local_files_only=True
    )
    assert pathlib.Path(found) == snapshot
    path = huggingface_hub.hf_hub_download(
        "org/repo",
        "sub/dir/b.bin",
        repo_type="dataset",
        cache_dir=tmp_path,
        local_files_only=True,
    )
    assert pathlib.Path(path).read_bytes() == b"\x00\x01"
    newer = hub_cache.write_cached_repo(tmp_path, "org/repo", {"a.txt": b"second"})
    assert newer.parent.parent.name == "models--org--repo"
    model_file = huggingface_hub.hf_hub_download(
        "org/repo", "a.txt", cache_dir=tmp_path, local_files_only=True
    )
    assert pathlib.Path(model_file).read_bytes() == b"second"
    with pytest.raises(ValueError, match="inside the repository"):
        hub_cache.write_cached_repo(tmp_path, "org/repo", {"../x": b""})
    with pytest.raises(ValueError, match="Org/name"):
        hub_cache.write_cached_repo(tmp_path, "repo", {"x": b""})


def test_cli_populates_cache(tmp_path, capsys):
    datasets_cache = tmp_path / "datasets"
    hub_cache.main(
        [
            str(tmp_path),
            "--env",
            "CartPole-v1",
            "--n-episodes",
            "1",
            "--datasets-cache",
            str(datasets_cache),
        ]
    )
    out = capsys.readouterr().out
    assert "HF_HUB_CACHE=" in out and f"HF_DATASETS_CACHE={datasets_cache}" in out
    assert list(datasets_cache.glob("HumanCompatibleAI___ppo-cart_pole-v1/*/*/*"))
    with hub_cache.use_hub_cache(tmp_path, offline=True):
        trajs = huggingface_utils.load_rollouts_from_huggingface("ppo", "CartPole-v1")
        path = huggingface_hub.hf_hub_download(
            "HumanCompatibleAI/ppo-CartPole-v1",
            "ppo-CartPole-v1.zip",
            local_files_only=True,
        )
    assert len(trajs) == 1
    assert pathlib.Path(path).stat().st_size > 0
    assert np.isfinite(trajs[0].rews).all()


def test_load_dataset_of_the_tutorials_works_offline(tmp_path):
    # The SQIL tutorials' own lines, in a fresh offline process.
    hub, datasets_cache = tmp_path / "hub", tmp_path / "datasets"
    hub_cache.populate_hub_cache(
        hub, env_names=["CartPole-v1"], n_episodes=2, datasets_cache_dir=datasets_cache
    )
    code = (
        "import datasets\n"
        "from imitation.data import huggingface_utils\n"
        'dataset = datasets.load_dataset("HumanCompatibleAI/ppo-CartPole-v1")\n'
        'rollouts = huggingface_utils.TrajectoryDatasetSequence(dataset["train"])\n'
        "print(len(rollouts), len(rollouts[0]))\n"
    )
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(hub),
        "HF_DATASETS_CACHE": str(datasets_cache),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "home"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    n_trajs, length = result.stdout.split()
    assert n_trajs == "2" and int(length) > 0
    with pytest.raises(ValueError, match="Org/name"):
        hub_cache.write_datasets_cache(datasets_cache, "repo", hub)
