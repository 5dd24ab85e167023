"""Tests for imitation.regularization."""

from __future__ import annotations

import pytest
import torch as th

from imitation.regularization import regularizers, updaters
from imitation.util import logger


def _setup(initial):
    param = th.nn.Parameter(th.tensor([3.0, 4.0]))
    opt = th.optim.SGD([param], lr=0.1)
    return param, opt


def test_interval_param_scaler():
    scaler = updaters.IntervalParamScaler(0.5, (1.1, 1.5))
    assert scaler(1.0, train_loss=1.0, val_loss=2.0) == 1.5  # overfitting: more
    assert scaler(1.0, train_loss=1.0, val_loss=1.0) == 0.5  # underfitting: less
    assert scaler(1.0, train_loss=1.0, val_loss=1.3) == 1.0
    with pytest.raises(ValueError):
        updaters.IntervalParamScaler(1.5, (1.0, 2.0))
    with pytest.raises(ValueError):
        updaters.IntervalParamScaler(0.5, (2.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        scaler(0.0, 1.0, 1.0)
    assert updaters.ConstantParamScaler()(0.3, 1.0, 5.0) == 0.3


def test_lp_regularizer_adds_penalty():
    param, opt = _setup(0.1)
    factory = regularizers.LpRegularizer.create(initial_lambda=0.1, p=2)
    reg = factory(optimizer=opt, logger=logger.configure(format_strs=[]))
    loss = (param * 0).sum()
    total = reg.regularize_and_backward(loss)
    assert total.item() == pytest.approx(0.1 * 25.0)
    th.testing.assert_close(param.grad, 0.1 * 2 * param.detach())


def test_weight_decay_regularizer_shrinks_weights():
    param, opt = _setup(0.1)
    reg = regularizers.WeightDecayRegularizer(
        opt,
        initial_lambda=0.5,
        lambda_updater=None,
        logger=logger.configure(format_strs=[]),
    )
    reg.regularize_and_backward((param * 0).sum())
    th.testing.assert_close(param.detach(), th.tensor([3.0, 4.0]) * (1 - 0.5 * 0.1))


def test_lambda_updates_and_validation():
    _, opt = _setup(0.1)
    log = logger.configure(format_strs=[])
    with pytest.raises(ValueError, match="val_split"):
        regularizers.LpRegularizer(
            opt, 1.0, updaters.IntervalParamScaler(0.5, (1, 2)), log, p=2
        )
    reg = regularizers.LpRegularizer(
        opt, 1.0, updaters.IntervalParamScaler(0.5, (1.1, 1.5)), log, p=1, val_split=0.2
    )
    reg.update_params(train_loss=1.0, val_loss=3.0)
    assert reg.lambda_ == 1.5
    with pytest.raises(ValueError, match="p="):
        regularizers.LpRegularizer(opt, 1.0, None, log, p=0)


def test_interval_param_scaler_accepts_tensor_losses():
    scaler = updaters.IntervalParamScaler(0.5, (1.1, 1.5))
    new = scaler(1.0, train_loss=th.tensor(1.0), val_loss=th.tensor([2.0]))
    assert new == 1.5 and type(new) is float
    with pytest.raises(ValueError, match="scalar"):
        scaler(1.0, train_loss=th.ones(2), val_loss=1.0)


def test_update_params_with_tensor_losses():
    _, opt = _setup(0.1)
    reg = regularizers.LpRegularizer(
        opt,
        1.0,
        updaters.IntervalParamScaler(0.5, (1.1, 1.5)),
        logger.configure(format_strs=[]),
        p=2,
        val_split=0.2,
    )
    reg.update_params(th.tensor(1.0, requires_grad=True), th.tensor(1.0))
    assert reg.lambda_ == 0.5


class _CountingRegularizer(regularizers.Regularizer[int]):
    """A user subclass fixing the generic return type: counts its calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def regularize_and_backward(self, loss: th.Tensor) -> int:
        loss.backward()
        self.calls += 1
        return self.calls


def test_regularizer_is_generic_in_its_result():
    param, opt = _setup(0.1)
    factory: regularizers.RegularizerFactory[_CountingRegularizer] = (
        _CountingRegularizer.create(initial_lambda=0.0)
    )
    reg = factory(optimizer=opt, logger=logger.configure(format_strs=[]))
    assert isinstance(reg, _CountingRegularizer)
    assert reg.regularize_and_backward(param.sum()) == 1
    assert reg.regularize_and_backward(param.sum()) == 2
    th.testing.assert_close(param.grad, th.full((2,), 2.0))


def test_regularizer_type_parameters():
    assert (
        regularizers.LossRegularizer.__orig_bases__[0]
        == (regularizers.Regularizer[regularizers.Scalar])
    )
    assert (
        regularizers.WeightRegularizer.__orig_bases__[0]
        == (regularizers.Regularizer[regularizers.Scalar])
    )
    assert regularizers.Scalar == th.Tensor | float
    assert regularizers.T_Regularizer_co.__covariant__
    assert regularizers.Self.__bound__.__forward_arg__ == "Regularizer"
    assert updaters.LossType.__bound__ == th.Tensor | float


class _HalfLossRegularizer(regularizers.LossRegularizer):
    """A subclass written to the original's contract: the penalty is pre-scaled."""

    def _loss_penalty(self, loss):
        return self.lambda_ * loss


def test_loss_penalty_is_added_as_returned():
    param, opt = _setup(0.1)
    reg = _HalfLossRegularizer(opt, 0.5, None, logger.configure(format_strs=[]))
    total = reg.regularize_and_backward((param * 2).sum())
    # 14 + 0.5 * 14, not 14 + 0.5 * 0.5 * 14.
    assert total.item() == pytest.approx(21.0)
    th.testing.assert_close(param.grad, th.full((2,), 3.0))


class _GrowingWeightRegularizer(regularizers.WeightRegularizer):
    """A subclass written to the original's contract: the penalty is added."""

    def _weight_penalty(self, weight, group):
        del group
        return weight * self.lambda_


def test_weight_penalty_is_added_after_the_gradient():
    param, opt = _setup(0.1)
    reg = _GrowingWeightRegularizer(opt, 0.5, None, logger.configure(format_strs=[]))
    reg.regularize_and_backward((param**2).sum())
    th.testing.assert_close(param.detach(), th.tensor([3.0, 4.0]) * 1.5)
    # The gradient is the one at the weights before the change.
    th.testing.assert_close(param.grad, th.tensor([6.0, 8.0]))


@pytest.mark.parametrize("val_split", ["0.2", [0.2], 0.0, 1.0, 1.5, True])
def test_bad_val_split_names_the_argument(val_split):
    _, opt = _setup(0.1)
    log = logger.configure(format_strs=[])
    with pytest.raises(ValueError, match="val_split=.*float strictly between 0"):
        regularizers.LpRegularizer(opt, 1.0, None, log, p=2, val_split=val_split)


@pytest.mark.parametrize("p", ["2", 2.0, 0, -1, None, True])
def test_bad_p_names_the_argument(p):
    _, opt = _setup(0.1)
    log = logger.configure(format_strs=[])
    with pytest.raises(ValueError, match="p=.*positive int"):
        regularizers.LpRegularizer(opt, 1.0, None, log, p=p)
