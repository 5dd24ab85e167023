"""Losses and trainers that fit the reward net to gathered preferences."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import torch as th

from imitation.algorithms.preference_comparisons.preference_model import (
    PreferenceModel,
    TrajectoryPair,
)
from imitation.algorithms.preference_comparisons.preferences import PreferenceDataset
from imitation.regularization import regularizers
from imitation.util import logger as imit_logger
from imitation.util import networks, util


@dataclasses.dataclass(frozen=True)
class LossAndMetrics:
    """A loss to minimise and metrics to log."""

    loss: th.Tensor
    metrics: Mapping[str, th.Tensor]


class RewardLoss(abc.ABC):
    """A loss for a preference model on fragment pairs with known preferences."""

    @abc.abstractmethod
    def __call__(
        self,
        fragment_pairs: Sequence[TrajectoryPair],
        preferences: np.ndarray,
        preference_model: PreferenceModel,
        sample_weights: th.Tensor | None = None,
    ) -> LossAndMetrics:
        """The loss of ``preference_model`` on the comparisons.

        Args:
            fragment_pairs: The pairs.
            preferences: One preference in [0, 1] per pair.
            preference_model: The model to evaluate (differentiably).
            sample_weights: Optional weight per pair (shape ``(n_pairs,)``),
                or per pair and ensemble member (``(n_pairs, num_members)``).

        Returns:
            The loss (a scalar tensor) and metrics.
        """


def _cross_entropy(
    preference_model: PreferenceModel, logits: th.Tensor, prefs: th.Tensor
) -> th.Tensor:
    log_p1, log_p2 = preference_model.log_probs(logits)
    return -(prefs * log_p1 + (1 - prefs) * log_p2)


class CrossEntropyRewardLoss(RewardLoss):
    """Cross-entropy between the model's and the given preference probabilities.

    For an ensemble, each member's mean loss is computed separately and the
    losses are summed, so each member is trained as if it were alone.
    Metrics: ``loss`` (mean per member), ``accuracy`` (share of pairs whose
    preferred fragment the model ranks higher; a tied preference counts as
    half right), and ``gt_reward_loss`` (the loss of the true reward, when
    the fragments carry rewards).
    """

    def __call__(
        self,
        fragment_pairs: Sequence[TrajectoryPair],
        preferences: np.ndarray,
        preference_model: PreferenceModel,
        sample_weights: th.Tensor | None = None,
    ) -> LossAndMetrics:
        """Cross-entropy loss and metrics (see the class docstring)."""
        logits = preference_model.logits(preference_model.returns(fragment_pairs))
        prefs = th.as_tensor(preferences, dtype=logits.dtype, device=logits.device)
        member_prefs = prefs[:, None] if logits.ndim == 2 else prefs
        per_pair = _cross_entropy(preference_model, logits, member_prefs)
        if sample_weights is None:
            member_losses = per_pair.mean(dim=0)
        else:
            weights = sample_weights.to(per_pair)
            if weights.ndim < per_pair.ndim:
                weights = weights[:, None]
            member_losses = (per_pair * weights).sum(0) / weights.sum(0).clamp_min(1e-8)
        metrics: dict[str, th.Tensor] = {}
        with th.no_grad():
            metrics["loss"] = member_losses.mean()
            predicted_first = (logits > 0).to(prefs.dtype)
            right = 1 - (predicted_first - (member_prefs > 0.5).to(prefs.dtype)).abs()
            right = th.where(member_prefs == 0.5, th.full_like(right, 0.5), right)
            metrics["accuracy"] = right.mean()
            true_logits = preference_model.true_logits(fragment_pairs)
            if true_logits is not None:
                gt = _cross_entropy(preference_model, true_logits.to(prefs), prefs)
                metrics["gt_reward_loss"] = gt.mean()
        return LossAndMetrics(loss=member_losses.sum(), metrics=metrics)


class RewardTrainer(imit_logger.LoggingComponent, abc.ABC):
    """Fits a preference model's reward net to a :class:`PreferenceDataset`."""

    def __init__(
        self,
        preference_model: PreferenceModel,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Set up the trainer.

        Args:
            preference_model: The model whose reward net is trained.
            custom_logger: Where to log to; if None, a new logger is created.
        """
        self._preference_model = preference_model
        self._logger = custom_logger or imit_logger.configure()

    @property
    def preference_model(self) -> PreferenceModel:
        """The preference model trained."""
        return self._preference_model

    def train(
        self, dataset: PreferenceDataset, epoch_multiplier: float = 1.0
    ) -> Mapping[str, float]:
        """Train the reward net on ``dataset`` (in training mode).

        Args:
            dataset: The comparisons.
            epoch_multiplier: Train for this many times the usual epochs.

        Returns:
            The metrics of the last epoch (``loss``, ``accuracy``, ...).

        Raises:
            ValueError: If ``dataset`` is empty or ``epoch_multiplier`` is not
                positive.
        """
        if len(dataset) == 0:
            raise ValueError("The preference dataset is empty: push comparisons first.")
        if not epoch_multiplier > 0:
            raise ValueError(f"epoch_multiplier={epoch_multiplier} must be positive.")
        with networks.training(self._preference_model):
            return self._train(dataset, epoch_multiplier)

    @abc.abstractmethod
    def _train(
        self, dataset: PreferenceDataset, epoch_multiplier: float
    ) -> Mapping[str, float]:
        """Train; see :meth:`train`."""


class BasicRewardTrainer(RewardTrainer):
    """Minibatch training with Adam on a :class:`RewardLoss`.

    Each epoch goes through the comparisons in a new random order, in batches
    of ``batch_size``; each batch is one optimiser step, its gradient
    accumulated over minibatches of ``minibatch_size`` to bound memory.

    Logged: the metrics of each epoch averaged into ``train/<metric>`` (and
    ``val/<metric>`` when a regulariser holds out a validation split), one
    row per metric however many epochs run until the logger's next dump; the
    last epoch's metrics under ``final/``.
    """

    _logger_shared_with = ("regularizer",)

    def __init__(
        self,
        preference_model: PreferenceModel,
        loss: RewardLoss,
        rng: np.random.Generator,
        batch_size: int = 32,
        minibatch_size: int | None = None,
        epochs: int = 1,
        lr: float = 1e-3,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        regularizer_factory: regularizers.RegularizerFactory | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        """Set up the trainer.

        Args:
            preference_model: The model whose reward net is trained.
            loss: The loss.
            rng: Shuffles the comparisons (and draws validation splits).
            batch_size: Comparisons per optimiser step.
            minibatch_size: Comparisons per forward pass (default:
                ``batch_size``); gradients are accumulated over a batch.
            epochs: Passes over the data per call of ``train`` (times its
                ``epoch_multiplier``).
            lr: Adam's learning rate.
            custom_logger: Where to log to; if None, a new logger is created.
            regularizer_factory: Builds a regulariser for the optimiser
                (``Regularizer.create(...)``); its ``val_split`` holds out
                comparisons for validation.
            weight_decay: Decoupled weight decay (AdamW): each optimiser step
                first shrinks every weight by ``lr * weight_decay`` of itself.
                It keeps the learned reward flat where the comparisons do not
                tell states apart, instead of varying arbitrarily there (which
                an agent trained on the reward would exploit).

        Raises:
            ValueError: If a size, ``epochs`` or ``lr`` is not positive,
                ``minibatch_size`` exceeds ``batch_size``, or ``weight_decay``
                is negative.
        """
        super().__init__(preference_model, custom_logger=custom_logger)
        for name, value in (("batch_size", batch_size), ("epochs", epochs)):
            if value < 1:
                raise ValueError(f"{name}={value} must be positive.")
        minibatch_size = batch_size if minibatch_size is None else minibatch_size
        if not 1 <= minibatch_size <= batch_size:
            raise ValueError(
                f"minibatch_size={minibatch_size} must be in [1, batch_size="
                f"{batch_size}].",
            )
        if not lr > 0:
            raise ValueError(f"lr={lr} must be positive.")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay={weight_decay} must not be negative.")
        self.loss = loss
        self.rng = util.check_rng(rng)
        self.batch_size = batch_size
        self.minibatch_size = minibatch_size
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        # AdamW without weight decay takes exactly Adam's steps.
        self.optim = th.optim.AdamW(
            preference_model.parameters(), lr=lr, weight_decay=weight_decay
        )
        self.regularizer = (
            regularizer_factory(optimizer=self.optim, logger=self.logger)
            if regularizer_factory is not None
            else None
        )

    def _sample_weights(self, n: int) -> np.ndarray | None:
        """Weights of the ``n`` training comparisons for one ``train`` call."""
        del n
        return None

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        order = self.rng.permutation(n)
        val_split = self.regularizer.val_split if self.regularizer else None
        if not val_split:
            return order, order[:0]
        n_val = int(round(n * val_split))
        if n_val < 1 or n_val >= n:
            raise ValueError(
                f"val_split={val_split} of {n} comparisons leaves an empty training "
                "or validation set: gather more comparisons or change val_split.",
            )
        return order[n_val:], order[:n_val]

    def _run(
        self,
        dataset: PreferenceDataset,
        indices: np.ndarray,
        weights: np.ndarray | None,
        update: bool,
    ) -> dict[str, float]:
        """One pass over ``indices`` (training if ``update``); mean metrics."""
        prefs = dataset.preferences
        totals: dict[str, float] = {}
        step = self.batch_size if update else max(self.minibatch_size, 1)
        for start in range(0, len(indices), step):
            batch = indices[start : start + step]
            if update:
                self.optim.zero_grad()
            for mb_start in range(0, len(batch), self.minibatch_size):
                mb = batch[mb_start : mb_start + self.minibatch_size]
                mb_weights = None if weights is None else th.as_tensor(weights[mb])
                with th.set_grad_enabled(update):
                    result = self.loss(
                        dataset.pairs(mb), prefs[mb], self.preference_model, mb_weights
                    )
                if update:
                    scaled = result.loss * (len(mb) / len(batch))
                    last = mb_start + self.minibatch_size >= len(batch)
                    if self.regularizer is not None and last:
                        self.regularizer.regularize_and_backward(scaled)
                    else:
                        scaled.backward()
                for key, value in result.metrics.items():
                    totals[key] = totals.get(key, 0.0) + float(value) * len(mb)
            if update:
                self.optim.step()
        return {key: value / len(indices) for key, value in totals.items()}

    def _train(
        self, dataset: PreferenceDataset, epoch_multiplier: float
    ) -> Mapping[str, float]:
        train_idx, val_idx = self._split(len(dataset))
        weights = self._sample_weights(len(dataset))
        epochs = max(1, int(round(self.epochs * epoch_multiplier)))
        metrics: dict[str, float] = {}
        for _ in range(epochs):
            metrics = self._run(dataset, train_idx, weights, update=True)
            records = {f"train/{k}": v for k, v in metrics.items()}
            if len(val_idx):
                with networks.evaluating(self.preference_model):
                    val = self._run(dataset, val_idx, None, update=False)
                records.update({f"val/{k}": v for k, v in val.items()})
                assert self.regularizer is not None
                self.regularizer.update_params(metrics["loss"], val["loss"])
            for key, value in records.items():
                self.logger.record_mean(key, value)
        for key, value in records.items():
            self.logger.record(f"final/{key}", value)
        return metrics


class EnsembleTrainer(BasicRewardTrainer):
    """Trains every member of a reward ensemble on its own bootstrap resample.

    Each call of ``train`` draws, for each member, a resample (with
    replacement) of the comparisons, applied as per-member weights, so all
    members still share one forward pass per minibatch. The members'
    disagreement then reflects what the data leave uncertain, which is what
    :class:`ActiveSelectionFragmenter` looks for.
    """

    def __init__(
        self,
        preference_model: PreferenceModel,
        loss: RewardLoss,
        rng: np.random.Generator,
        batch_size: int = 32,
        minibatch_size: int | None = None,
        epochs: int = 1,
        lr: float = 1e-3,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        regularizer_factory: regularizers.RegularizerFactory | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        """Set up the trainer; arguments as for :class:`BasicRewardTrainer`.

        Raises:
            TypeError: If the preference model's reward net is not an ensemble.
        """
        if preference_model.ensemble_model is None:
            raise TypeError(
                "EnsembleTrainer needs a PreferenceModel over a RewardEnsemble; "
                "use BasicRewardTrainer for a single reward net.",
            )
        super().__init__(
            preference_model,
            loss,
            rng,
            batch_size=batch_size,
            minibatch_size=minibatch_size,
            epochs=epochs,
            lr=lr,
            custom_logger=custom_logger,
            regularizer_factory=regularizer_factory,
            weight_decay=weight_decay,
        )

    def _sample_weights(self, n: int) -> np.ndarray:
        assert self.preference_model.ensemble_model is not None
        members = self.preference_model.ensemble_model.num_members
        draws = self.rng.integers(0, n, size=(members, n))
        counts = np.stack([np.bincount(d, minlength=n) for d in draws], axis=1)
        return counts.astype(np.float32)
