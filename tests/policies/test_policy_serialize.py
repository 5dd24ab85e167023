"""Tests for imitation.policies.serialize."""

from __future__ import annotations

import base64
import json
import pickle
import socket
import zipfile

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.evaluation import evaluate_policy

from imitation.data import rollout
from imitation.policies import base, serialize
from imitation.util.util import make_vec_env


@pytest.fixture
def cartpole(rng):
    venv = make_vec_env("seals:seals/CartPole-v0", rng=rng, n_envs=2)
    yield venv
    venv.close()


@pytest.fixture
def saved_ppo(tmp_path, cartpole):
    model = PPO("MlpPolicy", cartpole, seed=0, n_steps=64, device="cpu")
    serialize.save_stable_model(tmp_path / "run", model)
    return model, tmp_path / "run"


def _params(policy):
    return {k: v.clone() for k, v in policy.state_dict().items()}


def test_load_from_zip_and_directory_bit_identical(saved_ppo, cartpole):
    model, run_dir = saved_ppo
    for path in (run_dir, run_dir / "model.zip"):
        policy = serialize.load_policy("ppo", cartpole, path=path)
        loaded = _params(policy)
        for key, value in _params(model.policy).items():
            assert th.equal(loaded[key], value)


def test_saved_policy_acts_identically(saved_ppo, cartpole):
    model, run_dir = saved_ppo
    policy = serialize.load_policy("ppo", cartpole, path=run_dir)
    obs = np.random.default_rng(1).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        policy.predict(obs, deterministic=True)[0],
        model.policy.predict(obs, deterministic=True)[0],
    )


def test_sac_loader(tmp_path, rng):
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    model = SAC("MlpPolicy", venv, device="cpu", policy_kwargs=dict(net_arch=[8]))
    serialize.save_stable_model(tmp_path, model)
    policy = serialize.load_policy("sac", venv, path=tmp_path / "model.zip")
    assert policy.action_space == venv.action_space


def test_missing_file(tmp_path, cartpole):
    with pytest.raises(FileNotFoundError, match="model.zip"):
        serialize.load_policy("ppo", cartpole, path=tmp_path)


def test_corrupt_zip(saved_ppo, cartpole, tmp_path):
    _, run_dir = saved_ppo
    data = (run_dir / "model.zip").read_bytes()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(serialize.PolicyLoadError, match="truncated or corrupt"):
        serialize.load_policy("ppo", cartpole, path=bad)


def test_foreign_zip(tmp_path, cartpole):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(
        serialize.PolicyLoadError, match="not a Stable-Baselines3 model"
    ):
        serialize.load_policy("ppo", cartpole, path=path)


def test_malicious_pickle_entry_refused(saved_ppo, cartpole, tmp_path):
    _, run_dir = saved_ppo
    src = run_dir / "model.zip"
    evil = tmp_path / "evil.zip"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    with zipfile.ZipFile(src) as archive_in, zipfile.ZipFile(evil, "w") as archive_out:
        for item in archive_in.namelist():
            content = archive_in.read(item)
            if item == "data":
                data = json.loads(content)
                data["policy_class"][":serialized:"] = base64.b64encode(
                    pickle.dumps(Evil())
                ).decode()
                content = json.dumps(data).encode()
            archive_out.writestr(item, content)
    with pytest.raises(serialize.PolicyLoadError, match="allow_unsafe_pickle"):
        serialize.load_policy("ppo", cartpole, path=evil)


def test_wrong_venv_spaces(saved_ppo, rng):
    _, run_dir = saved_ppo
    pendulum = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    with pytest.raises(ValueError, match="observation_space"):
        serialize.load_policy("ppo", pendulum, path=run_dir)


def test_random_and_zero(cartpole, rng):
    random = serialize.load_policy("random", cartpole, rng=rng)
    zero = serialize.load_policy("zero", cartpole)
    assert isinstance(random, base.RandomPolicy)
    mean, _ = evaluate_policy(zero, cartpole, n_eval_episodes=2)
    assert mean > 0
    trajs = rollout.generate_trajectories(
        zero, cartpole, rollout.make_min_episodes(1), rng=rng
    )
    assert np.all(trajs[0].acts == 0)


def test_unknown_type(cartpole):
    with pytest.raises(KeyError):
        serialize.load_policy("no-such-type", cartpole)


def test_custom_loader_registration(cartpole):
    def my_policy_loader(venv, some_param: int):
        assert some_param == 42
        return base.ZeroPolicy(venv.observation_space, venv.action_space)

    serialize.policy_registry.register("test-my-policy", my_policy_loader)
    policy = serialize.load_policy("test-my-policy", cartpole, some_param=42)
    assert isinstance(policy, base.ZeroPolicy)


def test_hub_repo_naming():
    assert serialize.hub_repo_and_filename(
        "ppo", "seals/CartPole-v0", "HumanCompatibleAI"
    ) == ("HumanCompatibleAI/ppo-seals-CartPole-v0", "ppo-seals-CartPole-v0.zip")


def test_hub_loader_reads_local_cache(saved_ppo, cartpole, tmp_path, monkeypatch):
    """A hub cache laid out as huggingface_hub stores it is used offline."""
    _, run_dir = saved_ppo
    cache = tmp_path / "hub"
    repo_dir = cache / "models--my-org--ppo-seals-CartPole-v0"
    commit = "0" * 40
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "ppo-seals-CartPole-v0.zip").write_bytes(
        (run_dir / "model.zip").read_bytes()
    )
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(
        "huggingface_hub.file_download.constants.HF_HUB_CACHE", str(cache)
    )
    policy = serialize.load_policy(
        "ppo-huggingface", cartpole, organization="my-org", env_name="seals/CartPole-v0"
    )
    assert policy.observation_space == cartpole.observation_space


def test_hub_loader_fails_fast_offline(cartpole, tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(
        "huggingface_hub.file_download.constants.HF_HUB_CACHE", str(tmp_path)
    )
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(serialize.HubUnavailableError, match="bundled"):
        # No bundled expert stands in for another organization's repository.
        serialize.load_policy(
            "sac-huggingface", cartpole, env_name="Pendulum-v1", organization="org"
        )


def test_hub_loader_no_network(cartpole, tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(
        "huggingface_hub.file_download.constants.HF_HUB_CACHE", str(tmp_path)
    )
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)

    def no_dns(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(serialize.HubUnavailableError, match="Cannot reach"):
        serialize.load_policy(
            "ppo-huggingface", cartpole, env_name="seals/CartPole-v0", organization="o"
        )


@pytest.mark.parametrize(
    ("env_id", "algo", "bar"),
    [
        ("seals/CartPole-v0", None, 495.0),
        ("CartPole-v1", None, 495.0),
        ("Pendulum-v1", None, -200.0),
        ("Pendulum-v1", "ppo", -250.0),
        ("seals/MountainCar-v0", None, -110.0),
    ],
)
def test_bundled_expert_quality(env_id, algo, bar):
    gym_id = f"seals:{env_id}" if env_id.startswith("seals/") else env_id
    venv = make_vec_env(gym_id, rng=np.random.default_rng(7), n_envs=5)
    expert = serialize.load_policy("bundled", venv, env_name=env_id, algo=algo)
    trajs = rollout.generate_trajectories(
        expert, venv, rollout.make_min_episodes(50), rng=np.random.default_rng(7)
    )
    mean = np.mean([t.rews.sum() for t in trajs[:50]])
    assert mean >= bar
    record = serialize.bundled_expert_record(env_id, algo)
    assert record["eval_return_mean"] >= bar
    assert record["algo"] == (algo or record["algo"])


# The benchmark's seals MuJoCo tasks whose experts are bundled so far.
MUJOCO_EXPERTS = [
    env
    for env in [
        "seals/Ant-v1",
        "seals/HalfCheetah-v1",
        "seals/Hopper-v1",
        "seals/Swimmer-v1",
        "seals/Walker2d-v1",
    ]
    if env in serialize.bundled_expert_env_names()
]


@pytest.mark.parametrize("env_id", MUJOCO_EXPERTS)
def test_bundled_mujoco_expert_matches_its_record(env_id):
    """A few episodes on a fresh seed agree with the recorded 50-episode return."""
    pytest.importorskip("mujoco")
    record = serialize.bundled_expert_record(env_id)
    assert record["eval_return_mean"] >= record["quality_bar"]
    venv = make_vec_env(f"seals:{env_id}", rng=np.random.default_rng(11), n_envs=5)
    expert = serialize.load_policy("bundled", venv, env_name=env_id)
    trajs = rollout.generate_trajectories(
        expert, venv, rollout.make_min_episodes(5), rng=np.random.default_rng(11)
    )
    returns = [t.rews.sum() for t in trajs[:5]]
    # Within 4 standard errors of the record (its own spread), plus 2% slack.
    slack = 4 * record["eval_return_std"] / np.sqrt(5)
    slack += 0.02 * abs(record["eval_return_mean"])
    assert abs(np.mean(returns) - record["eval_return_mean"]) <= slack


def test_bundled_unknown_env(cartpole):
    with pytest.raises(KeyError, match="No bundled expert"):
        serialize.load_policy("bundled", cartpole, env_name="Acrobot-v1")


def test_bundled_experts_of_a_task():
    assert serialize.bundled_expert_algos("Pendulum-v1") == ["sac", "ppo"]  # main 1st
    assert serialize.bundled_expert_record("Pendulum-v1")["algo"] == "sac"
    with pytest.raises(KeyError, match=r"No dqn expert .* \['sac', 'ppo'\]"):
        serialize.bundled_expert_record("Pendulum-v1", "dqn")


def test_bundled_names():
    assert set(serialize.bundled_expert_env_names()) >= {
        "seals/CartPole-v0",
        "CartPole-v1",
        "Pendulum-v1",
        "seals/MountainCar-v0",
        *MUJOCO_EXPERTS,
    }


def test_save_policy_callback(tmp_path, cartpole):
    from stable_baselines3.common.callbacks import EveryNTimesteps

    model = PPO(
        "MlpPolicy", cartpole, n_steps=32, batch_size=32, n_epochs=1, device="cpu"
    )
    callback = EveryNTimesteps(64, serialize.SavePolicyCallback(tmp_path))
    model.learn(128, callback=callback)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved and all((tmp_path / name / "model.zip").exists() for name in saved)


def test_random_loader_seeded_by_rng(cartpole):
    def actions(seed):
        policy = serialize.load_policy(
            "random", cartpole, rng=np.random.default_rng(seed)
        )
        return policy.predict(np.zeros((20, 4), dtype=np.float32))[0]

    np.testing.assert_array_equal(actions(3), actions(3))


def test_load_stable_baselines_model_returns_given_class(saved_ppo, cartpole):
    from stable_baselines3.common.base_class import BaseAlgorithm

    assert serialize.Algorithm.__bound__ is BaseAlgorithm
    _, run_dir = saved_ppo
    model = serialize.load_stable_baselines_model(PPO, run_dir, cartpole)
    assert type(model) is PPO
