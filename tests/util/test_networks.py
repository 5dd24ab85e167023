"""Tests for imitation.util.networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from torch import nn

from imitation.util import networks

NORMS = [networks.RunningNorm, networks.EMANorm]


def test_training_mode_sets_and_restores():
    m = nn.Linear(2, 2)
    for initially in (True, False):
        m.train(initially)
        for mode in (True, False):
            with networks.training_mode(m, mode) as inside:
                assert inside is m and m.training is mode
            assert m.training is initially
    m.eval()
    with networks.training(m):
        assert m.training
    assert not m.training
    m.train()
    with networks.evaluating(m):
        assert not m.training
    assert m.training


def test_training_mode_restores_on_exception():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    m.eval()
    with pytest.raises(RuntimeError), networks.training(m):
        raise RuntimeError
    assert not m.training and not m[1].training


def test_training_mode_restores_each_submodules_own_mode():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.Sequential(nn.Dropout()))
    m.train()
    m[1].eval()
    before = [sub.training for sub in m.modules()]
    for context in (networks.evaluating, networks.training):
        with context(m):
            expected = context is networks.training
            assert all(sub.training is expected for sub in m.modules())
        assert [sub.training for sub in m.modules()] == before


def test_predicting_is_eval_without_gradients_and_restores():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    m.train()
    m[1].eval()
    with networks.predicting(m) as inside:
        assert inside is m and not th.is_grad_enabled()
        assert not any(sub.training for sub in m.modules())
        assert not m(th.ones(1, 2)).requires_grad
    assert th.is_grad_enabled() and m.training and not m[1].training
    with th.no_grad(), pytest.raises(RuntimeError), networks.predicting(m):
        raise RuntimeError
    assert th.is_grad_enabled() and m.training and not m[1].training
    with th.no_grad():
        with networks.predicting(m):
            pass
        assert not th.is_grad_enabled()  # the caller's setting is restored


def test_training_mode_defaults_to_eval():
    m = nn.Linear(1, 1)
    with networks.training_mode(m):
        assert not m.training


def test_squeeze_layer():
    assert networks.SqueezeLayer()(th.zeros(4, 1)).shape == (4,)
    assert networks.SqueezeLayer()(th.zeros(2, 3, 1)).shape == (2, 3)
    for bad in (th.zeros(2, 3), th.tensor(1.0)):
        with pytest.raises(ValueError, match="last dimension of size 1"):
            networks.SqueezeLayer()(bad)


def test_base_norm_is_abstract():
    with pytest.raises(TypeError):
        networks.BaseNorm(3)  # type: ignore[abstract]


@pytest.mark.parametrize("norm_cls", NORMS)
def test_norm_initial_state_is_identity(norm_cls):
    norm = norm_cls(3).eval()
    assert th.equal(norm.running_mean, th.zeros(3))
    assert th.equal(norm.running_var, th.ones(3))
    assert norm.count.item() == 0
    x = th.randn(5, 3)
    th.testing.assert_close(norm(x), x / np.sqrt(1 + norm.eps))


def test_running_norm_matches_numpy_over_batches():
    norm = networks.RunningNorm(3)
    rng = np.random.default_rng(0)
    batches = [
        rng.normal([2.0, -5.0, 0.0], [3.0, 0.5, 10.0], size=(n, 3)).astype(np.float32)
        for n in (1, 5, 0, 17, 40)
    ]
    for batch in batches:
        norm(th.as_tensor(batch))
    data = np.concatenate(batches)
    np.testing.assert_allclose(norm.running_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.numpy(), data.var(0), rtol=1e-4)
    assert norm.count.item() == len(data)


def test_running_norm_normalises_training_batch():
    norm = networks.RunningNorm(2, eps=0.0)
    x = th.tensor([[1.0, 10.0], [3.0, 30.0]])
    out = norm(x)
    th.testing.assert_close(out, th.tensor([[-1.0, -1.0], [1.0, 1.0]]))


def test_running_norm_treats_leading_dims_as_samples():
    norm = networks.RunningNorm(2)
    x = th.arange(12.0).reshape(3, 2, 2)
    assert norm(x).shape == (3, 2, 2)
    flat = x.reshape(-1, 2)
    th.testing.assert_close(norm.running_mean, flat.mean(0))
    assert norm.count.item() == 6


def test_single_feature_norm_accepts_batches_of_scalars():
    norm = networks.RunningNorm(1)
    out = norm(th.tensor([1.0, 2.0, 3.0, 4.0]))
    assert out.shape == (4,)
    th.testing.assert_close(norm.running_mean, th.tensor([2.5]))
    th.testing.assert_close(norm.running_var, th.tensor([1.25]))


@pytest.mark.parametrize("norm_cls", NORMS)
def test_norm_rejects_wrong_feature_count(norm_cls):
    norm = norm_cls(3)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        norm(th.zeros(4, 2))
    assert norm.count.item() == 0


@pytest.mark.parametrize("norm_cls", NORMS)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"num_features": 0}, "num_features"), ({"num_features": 2, "eps": -1}, "eps")],
)
def test_norm_rejects_bad_arguments(norm_cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        norm_cls(**kwargs)


@pytest.mark.parametrize("norm_cls", NORMS)
def test_norm_updates_only_in_training_mode(norm_cls):
    norm = norm_cls(2)
    norm(th.tensor([[0.0, 1.0], [2.0, 5.0]]))
    state = {k: v.clone() for k, v in norm.state_dict().items()}
    with networks.evaluating(norm):
        out = norm(th.full((3, 2), 100.0))
    for key, value in norm.state_dict().items():
        assert th.equal(value, state[key]), key
    expected = (100.0 - state["running_mean"]) / th.sqrt(state["running_var"] + 1e-5)
    th.testing.assert_close(out, expected.expand(3, 2))


@pytest.mark.parametrize("norm_cls", NORMS)
def test_norm_reset_and_state_dict(norm_cls):
    norm = norm_cls(2)
    norm(th.randn(10, 2) * 3 + 1)
    copy = norm_cls(2)
    copy.load_state_dict(norm.state_dict())
    assert copy.count.item() == 10
    th.testing.assert_close(copy.running_mean, norm.running_mean)
    norm.reset_running_stats()
    assert th.equal(norm.running_mean, th.zeros(2))
    assert th.equal(norm.running_var, th.ones(2))
    assert norm.count.item() == 0


@pytest.mark.parametrize("norm_cls", NORMS)
def test_norm_passes_gradients_but_stats_do_not(norm_cls):
    norm = norm_cls(2)
    x = th.randn(6, 2, requires_grad=True)
    norm(x).sum().backward()
    assert x.grad is not None
    assert not norm.running_mean.requires_grad
    assert list(norm.parameters()) == []


def test_ema_norm_first_batch_sets_stats_then_decays():
    norm = networks.EMANorm(1, decay=0.75)
    assert norm.inv_learning_rate == 1.0  # the first batch sets the stats
    norm(th.tensor([[0.0], [2.0]]))  # mean 1, var 1
    assert norm.inv_learning_rate == pytest.approx(4.0)
    th.testing.assert_close(norm.running_mean, th.tensor([1.0]))
    th.testing.assert_close(norm.running_var, th.tensor([1.0]))
    norm(th.tensor([[5.0], [5.0]]))  # mean 5, var 0
    # mean: 1 + 0.25 * (5 - 1) = 2
    # var: 0.75 * (1 + 0.25 * 16) + 0.25 * 0 = 3.75
    th.testing.assert_close(norm.running_mean, th.tensor([2.0]))
    th.testing.assert_close(norm.running_var, th.tensor([3.75]))
    assert norm.count.item() == 4
    assert norm.inv_learning_rate == pytest.approx(4.0)
    norm.reset_running_stats()
    assert norm.inv_learning_rate == 1.0


def test_ema_norm_tracks_a_shifted_distribution():
    norm = networks.EMANorm(1, decay=0.5)
    gen = th.Generator().manual_seed(0)
    norm(th.randn(200, 1, generator=gen))
    for _ in range(30):
        norm(th.randn(200, 1, generator=gen) * 2 + 10)
    assert abs(norm.running_mean.item() - 10) < 0.5
    assert abs(norm.running_var.item() - 4) < 1.5


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5])
def test_ema_norm_rejects_bad_decay(decay):
    with pytest.raises(ValueError, match="decay"):
        networks.EMANorm(2, decay=decay)


def test_build_mlp_shapes_and_layers():
    mlp = networks.build_mlp(4, [8, 16], 3, name="net")
    assert mlp(th.zeros(5, 4)).shape == (5, 3)
    names = [name for name, _ in mlp.named_children()]
    assert names == [
        "net_dense0",
        "net_act0",
        "net_dense1",
        "net_act1",
        "net_dense_final",
    ]
    linears = [m for m in mlp.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (4, 8),
        (8, 16),
        (16, 3),
    ]


def test_build_mlp_without_hidden_layers_is_linear():
    mlp = networks.build_mlp(4, [], 2)
    assert [type(m) for m in mlp.children()] == [nn.Linear]
    assert mlp(th.zeros(1, 4)).shape == (1, 2)


def test_build_mlp_options():
    mlp = networks.build_mlp(
        6,
        (5,),
        activation=nn.Tanh,
        dropout_prob=0.5,
        squeeze_output=True,
        flatten_input=True,
        normalize_input_layer=networks.RunningNorm,
    )
    kinds = [type(m) for m in mlp.children()]
    assert kinds == [
        nn.Flatten,
        networks.RunningNorm,
        nn.Linear,
        nn.Tanh,
        nn.Dropout,
        nn.Linear,
        networks.SqueezeLayer,
    ]
    assert mlp(th.randn(7, 2, 3)).shape == (7,)
    assert mlp[1].count.item() == 7
    with networks.evaluating(mlp):
        x = th.randn(3, 2, 3)
        th.testing.assert_close(mlp(x), mlp(x))  # no dropout noise in eval


def test_build_mlp_rejects_squeeze_with_wide_output():
    with pytest.raises(ValueError, match="out_size == 1"):
        networks.build_mlp(4, [8], 2, squeeze_output=True)


def test_build_cnn_shapes_and_layers():
    cnn = networks.build_cnn(3, [4, 6], 2, name="c", dropout_prob=0.1)
    for size in (8, 13):
        assert cnn(th.zeros(2, 3, size, size)).shape == (2, 2)
    names = [name for name, _ in cnn.named_children()]
    assert names == [
        "c_conv0",
        "c_act0",
        "c_dropout0",
        "c_conv1",
        "c_act1",
        "c_dropout1",
        "c_pool",
        "c_flatten",
        "c_dense_final",
    ]


def test_build_cnn_stride_and_squeeze():
    cnn = networks.build_cnn(
        1, [4], kernel_size=2, stride=2, padding=0, squeeze_output=True
    )
    conv = cnn[0]
    assert conv.stride == (2, 2) and conv.kernel_size == (2, 2)
    assert cnn(th.zeros(5, 1, 6, 6)).shape == (5,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hid_channels": []}, "at least one"),
        ({"hid_channels": [4], "out_size": 2, "squeeze_output": True}, "out_size"),
        ({"hid_channels": [4], "stride": 2}, "stride"),
    ],
)
def test_build_cnn_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        networks.build_cnn(3, **kwargs)


def test_build_mlp_trains():
    th.manual_seed(0)
    mlp = networks.build_mlp(2, [16], squeeze_output=True)
    x = th.randn(64, 2)
    y = x[:, 0] - 2 * x[:, 1]
    opt = th.optim.Adam(mlp.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        loss = ((mlp(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
