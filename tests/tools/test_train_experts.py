"""tools/train_experts.py: VecNormalize statistics folded into a saved expert."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn

from imitation.policies import serialize
from imitation.util import util

TOOL_NAME = "train_experts"  # loaded by the ``tool`` fixture (conftest.py)


def test_vecnormalize_statistics_fold_into_the_saved_policy(tool, tmp_path):
    """The saved zip, on raw observations, acts as policy + VecNormalize did."""
    entry = tool.mujoco_ppo(
        timesteps=256,
        bar=-np.inf,
        n_envs=2,
        obs_norm="vecnormalize",
        activation=nn.Tanh,
        width=16,
        policy_kwargs=dict(log_std_init=-1.0),
        batch_size=64,
        gamma=0.99,
        n_epochs=1,
        n_steps=64,
    )
    entry.update(env_id="Pendulum-v1", keep_best_every=256, curve_episodes=1)
    name = "test-fold-Pendulum-v1"
    tool.EXPERTS[name] = entry
    env = util.make_vec_env("Pendulum-v1", rng=np.random.default_rng(0), n_envs=1)
    obs = np.random.default_rng(0).uniform(-3, 3, size=(100, 3)).astype(np.float32)
    want = []
    original_raw_obs_policy = tool.raw_obs_policy

    def spy(model, blind=()):
        # At each evaluation: the training policy's actions behind VecNormalize.
        venv = model.get_env()
        if isinstance(venv, VecNormalize) and venv.norm_obs:
            normalized = th.as_tensor(venv.normalize_obs(obs)).float()
            with th.no_grad():
                dist = model.policy.get_distribution(normalized)
            want.append(dist.distribution.mean.numpy())
        return original_raw_obs_policy(model, blind)

    tool.raw_obs_policy = spy
    try:
        tool.train(name, out_dir=tmp_path)
    finally:
        tool.raw_obs_policy = original_raw_obs_policy
        del tool.EXPERTS[name]
    (zip_path,) = tmp_path.glob("*.zip")
    loaded = serialize.load_stable_baselines_model(PPO, zip_path, env).policy
    loaded.set_training_mode(False)  # as predict() does: statistics frozen
    with th.no_grad():
        got = loaded.get_distribution(th.as_tensor(obs).float()).distribution.mean
    # The file holds the best evaluation's weights and statistics: here the
    # only evaluation (at step 256, before the last rollout's update; the
    # second call is train's own, after learning).
    assert len(want) == 2
    np.testing.assert_allclose(got.numpy(), want[0], rtol=1e-4, atol=1e-5)
    assert tool.json.loads(zip_path.with_suffix(".json").read_text())[
        "observation_normalization"
    ].startswith("VecNormalize")


def test_blind_features_are_ignored_by_the_saved_policy(tool, tmp_path):
    """Zeroed in training, a blind feature has no effect on the saved policy."""
    entry = tool.mujoco_ppo(
        timesteps=128,
        bar=-np.inf,
        n_envs=2,
        obs_norm="vecnormalize",
        blind=(2,),
        activation=nn.Tanh,
        width=16,
        batch_size=64,
        gamma=0.99,
        n_epochs=1,
        n_steps=64,
    )
    entry["env_id"] = "Pendulum-v1"
    tool.EXPERTS["test-blind"] = entry
    try:
        tool.train("test-blind", out_dir=tmp_path)
    finally:
        del tool.EXPERTS["test-blind"]
    (zip_path,) = tmp_path.glob("*.zip")
    env = util.make_vec_env("Pendulum-v1", rng=np.random.default_rng(0), n_envs=1)
    policy = serialize.load_stable_baselines_model(PPO, zip_path, env).policy
    policy.set_training_mode(False)
    obs = np.random.default_rng(1).uniform(-3, 3, size=(50, 3)).astype(np.float32)
    moved = obs.copy()
    moved[:, 2] += 100.0  # the blind feature, far from anything seen
    with th.no_grad():
        means = [
            policy.get_distribution(th.as_tensor(o)).distribution.mean
            for o in (obs, moved)
        ]
    th.testing.assert_close(means[0], means[1])
    record = tool.json.loads(zip_path.with_suffix(".json").read_text())
    assert record["ignored_observation_features"] == [2]


def test_unknown_obs_norm_is_refused(tool):
    with pytest.raises(ValueError, match="obs_norm='layer'"):
        tool.mujoco_ppo(
            timesteps=1, bar=0.0, obs_norm="layer", activation=nn.Tanh, width=8
        )
