"""Tests for imitation.rewards.reward_nets and their persistence."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from imitation.rewards import persistence, reward_nets, serialize
from imitation.util import networks

BOX = gym.spaces.Box(-1, 1, shape=(3,), dtype=np.float32)
DISCRETE = gym.spaces.Discrete(4)
IMAGE = gym.spaces.Box(0, 255, shape=(8, 8, 3), dtype=np.uint8)


def _batch(obs_space, act_space, n=5, seed=0):
    obs_space.seed(seed)
    act_space.seed(seed)
    obs = np.stack([obs_space.sample() for _ in range(n)])
    acts = np.stack([act_space.sample() for _ in range(n)])
    next_obs = np.stack([obs_space.sample() for _ in range(n)])
    return obs, acts, next_obs, np.zeros(n, dtype=bool)


NETS = {
    "basic_box": lambda: reward_nets.BasicRewardNet(BOX, BOX),
    "basic_discrete": lambda: reward_nets.BasicRewardNet(
        DISCRETE, DISCRETE, use_next_state=True, use_done=True
    ),
    "cnn": lambda: reward_nets.CnnRewardNet(IMAGE, DISCRETE, hid_channels=(4,)),
    "cnn_chw_done": lambda: reward_nets.CnnRewardNet(
        gym.spaces.Box(0, 255, shape=(3, 8, 8), dtype=np.uint8),
        DISCRETE,
        use_next_state=True,
        use_done=True,
        hwc_format=False,
        hid_channels=(4,),
    ),
    "shaped": lambda: reward_nets.BasicShapedRewardNet(
        BOX, BOX, normalize_input_layer=networks.RunningNorm
    ),
    "shaped_cnn": lambda: reward_nets.ShapedRewardNet(
        reward_nets.CnnRewardNet(IMAGE, DISCRETE, hid_channels=(4,)),
        reward_nets.BasicPotentialCNN(IMAGE, hid_sizes=(4,)),
        discount_factor=0.9,
    ),
    "normalized": lambda: reward_nets.NormalizedRewardNet(
        reward_nets.BasicRewardNet(BOX, BOX), networks.RunningNorm
    ),
    "ensemble": lambda: reward_nets.RewardEnsemble(
        BOX, BOX, [reward_nets.BasicRewardNet(BOX, BOX) for _ in range(3)]
    ),
    "std_added": lambda: reward_nets.AddSTDRewardWrapper(
        reward_nets.RewardEnsemble(
            BOX, BOX, [reward_nets.BasicRewardNet(BOX, BOX) for _ in range(2)]
        ),
        default_alpha=-1.0,
    ),
}


@pytest.mark.parametrize("name", NETS)
def test_output_shapes_and_gradients(name):
    net = NETS[name]()
    batch = _batch(net.observation_space, net.action_space)
    for method in (net.predict, net.predict_processed):
        out = method(*batch)
        assert isinstance(out, np.ndarray) and out.shape == (5,)
    rew_th = net.predict_th(*batch)
    assert not rew_th.requires_grad
    if not isinstance(
        net, reward_nets.RewardEnsemble | reward_nets.AddSTDRewardWrapper
    ):
        inputs = net.preprocess(*batch)
        out = net(*inputs)
        assert out.shape == (5,) and out.requires_grad
        out.sum().backward()
        assert any(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("name", NETS)
def test_save_load_round_trip(name, tmp_path):
    net = NETS[name]()
    batch = _batch(net.observation_space, net.action_space)
    net.predict_processed(*batch)  # update any running statistics
    path = tmp_path / "net.pt"
    th.save(net, path)
    loaded = serialize.load_reward_net(path)
    assert type(loaded) is type(net)
    np.testing.assert_allclose(loaded.predict(*batch), net.predict(*batch), rtol=1e-6)
    for (k1, v1), (k2, v2) in zip(
        net.state_dict().items(), loaded.state_dict().items()
    ):
        assert k1 == k2 and th.equal(v1, v2)
    clone = copy.deepcopy(net)
    np.testing.assert_allclose(clone.predict(*batch), net.predict(*batch), rtol=1e-6)


def test_custom_subclass_from_the_spec(tmp_path):
    class MyRewardNet(reward_nets.RewardNet):
        def __init__(self, observation_space, action_space):
            super().__init__(observation_space, action_space)

        def forward(self, state, action, next_state, done):
            return th.zeros_like(done)

    net = MyRewardNet(BOX, BOX)
    assert net.predict(*_batch(BOX, BOX)).tolist() == [0.0] * 5


def test_unsavable_potential_gets_clear_error(tmp_path):
    net = reward_nets.ShapedRewardNet(
        reward_nets.BasicRewardNet(BOX, BOX), lambda s: s.sum(-1), 0.9
    )
    with pytest.raises(persistence.UnsavableModuleError, match="potential"):
        th.save(net, tmp_path / "x.pt")


def test_shaping_formula():
    base = reward_nets.BasicRewardNet(BOX, BOX)
    potential = reward_nets.BasicPotentialMLP(BOX, hid_sizes=(4,))
    shaped = reward_nets.ShapedRewardNet(base, potential, discount_factor=0.5)
    s, a, ns, _ = (th.as_tensor(x) for x in _batch(BOX, BOX))
    done = th.tensor([0.0, 1.0, 0.0, 1.0, 0.0])
    with th.no_grad():
        expected = (
            base(s, a, ns, done) + 0.5 * (1 - done) * potential(ns) - potential(s)
        )
        th.testing.assert_close(shaped(s, a, ns, done), expected)


def test_normalized_stats_update_only_when_asked():
    net = reward_nets.NormalizedRewardNet(
        reward_nets.BasicRewardNet(BOX, BOX), networks.RunningNorm
    )
    batch = _batch(BOX, BOX, n=64)
    net.predict_processed(*batch, update_stats=False)
    assert net.normalize_output_layer.count.item() == 0
    net.predict_processed(*batch)
    assert net.normalize_output_layer.count.item() == 64
    normalized = net.predict_processed(*batch, update_stats=False)
    assert abs(normalized.mean()) < 1e-4 and abs(normalized.std() - 1) < 0.05


def test_ensemble_moments():
    ens = NETS["ensemble"]()
    batch = _batch(BOX, BOX)
    mean, var = ens.predict_reward_moments(*batch)
    members = np.stack([m.predict(*batch) for m in ens.members], -1)
    np.testing.assert_allclose(mean, members.mean(-1), rtol=1e-5)
    np.testing.assert_allclose(var, members.var(-1, ddof=1), rtol=1e-4)
    conservative = reward_nets.AddSTDRewardWrapper(ens, default_alpha=-2.0)
    np.testing.assert_allclose(
        conservative.predict_processed(*batch), mean - 2 * np.sqrt(var), rtol=1e-5
    )
    with pytest.raises(ValueError, match="two members"):
        reward_nets.RewardEnsemble(BOX, BOX, [reward_nets.BasicRewardNet(BOX, BOX)])


def test_bad_inputs():
    net = reward_nets.BasicRewardNet(BOX, BOX)
    obs, acts, next_obs, dones = _batch(BOX, BOX)
    with pytest.raises(ValueError, match="observation space"):
        net.predict(np.zeros((5, 4), np.float32), acts, next_obs, dones)
    with pytest.raises(ValueError, match="5 entries"):
        net.predict(obs[:3], acts, next_obs, dones)
    with pytest.raises(ValueError, match="image"):
        reward_nets.CnnRewardNet(BOX, DISCRETE)
    with pytest.raises(ValueError, match="at least one"):
        reward_nets.BasicRewardNet(BOX, BOX, use_state=False, use_action=False)


def test_cnn_transpose_and_image_scaling():
    x = th.zeros(2, 8, 6, 3)
    assert reward_nets.cnn_transpose(x).shape == (2, 3, 8, 6)
    with pytest.raises(ValueError):
        reward_nets.cnn_transpose(th.zeros(8, 6, 3))
    net = NETS["cnn"]()
    state, *_ = net.preprocess(*_batch(IMAGE, DISCRETE))
    assert state.max() <= 1.0 and state.dtype == th.float32


def test_foreign_pickle_is_refused(tmp_path):
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    th.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError):
        th.load(tmp_path / "evil.pt", weights_only=True)


@pytest.mark.parametrize(
    "space",
    [
        BOX,
        IMAGE,
        DISCRETE,
        gym.spaces.MultiDiscrete([3, 2]),
        gym.spaces.MultiBinary(4),
    ],
)
def test_preprocess_equals_sb3(space):
    from stable_baselines3.common.preprocessing import preprocess_obs

    net = reward_nets.BasicRewardNet(space, DISCRETE)
    space.seed(0)
    batch = th.as_tensor(np.stack([space.sample() for _ in range(6)]))
    want = preprocess_obs(batch, space, normalize_images=True)
    got = net._preprocessor(space)(batch)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert th.equal(got, want)
    for invalid in ([0, 4], [-1, 0]):  # out of range: an error, as in one_hot
        with pytest.raises((RuntimeError, IndexError)):
            net._preprocessor(DISCRETE)(th.tensor(invalid))


@pytest.mark.parametrize("obs_space", [BOX, IMAGE, DISCRETE])
@pytest.mark.parametrize("obs_dtype", [None, np.float64])
def test_preprocess_numpy_path_equals_torch_path(obs_space, obs_dtype):
    """Numpy inputs take a numpy path on CPU; it gives the torch path's tensors."""
    net = reward_nets.BasicRewardNet(obs_space, DISCRETE)
    obs_space.seed(0)
    DISCRETE.seed(0)
    obs = np.stack([obs_space.sample() for _ in range(6)])
    if obs_dtype is not None and not isinstance(obs_space, gym.spaces.Discrete):
        obs = obs.astype(obs_dtype)
    acts = np.array([DISCRETE.sample() for _ in range(6)])
    next_obs = obs[::-1].copy()
    next_obs.flags.writeable = False  # read-only input (copied, not shared)
    dones = np.array([False] * 5 + [True])
    fast = net.preprocess(obs, acts, next_obs, dones)
    slow = net.preprocess(*(th.tensor(x) for x in (obs, acts, next_obs, dones)))
    for got, want in zip(fast, slow):
        assert got.dtype == want.dtype and th.equal(got, want)
    assert np.allclose(
        net.predict(obs, acts, next_obs, dones),
        net.predict_th(*(th.tensor(x) for x in (obs, acts, next_obs, dones))),
    )
    for invalid in ([0, 0, 0, 0, 0, 4], [0, 0, 0, -1, 0, 0]):
        with pytest.raises(ValueError, match=r"outside \[0, 4\)"):
            net.preprocess(obs, np.array(invalid), next_obs, dones)
