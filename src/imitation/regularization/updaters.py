"""Rules that adapt a regularisation strength between training rounds."""

from __future__ import annotations

from typing import Protocol, TypeVar

import torch as th

LossType = TypeVar("LossType", bound=th.Tensor | float)
"""A loss: a float or a scalar tensor."""


def _as_float(name: str, loss: th.Tensor | float) -> float:
    """A loss as a float (a scalar tensor is detached and read).

    Raises:
        ValueError: If ``loss`` is a tensor with more than one element.
    """
    if isinstance(loss, th.Tensor):
        if loss.numel() != 1:
            raise ValueError(
                f"{name} must be a scalar, got a tensor of shape {tuple(loss.shape)}."
            )
        return float(loss.detach().item())
    return float(loss)


class LambdaUpdater(Protocol):
    """``(lambda_, train_loss, val_loss) -> new lambda_``."""

    def __call__(
        self, lambda_: float, train_loss: LossType, val_loss: LossType
    ) -> float:
        """Return the updated regularisation strength."""


class ConstantParamScaler:
    """Keep the regularisation strength fixed."""

    def __call__(
        self, lambda_: float, train_loss: LossType, val_loss: LossType
    ) -> float:
        """Return ``lambda_`` unchanged."""
        del train_loss, val_loss
        return lambda_


class IntervalParamScaler:
    """Scale lambda to keep the validation/training loss ratio in an interval.

    A ratio above the interval's upper bound (overfitting) raises lambda by the
    factor ``1 + scaling_factor``; one below the lower bound lowers it by
    ``1 - scaling_factor``.
    """

    def __init__(
        self, scaling_factor: float, tolerable_interval: tuple[float, float]
    ) -> None:
        """Make the scaler.

        Raises:
            ValueError: If ``scaling_factor`` is outside (0, 1) or the interval
                is not ``0 <= low < high``.
        """
        if not 0 < scaling_factor < 1:
            raise ValueError(f"scaling_factor={scaling_factor} must be in (0, 1).")
        low, high = tolerable_interval
        if not 0 <= low < high:
            raise ValueError(
                f"tolerable_interval={tolerable_interval} needs 0 <= low < high."
            )
        self.scaling_factor = scaling_factor
        self.tolerable_interval = (low, high)

    def __call__(
        self, lambda_: float, train_loss: LossType, val_loss: LossType
    ) -> float:
        """The scaled lambda.

        Args:
            lambda_: The current strength.
            train_loss: The training loss (a float or a scalar tensor).
            val_loss: The validation loss (a float or a scalar tensor).

        Returns:
            The new strength.

        Raises:
            ValueError: If ``lambda_`` is not positive (it could never grow), a
                loss is negative, or a tensor loss is not a scalar.
        """
        train = _as_float("train_loss", train_loss)
        val = _as_float("val_loss", val_loss)
        if lambda_ <= 0:
            raise ValueError(f"lambda_={lambda_} must be positive to be scaled.")
        if train < 0 or val < 0:
            raise ValueError("Losses must be non-negative.")
        if train == 0:
            return lambda_ * (1 + self.scaling_factor) if val > 0 else lambda_
        ratio = val / train
        low, high = self.tolerable_interval
        if ratio > high:
            return lambda_ * (1 + self.scaling_factor)
        if ratio < low:
            return lambda_ * (1 - self.scaling_factor)
        return lambda_
