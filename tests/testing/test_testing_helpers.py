"""Tests for imitation.testing.reward_nets and expert_trajectories."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
import torch.utils.data as th_data
from gymnasium import spaces

from imitation.algorithms import bc
from imitation.data import types
from imitation.rewards import reward_nets
from imitation.testing import expert_trajectories
from imitation.testing.reward_nets import MockRewardNet, make_ensemble
from imitation.util import networks

OBS = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
ACTS = spaces.Discrete(2)
OBS_CARTPOLE = spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)


def _batch(n):
    obs = np.zeros((n, 3), dtype=np.float32)
    return obs, np.zeros(n, dtype=np.int64), obs, np.zeros(n, dtype=bool)


@pytest.mark.parametrize("value", [0.0, -2.5])
def test_mock_reward_net_constant(value):
    net = MockRewardNet(OBS, ACTS, value=value)
    assert isinstance(net, reward_nets.RewardNet)
    np.testing.assert_array_equal(net.predict(*_batch(4)), np.full(4, value))
    out = net(*net.preprocess(*_batch(2)))
    assert out.shape == (2,) and out.dtype == th.float32
    assert list(net.parameters()) == []


def test_mock_reward_net_in_wrappers():
    base = MockRewardNet(OBS, ACTS, 1.0)
    net = reward_nets.NormalizedRewardNet(base, networks.RunningNorm)
    assert net.predict(*_batch(3)).tolist() == [1.0, 1.0, 1.0]
    assert net.predict_processed(*_batch(3)).shape == (3,)


@pytest.mark.parametrize("num_members", [2, 4])
def test_make_ensemble(num_members):
    ensemble = make_ensemble(OBS, ACTS, num_members=num_members, hid_sizes=(8,))
    assert isinstance(ensemble, reward_nets.RewardEnsemble)
    assert ensemble.num_members == num_members
    assert all(isinstance(m, reward_nets.BasicRewardNet) for m in ensemble.members)
    first = next(ensemble.members[0].parameters())
    assert first.shape[0] == 8  # kwargs reach every member.
    mean, var = ensemble.predict_reward_moments(*_batch(5))
    assert mean.shape == var.shape == (5,)
    with pytest.raises(ValueError, match="at least two"):
        make_ensemble(OBS, ACTS, num_members=1)


@pytest.fixture
def loader_args(expert_cache):
    return {
        "cache_dir": expert_cache,
        "batch_size": 50,
        "env_name": "seals/CartPole-v0",
        "num_trajectories": 1,
    }


def test_expert_transition_loader_kinds(loader_args):
    rng = np.random.default_rng(0)
    transitions = expert_trajectories.make_expert_transition_loader(
        expert_data_type="transitions", rng=rng, **loader_args
    )
    assert isinstance(transitions, types.Transitions)
    assert len(transitions) == 500  # One fixed-horizon episode.

    loader = expert_trajectories.make_expert_transition_loader(
        expert_data_type="data_loader", rng=rng, **loader_args
    )
    assert isinstance(loader, th_data.DataLoader)
    batches = list(loader)
    assert len(batches) == 10 and all(len(b["obs"]) == 50 for b in batches)

    ducktyped = expert_trajectories.make_expert_transition_loader(
        expert_data_type="ducktyped_data_loader", rng=rng, **loader_args
    )
    assert not isinstance(ducktyped, th_data.DataLoader)
    first, second = list(ducktyped), list(ducktyped)  # Re-iterable, reshuffled.
    assert len(first) == len(second) == 10
    assert not th.equal(first[0]["obs"], second[0]["obs"])
    all_obs = th.cat([b["obs"] for b in first])
    assert sorted(all_obs[:, 0].tolist()) == sorted(transitions.obs[:, 0].tolist())


@pytest.mark.parametrize("kind", ["data_loader", "ducktyped_data_loader"])
def test_expert_transition_loader_without_shuffle(loader_args, kind):
    rng = np.random.default_rng(0)
    transitions = expert_trajectories.make_expert_transition_loader(
        expert_data_type="transitions", rng=rng, **loader_args
    )
    loader = expert_trajectories.make_expert_transition_loader(
        expert_data_type=kind, rng=rng, shuffle=False, **loader_args
    )
    assert isinstance(loader, th_data.DataLoader) == (kind == "data_loader")
    for _ in range(2):  # the same order on every pass
        obs = th.cat([batch["obs"] for batch in loader])
        np.testing.assert_allclose(obs.numpy(), transitions.obs)


def test_expert_transition_loader_feeds_bc(loader_args):
    rng = np.random.default_rng(1)
    for kind in ("data_loader", "ducktyped_data_loader", "transitions"):
        demos = expert_trajectories.make_expert_transition_loader(
            expert_data_type=kind, rng=rng, **loader_args
        )
        trainer = bc.BC(
            observation_space=OBS_CARTPOLE,
            action_space=ACTS,
            rng=rng,
            demonstrations=demos,
            batch_size=50,
        )
        trainer.train(n_batches=2, progress_bar=False)


def test_expert_transition_loader_errors(loader_args):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="expert_data_type='csv'"):
        expert_trajectories.make_expert_transition_loader(
            expert_data_type="csv", rng=rng, **loader_args
        )
    with pytest.raises(ValueError, match="fewer than batch_size=1000"):
        expert_trajectories.make_expert_transition_loader(
            expert_data_type="data_loader",
            rng=rng,
            **{**loader_args, "batch_size": 1000},
        )
