"""Rules that adapt a regularisation strength between training rounds."""

from __future__ import annotations

from typing import Protocol


class LambdaUpdater(Protocol):
    """``(lambda_, train_loss, val_loss) -> new lambda_``."""

    def __call__(self, lambda_: float, train_loss: float, val_loss: float) -> float:
        """Return the updated regularisation strength."""


class ConstantParamScaler:
    """Keep the regularisation strength fixed."""

    def __call__(self, lambda_: float, train_loss: float, val_loss: float) -> float:
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

    def __call__(self, lambda_: float, train_loss: float, val_loss: float) -> float:
        """The scaled lambda.

        Raises:
            ValueError: If ``lambda_`` is not positive (it could never grow) or
                a loss is negative.
        """
        if lambda_ <= 0:
            raise ValueError(f"lambda_={lambda_} must be positive to be scaled.")
        if train_loss < 0 or val_loss < 0:
            raise ValueError("Losses must be non-negative.")
        if train_loss == 0:
            return lambda_ * (1 + self.scaling_factor) if val_loss > 0 else lambda_
        ratio = val_loss / train_loss
        low, high = self.tolerable_interval
        if ratio > high:
            return lambda_ * (1 + self.scaling_factor)
        if ratio < low:
            return lambda_ * (1 - self.scaling_factor)
        return lambda_
