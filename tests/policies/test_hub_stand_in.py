"""Bundled experts standing in for the HuggingFace Hub when it cannot be reached."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from imitation.policies import hub_stand_in, serialize
from imitation.testing import hub_cache
from imitation.util.util import make_vec_env

ENV = "seals/CartPole-v0"


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, an empty Hub cache, and a fresh stand-in cache."""
    monkeypatch.setenv("IMITATION_CACHE_DIR", str(tmp_path / "imitation-cache"))
    with hub_cache.use_hub_cache(tmp_path / "empty-hub", offline=True):
        yield tmp_path / "imitation-cache" / "hub-stand-in"


@pytest.fixture
def venv():
    return make_vec_env(f"seals:{ENV}", rng=np.random.default_rng(0), n_envs=2)


def _params(policy):
    return [p.detach().numpy() for p in policy.parameters()]


def test_hub_expert_falls_back_to_the_bundled_one(offline, venv, caplog):
    with caplog.at_level(logging.WARNING, logger=hub_stand_in.__name__):
        policy = serialize.load_policy("ppo-huggingface", venv, env_name=ENV)
    bundled = serialize.load_policy("bundled", venv, env_name=ENV)
    for got, want in zip(_params(policy), _params(bundled), strict=True):
        np.testing.assert_array_equal(got, want)
    (note,) = [r.getMessage() for r in caplog.records]
    assert "HumanCompatibleAI/ppo-seals-CartPole-v0" in note
    assert "bundled" in note and "\n" not in note


@pytest.mark.parametrize(
    ("policy_type", "kwargs"),
    [
        ("ppo-huggingface", dict(env_name=ENV, organization="someone-else")),
        ("sac-huggingface", dict(env_name=ENV)),  # the bundled expert is PPO
    ],
)
def test_no_stand_in_for_other_repositories(offline, venv, policy_type, kwargs):
    with pytest.raises(serialize.HubUnavailableError):
        serialize.load_policy(policy_type, venv, **kwargs)


def test_no_stand_in_without_a_bundled_expert(offline):
    assert (
        hub_stand_in.stand_in_rollouts("ppo", "Acrobot-v1", "HumanCompatibleAI") is None
    )


def test_a_cached_hub_expert_is_preferred(tmp_path, venv, monkeypatch, caplog):
    monkeypatch.setenv("IMITATION_CACHE_DIR", str(tmp_path / "imitation-cache"))
    hub_cache.populate_hub_cache(tmp_path / "hub", env_names=[ENV], n_episodes=1)
    with (
        hub_cache.use_hub_cache(tmp_path / "hub", offline=True),
        caplog.at_level(logging.WARNING, logger=hub_stand_in.__name__),
    ):
        serialize.load_policy("ppo-huggingface", venv, env_name=ENV)
    assert not caplog.records


def test_stand_in_demonstrations_are_generated_once_and_reproducible(offline, caplog):
    with caplog.at_level(logging.WARNING, logger=hub_stand_in.__name__):
        first = hub_stand_in.stand_in_rollouts("ppo", ENV, "HumanCompatibleAI")
    assert first is not None and len(first) == hub_stand_in.STAND_IN_EPISODES
    assert caplog.records  # the note
    (cached,) = offline.iterdir()
    stamp = cached.stat().st_mtime_ns
    again = hub_stand_in.stand_in_rollouts("ppo", ENV, "HumanCompatibleAI")
    assert cached.stat().st_mtime_ns == stamp  # loaded, not regenerated
    cached.unlink()
    fresh = hub_stand_in.stand_in_rollouts("ppo", ENV, "HumanCompatibleAI")
    for a, b, c in zip(first, again, fresh, strict=True):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.obs, c.obs)  # same seed, same data
        np.testing.assert_array_equal(a.acts, c.acts)
        np.testing.assert_array_equal(a.rews, c.rews)
