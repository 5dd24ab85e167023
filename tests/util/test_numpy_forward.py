import gymnasium as gym
import numpy as np
import pytest
import torch as th
from torch import nn

from imitation.rewards.reward_nets import BasicRewardNet
from imitation.util import networks
from imitation.util.numpy_forward import numpy_forward

BOX = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
DICT = gym.spaces.Dict(
    {"pos": gym.spaces.Box(-1.0, 1.0, shape=(2, 2)), "mode": gym.spaces.Discrete(3)}
)


def _torch_eval(module: nn.Module, x: np.ndarray) -> np.ndarray:
    with networks.predicting(module):
        return module(th.from_numpy(x)).numpy()


def _trained_norm_mlp(**kwargs) -> nn.Module:
    mlp = networks.build_mlp(
        in_size=6,
        hid_sizes=(16, 8),
        normalize_input_layer=networks.RunningNorm,
        **kwargs,
    )
    mlp.train()
    mlp(th.randn(50, 6) * 3 + 1)  # running statistics away from (0, 1)
    return mlp


@pytest.mark.parametrize(
    "make",
    [
        lambda: networks.build_mlp(in_size=6, hid_sizes=(32, 32), squeeze_output=True),
        lambda: networks.build_mlp(in_size=6, hid_sizes=(8,), activation=nn.Tanh),
        lambda: networks.build_mlp(in_size=6, hid_sizes=(8,), activation=nn.Sigmoid),
        lambda: networks.build_mlp(
            in_size=6, hid_sizes=(8,), activation=lambda: nn.LeakyReLU(0.2)
        ),
        lambda: networks.build_mlp(in_size=6, hid_sizes=(), flatten_input=True),
        _trained_norm_mlp,
        lambda: nn.Linear(6, 3, bias=False),
    ],
)
def test_equals_torch_in_eval_mode(make):
    th.manual_seed(0)
    module = make()
    x = np.random.default_rng(0).normal(size=(9, 6)).astype(np.float32)
    out = numpy_forward(module, x)
    assert out is not None and out.dtype == np.float32
    np.testing.assert_allclose(out, _torch_eval(module, x), rtol=1e-5, atol=1e-6)


def test_follows_in_place_updates_and_replaced_storage():
    th.manual_seed(0)
    mlp = networks.build_mlp(in_size=6, hid_sizes=(8,))
    x = np.ones((2, 6), np.float32)
    before = numpy_forward(mlp, x)
    opt = th.optim.SGD(mlp.parameters(), lr=0.5)
    mlp(th.from_numpy(x)).sum().backward()
    opt.step()  # in place
    after_step = numpy_forward(mlp, x)
    assert not np.allclose(before, after_step)
    np.testing.assert_allclose(after_step, _torch_eval(mlp, x), rtol=1e-5, atol=1e-6)
    mlp.dense_final.weight.data = th.zeros_like(mlp.dense_final.weight)  # new storage
    np.testing.assert_allclose(
        numpy_forward(mlp, x), _torch_eval(mlp, x), rtol=1e-5, atol=1e-6
    )
    mlp.dense_final = nn.Linear(8, 1)  # a new submodule
    np.testing.assert_allclose(
        numpy_forward(mlp, x), _torch_eval(mlp, x), rtol=1e-5, atol=1e-6
    )


def test_follows_replaced_parameters_buffers_and_layers():
    """Edits that keep every old tensor's storage are seen on the module itself."""
    th.manual_seed(0)
    mlp = _trained_norm_mlp()
    x = np.ones((2, 6), np.float32)

    def check():
        out = numpy_forward(mlp, x)
        assert out is not None
        np.testing.assert_allclose(out, _torch_eval(mlp, x), rtol=1e-5, atol=1e-6)

    check()
    layer = mlp.dense_final
    layer.weight = nn.Parameter(th.randn_like(layer.weight))  # a new parameter
    check()
    layer.bias = None  # a parameter removed
    check()
    norm = mlp.normalize_input
    norm.running_mean = th.full_like(norm.running_mean, 5.0)  # a new buffer
    check()
    mlp.append(nn.Tanh())  # a layer added
    check()
    del mlp[-1]  # and removed
    check()


def test_refuses_what_it_cannot_mirror():
    x = np.ones((2, 6), np.float32)
    assert (
        numpy_forward(
            networks.build_mlp(in_size=6, hid_sizes=(8,), dropout_prob=0.5), x
        )
        is None
    )
    assert (
        numpy_forward(networks.build_mlp(in_size=6, hid_sizes=(8,)).double(), x) is None
    )
    assert (
        numpy_forward(
            networks.build_mlp(in_size=6, hid_sizes=(8,)), x.astype(np.float64)
        )
        is None
    )
    hooked = networks.build_mlp(in_size=6, hid_sizes=(8,))
    handle = hooked.dense0.register_forward_hook(lambda *args: None)
    assert numpy_forward(hooked, x) is None
    handle.remove()
    assert numpy_forward(hooked, x) is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"use_next_state": True, "use_done": True},
        {"use_state": False, "use_action": True, "use_next_state": True},
    ],
)
@pytest.mark.parametrize("obs_space", [BOX, DICT])
def test_reward_net_predict_equals_torch_route(kwargs, obs_space):
    th.manual_seed(0)
    act_space = gym.spaces.Discrete(3)
    net = BasicRewardNet(obs_space, act_space, **kwargs)
    rng = np.random.default_rng(0)
    obs_space.seed(0)
    obs = [obs_space.sample() for _ in range(7)]
    if isinstance(obs_space, gym.spaces.Dict):
        state = {k: np.stack([o[k] for o in obs]) for k in obs_space.spaces}
    else:
        state = np.stack(obs)
    acts = rng.integers(0, 3, size=7)
    dones = rng.random(7) < 0.3
    fast = net.predict(state, acts, state, dones)
    torch_route = net.predict_th(state, acts, state, dones).numpy()
    np.testing.assert_allclose(fast, torch_route, rtol=1e-5, atol=1e-6)
    net.train()  # predict is in eval mode either way
    np.testing.assert_allclose(
        net.predict(state, acts, state, dones), fast, rtol=1e-6, atol=1e-7
    )


def test_reward_net_overrides_and_hooks_take_the_torch_route():
    class Doubled(BasicRewardNet):
        def forward(self, *args):
            return 2 * super().forward(*args)

    th.manual_seed(0)
    net = Doubled(BOX, BOX)
    batch = (np.ones((3, 4), np.float32),) * 3 + (np.zeros(3, bool),)
    np.testing.assert_allclose(
        net.predict(*batch), net.predict_th(*batch).numpy(), rtol=1e-6
    )
    calls = []
    plain = BasicRewardNet(BOX, BOX)
    plain.register_forward_hook(lambda *args: calls.append(1))
    plain.predict(*batch)
    assert calls == [1]


def test_reward_net_predict_still_checks_inputs():
    net = BasicRewardNet(BOX, gym.spaces.Discrete(2))
    obs = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="per-sample shape"):
        net.predict(np.zeros((3, 5), np.float32), np.zeros(3, int), obs, np.zeros(3))
    with pytest.raises(ValueError, match="outside"):
        net.predict(obs, np.array([0, 1, 2]), obs, np.zeros(3))
