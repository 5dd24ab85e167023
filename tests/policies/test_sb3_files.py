"""Expert files as users have them: zips written by plain Stable-Baselines3.

RL Zoo and most published experts are trained with schedules written as
functions (which the safe loader does not unpickle) and often behind
VecNormalize; every loader must still load them for acting, and act exactly
as ``Model.load``'s policy does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch as th
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.vec_env import VecNormalize

from imitation.policies import base, serialize
from imitation.util.util import make_vec_env


def linear_schedule(initial: float):
    """The RL Zoo's ``lin_<value>`` schedules: a closure, pickled as code."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    return schedule


def _venv(env_id):
    return make_vec_env(env_id, rng=np.random.default_rng(0), n_envs=2)


CASES = {
    "ppo-constant": ("ppo", PPO, "CartPole-v1", {}),
    "ppo-schedules": (
        "ppo",
        PPO,
        "CartPole-v1",
        {
            "learning_rate": linear_schedule(3e-4),
            "clip_range": linear_schedule(0.2),
            "policy_kwargs": {"net_arch": {"pi": [16, 16], "vf": [8]}},
        },
    ),
    "ppo-sde": (
        "ppo",
        PPO,
        "Pendulum-v1",
        {"use_sde": True, "learning_rate": linear_schedule(1e-3)},
    ),
    "sac-constant": ("sac", SAC, "Pendulum-v1", {"policy_kwargs": {"net_arch": [32]}}),
    "sac-schedule-sde": (
        "sac",
        SAC,
        "Pendulum-v1",
        {"learning_rate": linear_schedule(7e-4), "use_sde": True},
    ),
    "dqn-constant": ("dqn", DQN, "CartPole-v1", {}),
    "dqn-schedule": (
        "dqn",
        DQN,
        "CartPole-v1",
        {
            "learning_rate": linear_schedule(1e-3),
            "policy_kwargs": {"net_arch": [64, 64], "activation_fn": th.nn.Tanh},
        },
    ),
}


def _save(tmp_path, case, vec_normalize: bool = False):
    loader, cls, env_id, kwargs = CASES[case]
    venv = _venv(env_id)
    model = cls("MlpPolicy", venv, seed=0, device="cpu", **kwargs)
    model_dir = tmp_path / case
    model_dir.mkdir()
    model.save(model_dir / "model.zip")
    stats = None
    if vec_normalize:
        stats = VecNormalize(_venv(env_id), norm_reward=False)
        stats.reset()
        for _ in range(50):  # non-trivial statistics
            stats.step(np.array([stats.action_space.sample() for _ in range(2)]))
        stats.save(model_dir / "vec_normalize.pkl")
    return loader, cls, model_dir, venv, stats


def _observations(venv, n=64):
    space = venv.observation_space
    space.seed(1)
    return np.stack([space.sample() for _ in range(n)]).clip(-5, 5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_plain_sb3_zip_acts_as_model_load(case, tmp_path):
    loader, cls, model_dir, venv, _ = _save(tmp_path, case)
    has_code = "constant" not in case
    if has_code:
        with pytest.warns(UserWarning, match="acting only"):
            policy = serialize.load_policy(loader, venv, path=model_dir)
    else:
        policy = serialize.load_policy(loader, venv, path=model_dir / "model.zip")
    reference = cls.load(model_dir / "model.zip", device="cpu").policy
    obs = _observations(venv)
    got, _ = policy.predict(obs, deterministic=True)
    want, _ = reference.predict(obs, deterministic=True)
    np.testing.assert_array_equal(got, want)
    for (k1, v1), (k2, v2) in zip(
        policy.state_dict().items(), reference.state_dict().items()
    ):
        assert k1 == k2 and th.equal(v1, v2)


def test_training_refused_only_where_code_was_skipped(tmp_path):
    _, cls, model_dir, venv, _ = _save(tmp_path, "ppo-schedules")
    with pytest.warns(UserWarning, match="allow_unsafe_pickle"):
        model = serialize.load_stable_baselines_model(cls, model_dir, venv)
    model.set_env(venv)
    with pytest.raises(serialize.PolicyLoadError, match="allow_unsafe_pickle=True"):
        model.learn(64)
    trusted = serialize.load_stable_baselines_model(
        cls, model_dir, venv, allow_unsafe_pickle=True
    )
    assert trusted.lr_schedule(1.0) == pytest.approx(3e-4)
    _, cls, plain_dir, venv, _ = _save(tmp_path, "dqn-constant")
    model = serialize.load_stable_baselines_model(cls, plain_dir, venv)
    model.set_env(venv)
    model.learn(20)  # nothing was skipped: training works


@pytest.mark.parametrize("case", ["ppo-schedules", "sac-constant", "dqn-constant"])
def test_vec_normalize_beside_the_zip(case, tmp_path):
    loader, cls, model_dir, venv, stats = _save(tmp_path, case, vec_normalize=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        policy = serialize.load_policy(loader, venv, path=model_dir)
    replaced = [w for w in caught if "acting only" in str(w.message)]
    assert len(replaced) == (1 if "schedules" in case else 0)
    assert isinstance(policy, base.NormalizedObsPolicy)
    reference = cls.load(model_dir / "model.zip", device="cpu").policy
    expected_stats = VecNormalize.load(str(model_dir / "vec_normalize.pkl"), venv)
    expected_stats.training = False
    obs = _observations(venv)
    got, _ = policy.predict(obs, deterministic=True)
    want, _ = reference.predict(expected_stats.normalize_obs(obs), deterministic=True)
    np.testing.assert_array_equal(got, want)
    # The torch path normalises the same way (float32 after float64 maths).
    with th.no_grad():
        got_t = policy._predict(th.as_tensor(obs), deterministic=True)
        want_t = reference._predict(
            th.as_tensor(expected_stats.normalize_obs(obs)), deterministic=True
        )
    np.testing.assert_allclose(got_t.numpy(), want_t.numpy(), rtol=1e-5, atol=1e-6)


def test_rl_zoo_vecnormalize_name(tmp_path):
    _, _, model_dir, venv, _ = _save(tmp_path, "sac-constant", vec_normalize=True)
    (model_dir / "vec_normalize.pkl").rename(model_dir / "vecnormalize.pkl")
    policy = serialize.load_policy("sac", venv, path=model_dir)
    assert isinstance(policy, base.NormalizedObsPolicy)


def test_vec_normalize_for_other_spaces(tmp_path):
    _, _, model_dir, _, _ = _save(tmp_path, "ppo-constant")
    other = VecNormalize(_venv("Pendulum-v1"))
    other.save(model_dir / "vec_normalize.pkl")
    with pytest.raises(ValueError, match="VecNormalize statistics"):
        serialize.load_policy("ppo", _venv("CartPole-v1"), path=model_dir)


def test_corrupt_vec_normalize(tmp_path):
    _, _, model_dir, venv, _ = _save(tmp_path, "ppo-constant")
    (model_dir / "vec_normalize.pkl").write_bytes(b"\x80\x04garbage")
    with pytest.raises(serialize.PolicyLoadError, match="VecNormalize"):
        serialize.load_policy("ppo", venv, path=model_dir)


@pytest.mark.parametrize(
    ("case", "loader"),
    [("ppo-schedules", "ppo-huggingface"), ("sac-schedule-sde", "sac-huggingface")],
)
def test_hub_loaders_from_local_cache(case, loader, tmp_path, monkeypatch):
    algo, cls, model_dir, venv, _ = _save(tmp_path, case, vec_normalize=True)
    repo_id, filename = serialize.hub_repo_and_filename(algo, "seals/Env-v0", "org")
    cache = tmp_path / "hub"
    repo_dir = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "1" * 40
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / filename).write_bytes((model_dir / "model.zip").read_bytes())
    (snapshot / "vec_normalize.pkl").write_bytes(
        (model_dir / "vec_normalize.pkl").read_bytes()
    )
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    for target in (
        "huggingface_hub.constants",
        "huggingface_hub.file_download.constants",
    ):
        monkeypatch.setattr(f"{target}.HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.warns(UserWarning, match="acting only"):
        policy = serialize.load_policy(
            loader, venv, organization="org", env_name="seals/Env-v0"
        )
    assert isinstance(policy, base.NormalizedObsPolicy)
    reference = cls.load(model_dir / "model.zip", device="cpu").policy
    stats = VecNormalize.load(str(model_dir / "vec_normalize.pkl"), venv)
    obs = _observations(venv)
    np.testing.assert_array_equal(
        policy.predict(obs, deterministic=True)[0],
        reference.predict(stats.normalize_obs(obs), deterministic=True)[0],
    )


def test_corrupt_weights(tmp_path):
    import zipfile

    _, _, model_dir, venv, _ = _save(tmp_path, "ppo-constant")
    src = model_dir / "model.zip"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "policy.pth":
                data = data[: len(data) // 2] + b"\x00" * (len(data) - len(data) // 2)
            zout.writestr(item, data)
    with pytest.raises(serialize.PolicyLoadError, match="corrupt") as info:
        serialize.load_policy("ppo", venv, path=bad)
    assert "weights_only" not in str(info.value)


@pytest.mark.parametrize("case", ["ppo-schedules", "dqn-schedule"])
def test_eval_policy_script_loads_plain_sb3_zip(case, tmp_path):
    """The command line's loader: a zip with schedules (and VecNormalize)."""
    loader, _, model_dir, _, _ = _save(tmp_path, case, vec_normalize=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "imitation.scripts.eval_policy",
            "with",
            f"expert.policy_type={loader}",
            f"expert.loader_kwargs.path={model_dir / 'model.zip'}",
            "environment.gym_id=CartPole-v1",
            "environment.num_vec=1",
            "environment.parallel=False",
            "eval_n_timesteps=50",
            "logging.log_dir=out",
        ],
        cwd=tmp_path,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Result: {" in result.stderr
