"""Reward nets and the reward wrapper on ``Dict`` observation spaces."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.data import types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.rewards import persistence, reward_nets, serialize
from imitation.rewards.reward_wrapper import RewardVecEnvWrapper
from imitation.testing.envs import DictObsWrapper, dict_obs_from_flat
from imitation.util import networks
from imitation.util.util import make_vec_env

BOX2 = gym.spaces.Box(-5, 5, shape=(2,), dtype=np.float32)
# Keys deliberately out of sorted order: nets concatenate them sorted.
DICT = gym.spaces.Dict({"vel": BOX2, "pos": BOX2})
FLAT = gym.spaces.Box(-5, 5, shape=(4,), dtype=np.float32)
ACT = gym.spaces.Discrete(2)
IMAGE = gym.spaces.Box(0, 255, shape=(8, 8, 3), dtype=np.uint8)
MIXED = gym.spaces.Dict(
    {
        "img": IMAGE,
        "img2": gym.spaces.Box(0, 255, shape=(8, 8, 1), dtype=np.uint8),
        "vec": BOX2,
        "mode": gym.spaces.Discrete(3),
    }
)


def _flat_and_dict(n=8, seed=0):
    rng = np.random.default_rng(seed)
    flat = rng.standard_normal((n, 4)).astype(np.float32)
    # Sorted keys: "pos" is the first two features, "vel" the last two.
    as_dict = {"vel": flat[:, 2:], "pos": flat[:, :2]}
    return flat, as_dict


def _batch(space, n=5, seed=0):
    space.seed(seed)
    ACT.seed(seed)
    obs = types.DictObs.stack([space.sample() for _ in range(n)])
    next_obs = types.DictObs.stack([space.sample() for _ in range(n)])
    acts = np.stack([ACT.sample() for _ in range(n)])
    return obs, acts, next_obs, np.zeros(n, dtype=bool)


NET_PAIRS = {
    "basic": lambda s: reward_nets.BasicRewardNet(
        s, ACT, use_next_state=True, use_done=True
    ),
    "basic_norm": lambda s: reward_nets.BasicRewardNet(
        s, ACT, normalize_input_layer=networks.RunningNorm
    ),
    "shaped": lambda s: reward_nets.BasicShapedRewardNet(
        s, ACT, normalize_input_layer=networks.RunningNorm
    ),
    "normalized": lambda s: reward_nets.NormalizedRewardNet(
        reward_nets.BasicRewardNet(s, ACT), networks.RunningNorm
    ),
    "ensemble_std": lambda s: reward_nets.AddSTDRewardWrapper(
        reward_nets.RewardEnsemble(
            s, ACT, [reward_nets.BasicRewardNet(s, ACT) for _ in range(3)]
        ),
        default_alpha=-0.5,
    ),
}


@pytest.mark.parametrize("name", sorted(NET_PAIRS))
def test_dict_net_equals_flat_net_on_sorted_concatenation(name):
    th.manual_seed(0)
    dict_net = NET_PAIRS[name](DICT)
    th.manual_seed(0)
    flat_net = NET_PAIRS[name](FLAT)
    flat, as_dict = _flat_and_dict()
    acts, dones = np.array([0, 1] * 4), np.zeros(8, dtype=bool)
    for method in ("predict", "predict_processed"):
        for obs in (as_dict, types.DictObs(as_dict)):
            # Called in lockstep: predict_processed may update statistics.
            expected = getattr(flat_net, method)(flat, acts, flat, dones)
            got = getattr(dict_net, method)(obs, acts, obs, dones)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_forward_is_differentiable_and_training_updates_per_key_norms():
    net = reward_nets.BasicRewardNet(
        DICT, ACT, normalize_input_layer=networks.RunningNorm
    )
    flat, as_dict = _flat_and_dict(n=64)
    acts, dones = np.zeros(64, dtype=np.int64), np.zeros(64, dtype=bool)
    state, action, next_state, done = net.preprocess(as_dict, acts, as_dict, dones)
    assert isinstance(state, dict) and set(state) == {"pos", "vel"}
    rew = net(state, action, next_state, done)
    rew.sum().backward()
    assert all(p.grad is not None for p in net.mlp.parameters())
    # Input normalisation is per feature, so per key: each key's features
    # get that key's mean, in sorted key order ("pos" then "vel").
    norm = net.mlp.normalize_input
    np.testing.assert_allclose(
        norm.running_mean[:4].numpy(), flat.mean(0), rtol=1e-5, atol=1e-6
    )


def test_numpy_fast_path_equals_torch_path():
    net = reward_nets.BasicRewardNet(MIXED, ACT, use_next_state=True)
    obs, acts, next_obs, dones = _batch(MIXED)
    fast = net.preprocess(obs, acts, next_obs, dones)
    torch_inputs = [
        {k: th.as_tensor(v) for k, v in obs.items()},
        th.as_tensor(acts),
        {k: th.as_tensor(v) for k, v in next_obs.items()},
        th.as_tensor(dones),
    ]
    slow = net.preprocess(*torch_inputs)
    for a, b in zip(fast, slow):
        if isinstance(a, dict):
            assert set(a) == set(b)
            for key in a:
                assert a[key].dtype == b[key].dtype == th.float32
                th.testing.assert_close(a[key], b[key])
        else:
            th.testing.assert_close(a.float(), b.float())
    # SB3 semantics per key: images scaled, Discrete one-hot, Box float.
    assert fast[0]["img"].max() <= 1.0
    assert fast[0]["mode"].shape == (5, 3)
    assert fast[0]["mode"].sum(1).eq(1).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: reward_nets.BasicRewardNet(MIXED, ACT),
        lambda: reward_nets.CnnRewardNet(
            MIXED, ACT, hid_channels=(4,), use_next_state=True, use_done=True
        ),
        lambda: reward_nets.ShapedRewardNet(
            reward_nets.CnnRewardNet(MIXED, ACT, hid_channels=(4,)),
            reward_nets.BasicPotentialCNN(MIXED, hid_sizes=(4,)),
            discount_factor=0.9,
        ),
        lambda: reward_nets.CnnRewardNet(
            gym.spaces.Dict({"img": IMAGE}), ACT, hid_channels=(4,)
        ),
        lambda: reward_nets.BasicShapedRewardNet(
            DICT, ACT, normalize_input_layer=networks.RunningNorm
        ),
        lambda: reward_nets.NormalizedRewardNet(
            reward_nets.BasicRewardNet(DICT, ACT), networks.RunningNorm
        ),
        lambda: reward_nets.AddSTDRewardWrapper(
            reward_nets.RewardEnsemble(
                DICT, ACT, [reward_nets.BasicRewardNet(DICT, ACT) for _ in range(2)]
            )
        ),
    ],
)
def test_dict_nets_predict_and_round_trip_through_save(make, tmp_path):
    net = make()
    space = net.observation_space
    obs, acts, next_obs, dones = _batch(space, n=6)
    # A training step, so that normalisers hold non-trivial statistics.
    with networks.training(net):
        net(*net.preprocess(obs, acts, next_obs, dones))
    # Saved before predict_processed, which may update output statistics.
    th.save(net, tmp_path / "net.pt")
    rew = net.predict_processed(obs, acts, next_obs, dones)
    assert rew.shape == (6,) and np.isfinite(rew).all()
    loaded = serialize.load_reward_net(tmp_path / "net.pt")
    assert type(loaded) is type(net)
    assert loaded.observation_space == space
    assert isinstance(loaded.observation_space, gym.spaces.Dict)
    np.testing.assert_allclose(
        loaded.predict_processed(obs, acts, next_obs, dones), rew, rtol=1e-6
    )


def test_dict_space_survives_description():
    described = persistence.describe(reward_nets.BasicRewardNet(MIXED, ACT))
    rebuilt = persistence.construct(described)
    assert rebuilt.observation_space == MIXED


def test_cnn_rejects_dicts_it_cannot_stack():
    with pytest.raises(ValueError, match="at least one image key"):
        reward_nets.CnnRewardNet(DICT, ACT)
    uneven = gym.spaces.Dict(
        {
            "a": IMAGE,
            "b": gym.spaces.Box(0, 255, shape=(4, 4, 3), dtype=np.uint8),
        }
    )
    with pytest.raises(ValueError, match="same height and width"):
        reward_nets.CnnRewardNet(uneven, ACT)
    with pytest.raises(ValueError, match="same height and width"):
        reward_nets.BasicPotentialCNN(uneven, hid_sizes=(4,))


def test_bad_dict_inputs_name_the_key():
    net = reward_nets.BasicRewardNet(DICT, ACT)
    _, as_dict = _flat_and_dict()
    acts, dones = np.zeros(8, dtype=np.int64), np.zeros(8, dtype=bool)
    with pytest.raises(ValueError, match=r"missing: \['vel'\]"):
        net.predict({"pos": as_dict["pos"]}, acts, as_dict, dones)
    extra = {**as_dict, "spin": as_dict["pos"]}
    with pytest.raises(ValueError, match=r"unexpected: \['spin'\]"):
        net.predict(as_dict, acts, extra, dones)
    wrong = {"pos": as_dict["pos"], "vel": np.zeros((8, 3), dtype=np.float32)}
    with pytest.raises(ValueError, match=r"next_state\['vel'\].*\(3,\)"):
        net.predict(as_dict, acts, wrong, dones)
    short = {"pos": as_dict["pos"], "vel": as_dict["vel"][:5]}
    with pytest.raises(ValueError, match="different batch lengths"):
        net.predict(short, acts, as_dict, dones)
    with pytest.raises(ValueError, match="Batch lengths differ"):
        net.predict(as_dict, acts[:5], as_dict, dones)
    with pytest.raises(ValueError, match="dict of arrays"):
        net.predict(np.zeros((8, 4), np.float32), acts, as_dict, dones)
    flat_net = reward_nets.BasicRewardNet(FLAT, ACT)
    with pytest.raises(ValueError, match="not a Dict space"):
        flat_net.predict(as_dict, acts, as_dict, dones)


@pytest.fixture
def dict_venv():
    venv = make_vec_env(
        "seals:seals/CartPole-v0",
        rng=np.random.default_rng(0),
        n_envs=3,
        post_wrappers=[lambda env, _: RolloutInfoWrapper(DictObsWrapper(env))],
    )
    yield venv
    venv.close()


def test_reward_wrapper_per_step_and_deferred_agree_on_dict_obs(dict_venv):
    net = reward_nets.BasicRewardNet(dict_venv.observation_space, ACT)
    seen = []

    def reward_fn(obs, acts, next_obs, dones):
        seen.append((obs, acts, next_obs, dones))
        return net.predict(obs, acts, next_obs, dones)

    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, size=(30, 3))

    def run(defer):
        wrapped = RewardVecEnvWrapper(dict_venv, reward_fn)
        wrapped.seed(0)
        wrapped.reset()
        wrapped.defer_rewards(defer)
        rews = np.stack([wrapped.step(a)[1] for a in actions])
        return wrapped.compute_deferred_rewards() if defer else rews

    per_step = run(False)
    assert isinstance(seen[0][0], dict) and set(seen[0][0]) == {"pos", "vel"}
    deferred = run(True)
    assert np.abs(per_step).sum() > 0
    np.testing.assert_allclose(deferred, per_step, rtol=1e-5, atol=1e-6)


def test_dict_obs_from_flat_matches_wrapper():
    venv = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    venv.seed(0)
    flat = venv.reset()
    wrapped = DummyVecEnv([lambda: DictObsWrapper(gym.make("CartPole-v1"))])
    wrapped.seed(0)
    as_dict = wrapped.reset()
    for key, value in dict_obs_from_flat(flat).items():
        np.testing.assert_array_equal(as_dict[key], value)
