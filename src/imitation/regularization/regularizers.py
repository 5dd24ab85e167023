"""Regularisers for network training, with adaptive strength.

A regulariser wraps one optimisation step: :meth:`Regularizer.regularize_and_backward`
adds its penalty to the loss (loss regularisers) or back-propagates and then
changes the weights (weight regularisers). :meth:`Regularizer.update_params` adapts the
strength ``lambda_`` from training and validation losses through a
``LambdaUpdater``. Algorithms take a *factory* (``Regularizer.create(...)``)
because the optimiser they regularise is built inside them.

``Regularizer`` is generic in what ``regularize_and_backward`` returns:
``Regularizer[Scalar]`` for the two kinds here; a subclass returning something
else declares it, e.g. ``class MyRegularizer(Regularizer[None])``.
"""

from __future__ import annotations

import abc
import numbers
from typing import Any, Generic, Protocol, TypeVar

import torch as th

from imitation.regularization.updaters import LambdaUpdater, LossType
from imitation.util import logger as imit_logger

Scalar = th.Tensor | float
"""A loss value: a scalar tensor or a float."""

R = TypeVar("R")
"""What ``regularize_and_backward`` returns."""

Self = TypeVar("Self", bound="Regularizer")
"""The type of the class that ``Regularizer.create`` is called on."""

T_Regularizer_co = TypeVar("T_Regularizer_co", covariant=True)
"""The regulariser type that a :class:`RegularizerFactory` builds."""


class RegularizerFactory(Protocol[T_Regularizer_co]):
    """Builds a regulariser for an optimiser: ``factory(optimizer=..., logger=...)``.

    ``Regularizer.create`` returns one; subscript it with the regulariser it
    builds, e.g. ``RegularizerFactory[LpRegularizer]``.
    """

    def __call__(
        self,
        *,
        optimizer: th.optim.Optimizer,
        logger: imit_logger.HierarchicalLogger,
    ) -> T_Regularizer_co:
        """Build the regulariser for ``optimizer``, logging to ``logger``."""
        ...


class Regularizer(abc.ABC, Generic[R]):
    """Base class of regularisers: strength, its updates, and logging."""

    def __init__(
        self,
        optimizer: th.optim.Optimizer,
        initial_lambda: float,
        lambda_updater: LambdaUpdater | None,
        logger: imit_logger.HierarchicalLogger,
        val_split: float | None = None,
    ) -> None:
        """Make the regulariser.

        Args:
            optimizer: The optimiser of the regularised parameters.
            initial_lambda: Starting strength.
            lambda_updater: Rule adapting lambda; None keeps it constant.
            logger: Where ``regularization_lambda`` is logged.
            val_split: Fraction of data the trainer holds out for validation
                (needed by an updater; ignored otherwise).

        Raises:
            ValueError: If ``val_split`` is not a float strictly between 0 and 1,
                or an updater is given without a validation split.
        """
        if val_split is not None and not (
            isinstance(val_split, numbers.Real)
            and not isinstance(val_split, bool)
            and 0 < val_split < 1
        ):
            raise ValueError(
                f"val_split={val_split!r} must be a float strictly between 0 and 1 "
                "(the fraction of data held out for validation), or None.",
            )
        if lambda_updater is not None and val_split is None:
            raise ValueError(
                "A lambda_updater needs val_split to get validation losses."
            )
        self.optimizer = optimizer
        self.lambda_ = initial_lambda
        self.lambda_updater = lambda_updater
        self.logger = logger
        self.val_split = val_split
        self.logger.record("regularization_lambda", self.lambda_)

    @classmethod
    def create(
        cls: type[Self],
        initial_lambda: float,
        lambda_updater: LambdaUpdater | None = None,
        val_split: float | None = None,
        **kwargs: Any,
    ) -> RegularizerFactory[Self]:
        """A factory that builds this regulariser for a given optimiser and logger."""

        def factory(
            *,
            optimizer: th.optim.Optimizer,
            logger: imit_logger.HierarchicalLogger,
        ) -> Self:
            return cls(
                optimizer=optimizer,
                initial_lambda=initial_lambda,
                lambda_updater=lambda_updater,
                logger=logger,
                val_split=val_split,
                **kwargs,
            )

        return factory

    @abc.abstractmethod
    def regularize_and_backward(self, loss: th.Tensor) -> R:
        """Regularise, back-propagate; return the (regularised) loss for logging."""

    def update_params(self, train_loss: LossType, val_loss: LossType) -> None:
        """Adapt ``lambda_`` from the latest training and validation losses.

        Args:
            train_loss: The training loss (a float or a scalar tensor).
            val_loss: The validation loss (a float or a scalar tensor).
        """
        if self.lambda_updater is not None:
            self.lambda_ = self.lambda_updater(self.lambda_, train_loss, val_loss)
        self.logger.record("regularization_lambda", self.lambda_)

    def _params(self) -> list[th.Tensor]:
        return [p for group in self.optimizer.param_groups for p in group["params"]]


class LossRegularizer(Regularizer[Scalar]):
    """Adds a penalty to the loss before back-propagation.

    Subclasses implement :meth:`_loss_penalty`, which returns the penalty
    *already scaled* by the strength ``self.lambda_``; the base adds it to the
    loss as it is (the contract of the original library, so subclasses written
    for it regularise by the same amount here).
    """

    @abc.abstractmethod
    def _loss_penalty(self, loss: th.Tensor) -> Scalar:
        """The penalty to add to ``loss``, scaled by ``self.lambda_``.

        Args:
            loss: The unregularised loss.

        Returns:
            The scaled penalty, differentiable with respect to the parameters.
        """

    def regularize_and_backward(self, loss: th.Tensor) -> th.Tensor:
        """Back-propagate ``loss + _loss_penalty(loss)`` and return it.

        Args:
            loss: The unregularised loss.

        Returns:
            The regularised loss (also logged as ``regularized_loss``).
        """
        regularized = loss + self._loss_penalty(loss)
        regularized.backward()
        self.logger.record("regularized_loss", regularized.item())
        return regularized


class WeightRegularizer(Regularizer[Scalar]):
    """Back-propagates the loss, then changes the weights directly.

    Subclasses implement :meth:`_weight_penalty`, which returns the amount
    *added* to each weight (the contract of the original library): a penalty of
    ``-lambda_ * weight`` shrinks the weight by the factor ``1 - lambda_``, and
    one of ``lambda_ * weight`` grows it by ``1 + lambda_``. The gradients are
    those of the loss at the weights before the change.
    """

    @abc.abstractmethod
    def _weight_penalty(self, weight: th.Tensor, group: dict[str, Any]) -> Scalar:
        """The amount added to ``weight``, a parameter of the optimiser ``group``.

        Args:
            weight: The parameter (its gradient is already computed).
            group: The optimiser's parameter group holding it (e.g. its ``lr``).

        Returns:
            The change, broadcastable to ``weight``'s shape.
        """

    def regularize_and_backward(self, loss: th.Tensor) -> float:
        """Back-propagate ``loss``, then add the weight penalty to every weight.

        Args:
            loss: The loss.

        Returns:
            The loss as a float (the weight change does not alter it).
        """
        loss.backward()
        with th.no_grad():
            for group in self.optimizer.param_groups:
                for param in group["params"]:
                    param.add_(self._weight_penalty(param, group))
        return float(loss.item())


class LpRegularizer(LossRegularizer):
    """Penalise the p-th power of the p-norm of the parameters (``p=2``: L2)."""

    def __init__(
        self,
        optimizer: th.optim.Optimizer,
        initial_lambda: float,
        lambda_updater: LambdaUpdater | None,
        logger: imit_logger.HierarchicalLogger,
        p: int,
        val_split: float | None = None,
    ) -> None:
        """Make the regulariser.

        Args:
            optimizer: The optimiser of the regularised parameters.
            initial_lambda: Starting strength.
            lambda_updater: Rule adapting lambda; None keeps it constant.
            logger: Where ``regularization_lambda`` is logged.
            p: The norm's order, a positive int (``2``: L2).
            val_split: Fraction of data held out for validation.

        Raises:
            ValueError: If ``p`` is not a positive int, or as the base class.
        """
        if not isinstance(p, numbers.Integral) or isinstance(p, bool) or p < 1:
            raise ValueError(
                f"p={p!r} must be a positive int (the order of the norm, e.g. 2).",
            )
        super().__init__(optimizer, initial_lambda, lambda_updater, logger, val_split)
        self.p: int = p

    def _loss_penalty(self, loss: th.Tensor) -> Scalar:
        """``lambda_`` times the sum over parameters of ``||param||_p ** p``."""
        del loss
        penalty = sum(
            th.linalg.vector_norm(param, ord=self.p).pow(self.p)
            for param in self._params()
        )
        return self.lambda_ * penalty


class WeightDecayRegularizer(WeightRegularizer):
    """Decoupled weight decay: ``w -= lambda_ * lr * w`` after back-propagation."""

    def _weight_penalty(self, weight: th.Tensor, group: dict[str, Any]) -> Scalar:
        """``-lambda_ * lr * weight``: shrinks the weight towards zero."""
        return -self.lambda_ * group["lr"] * weight.data
