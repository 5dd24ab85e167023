"""Behavioral Cloning (BC): supervised learning of a policy from expert actions.

Besides :class:`BC`, the module has the parts its training loop is made of,
usable on their own: :class:`BatchIteratorWithEpochEndCallback` (epochs or a
number of batches over a data loader), :func:`enumerate_batches` (batch
counts), :class:`RolloutStatsComputer` (return statistics of the policy) and
:class:`BCLogger` (what BC logs).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import policies, utils, vec_env

from imitation.algorithms import base as algo_base
from imitation.data import rollout, types
from imitation.policies import base as policy_base
from imitation.util import logger as imit_logger
from imitation.util import policy_io, progress, sb3_compat, util
from imitation.util.policy_io import (  # noqa: F401 - public here since the first release
    policy_from_dict,
    reconstruct_policy,
)


@dataclasses.dataclass(frozen=True)
class BCTrainingMetrics:
    """The loss of one batch and its parts."""

    neglogp: th.Tensor
    entropy: th.Tensor | None
    ent_loss: th.Tensor
    prob_true_act: th.Tensor
    l2_norm: th.Tensor
    l2_loss: th.Tensor
    loss: th.Tensor


@dataclasses.dataclass
class BatchIteratorWithEpochEndCallback:
    """Iterate over a data loader for some epochs or some batches.

    An epoch is one pass over ``batch_loader``; ``on_epoch_end(epoch)`` is
    called after each complete pass (``epoch`` counting from 0). With
    ``n_batches``, iteration stops right after the ``n_batches``-th batch, so a
    pass cut short by it does not count as an epoch.
    """

    batch_loader: Iterable[algo_base.TransitionMapping]
    """A re-iterable of batches, e.g. a ``DataLoader``."""

    n_epochs: int | None
    """Number of passes over ``batch_loader``; give this or ``n_batches``."""

    n_batches: int | None
    """Number of batches in total; give this or ``n_epochs``."""

    on_epoch_end: Callable[[int], None] | None
    """Called with the epoch's number after each complete pass."""

    def __post_init__(self) -> None:
        """Check the counts.

        Raises:
            ValueError: If not exactly one of ``n_epochs`` and ``n_batches`` is
                given, or it is not positive.
            TypeError: If it is not an int.
        """
        if (self.n_epochs is None) == (self.n_batches is None):
            raise ValueError("Give exactly one of n_epochs and n_batches.")
        if self.n_epochs is not None:
            self.n_epochs = util.check_positive_int(self.n_epochs, "n_epochs")
        if self.n_batches is not None:
            self.n_batches = util.check_positive_int(self.n_batches, "n_batches")

    def __iter__(self) -> Iterator[algo_base.TransitionMapping]:
        """Yield the batches.

        Raises:
            ValueError: If a pass over ``batch_loader`` yields no batch.
        """
        yielded = 0
        for epoch in itertools.count():
            if self.n_epochs is not None and epoch >= self.n_epochs:
                return
            empty = True
            for batch in self.batch_loader:
                empty = False
                yield batch
                yielded += 1
                if self.n_batches is not None and yielded >= self.n_batches:
                    return
            if empty:
                raise ValueError(
                    f"The data loader yielded no batches in epoch {epoch}: is it "
                    "empty, or an iterator that cannot be iterated again?",
                )
            if self.on_epoch_end is not None:
                self.on_epoch_end(epoch)


def enumerate_batches(
    batch_it: Iterable[algo_base.TransitionMapping],
) -> Iterator[tuple[tuple[int, int, int], algo_base.TransitionMapping]]:
    """Number the batches and count their samples.

    Args:
        batch_it: Batches, each a mapping with an ``obs`` entry (an array or
            tensor, or a mapping of them for dict observations).

    Yields:
        ``((batch_num, batch_size, num_samples_so_far), batch)``: the batch's
        index (from 0), its number of samples, and the number of samples up
        to and including it.
    """
    num_samples_so_far = 0
    for batch_num, batch in enumerate(batch_it):
        obs = batch["obs"]
        if isinstance(obs, Mapping):
            obs = next(iter(obs.values()))
        batch_size = len(obs)
        num_samples_so_far += batch_size
        yield (batch_num, batch_size, num_samples_so_far), batch


@dataclasses.dataclass
class RolloutStatsComputer:
    """Return and length statistics of a policy's episodes in an environment.

    With no environment, or ``n_episodes <= 0``, it computes nothing and
    returns an empty mapping (so rollouts can be switched off).
    """

    venv: vec_env.VecEnv | None
    """The environment to roll out in (spaces as the policy's)."""

    n_episodes: int
    """Number of episodes per computation."""

    def __call__(
        self,
        policy: policies.BasePolicy,
        rng: np.random.Generator,
    ) -> Mapping[str, float]:
        """Roll ``policy`` out (in evaluation mode) and summarise the episodes.

        Args:
            policy: The policy; its training mode is restored afterwards.
            rng: Generator for the rollouts.

        Returns:
            :func:`imitation.data.rollout.rollout_stats` of the episodes, or
            an empty mapping if rollouts are switched off.
        """
        if self.venv is None or self.n_episodes <= 0:
            return {}
        was_training = policy.training
        policy.set_training_mode(False)
        try:
            trajs = rollout.generate_trajectories(
                policy,
                self.venv,
                rollout.make_min_episodes(self.n_episodes),
                rng=rng,
            )
        finally:
            policy.set_training_mode(was_training)
        return rollout.rollout_stats(trajs)


class BCLogger(imit_logger.LoggingComponent):
    """Logs BC's training statistics, one row per logged batch.

    Each :meth:`log_batch` records ``batch_size``, ``bc/epoch`` (the epoch set
    by :meth:`log_epoch`), ``bc/batch``, ``bc/samples_so_far``, every loss term
    as ``bc/<name>`` and every rollout statistic as ``rollout/<name>``, then
    writes them out at the next TensorBoard step. Steps count the logged
    batches and continue across ``BC.train`` calls unless reset.
    """

    def __init__(self, logger: imit_logger.HierarchicalLogger) -> None:
        """Log to ``logger``, starting at TensorBoard step 0 and epoch 0."""
        self.logger = logger
        self._tensorboard_step = 0
        self._current_epoch = 0

    def reset_tensorboard_steps(self) -> None:
        """Start the TensorBoard steps from 0 again."""
        self._tensorboard_step = 0

    def log_epoch(self, epoch_number: int) -> None:
        """Set the epoch recorded with the following batches."""
        self._current_epoch = epoch_number

    def log_batch(
        self,
        batch_num: int,
        batch_size: int,
        num_samples_so_far: int,
        training_metrics: BCTrainingMetrics,
        rollout_stats: Mapping[str, float],
    ) -> None:
        """Record and write out one batch's statistics.

        Args:
            batch_num: The batch's index (from 0).
            batch_size: Its number of samples.
            num_samples_so_far: Samples trained on, this batch included.
            training_metrics: The batch's loss and its parts (an entropy of
                None is left out).
            rollout_stats: Statistics of the policy's rollouts (may be empty).
        """
        self.logger.record("batch_size", batch_size)
        self.logger.record("bc/epoch", self._current_epoch)
        self.logger.record("bc/batch", batch_num)
        self.logger.record("bc/samples_so_far", num_samples_so_far)
        for field in dataclasses.fields(training_metrics):
            value = getattr(training_metrics, field.name)
            if value is not None:
                self.logger.record(f"bc/{field.name}", float(value.item()))
        for key, stat in rollout_stats.items():
            self.logger.record(f"rollout/{key}", stat)
        self.logger.dump(self._tensorboard_step)
        self._tensorboard_step += 1


def _squared_norm(params: Iterable[th.Tensor]) -> th.Tensor:
    return th.stack([p.square().sum() for p in params]).sum()


@dataclasses.dataclass(frozen=True)
class BehaviorCloningLossCalculator:
    """Negative log-likelihood of the expert's actions, with entropy and L2 terms.

    ``loss = neglogp + ent_weight * (-entropy) + l2_weight * l2_norm / 2``.
    """

    ent_weight: float
    l2_weight: float

    def __call__(
        self,
        policy: policies.ActorCriticPolicy,
        obs: th.Tensor | dict[str, th.Tensor],
        acts: th.Tensor,
    ) -> BCTrainingMetrics:
        """Compute the loss of ``policy`` on a batch.

        Args:
            policy: The policy being trained.
            obs: Observations (tensors on the policy's device).
            acts: The expert's actions.

        Returns:
            The loss and its parts.
        """
        # Only the action distribution is needed: skip the value head. The
        # batch comes from validated demonstrations, so torch's per-call
        # argument validation of the distribution is skipped.
        with sb3_compat.no_distribution_validation():
            dist = policy.get_distribution(obs)
            log_prob = dist.log_prob(acts)
            entropy = dist.entropy()
        neglogp = -log_prob.mean()
        ent_loss = (
            -self.ent_weight * entropy.mean()
            if entropy is not None
            else th.zeros((), device=neglogp.device)
        )
        if self.l2_weight > 0:
            l2_norm = _squared_norm(policy.parameters())
            l2_loss = self.l2_weight * l2_norm / 2
        else:
            # Not part of the loss: keep it out of the autograd graph.
            with th.no_grad():
                l2_norm = _squared_norm(policy.parameters())
            l2_loss = th.zeros((), device=neglogp.device)
        return BCTrainingMetrics(
            neglogp=neglogp,
            entropy=entropy.mean() if entropy is not None else None,
            ent_loss=ent_loss,
            prob_true_act=log_prob.detach().exp().mean(),
            l2_norm=l2_norm,
            l2_loss=l2_loss,
            loss=neglogp + ent_loss + l2_loss,
        )


class BC(algo_base.DemonstrationAlgorithm):
    """Behavioral cloning: maximise the likelihood of the expert's actions.

    Pomerleau, "Efficient Training of Artificial Neural Networks for Autonomous
    Navigation" (Neural Computation, 1991),
    https://doi.org/10.1162/neco.1991.3.1.88.
    """

    _logger_shared_with = ("_bc_logger",)

    def __init__(
        self,
        *,
        observation_space: gym.Space,
        action_space: gym.Space,
        rng: np.random.Generator,
        policy: policies.ActorCriticPolicy | None = None,
        demonstrations: algo_base.AnyTransitions | None = None,
        batch_size: int = 32,
        minibatch_size: int | None = None,
        optimizer_cls: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: Mapping[str, Any] | None = None,
        ent_weight: float = 1e-3,
        l2_weight: float = 0.0,
        device: str | th.device = "auto",
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Build BC.

        Args:
            observation_space: The environment's observation space.
            action_space: The environment's action space.
            rng: Generator for shuffling the demonstrations.
            policy: An SB3 policy to train; defaults to ``FeedForward32Policy``
                (``MultiInputFeedForward32Policy`` for a ``Dict`` observation
                space).
            demonstrations: Expert demonstrations (optional; see
                ``set_demonstrations``).
            batch_size: Samples per optimisation step.
            minibatch_size: Samples per gradient computation; gradients are
                accumulated over ``batch_size // minibatch_size`` minibatches.
                Must divide ``batch_size``. Defaults to ``batch_size``.
            optimizer_cls: Optimiser class.
            optimizer_kwargs: Optimiser arguments other than the parameters and
                weight decay (use ``l2_weight`` instead).
            ent_weight: Weight of the entropy bonus.
            l2_weight: Weight of the L2 penalty on the policy's parameters.
            device: Device for the policy.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``weight_decay`` is in ``optimizer_kwargs``, the batch
                size is not a positive multiple of the minibatch size, or the
                policy's spaces differ from the given spaces.
            TypeError: If ``batch_size`` or ``minibatch_size`` is not an int,
                ``rng`` is not a numpy ``Generator``, or the demonstrations
                are none of the accepted forms.
        """
        self._demo_data_loader: Iterable[algo_base.TransitionMapping] | None = None
        self.batch_size = util.check_positive_int(batch_size, "batch_size")
        self.minibatch_size = (
            self.batch_size
            if minibatch_size is None
            else util.check_positive_int(minibatch_size, "minibatch_size")
        )
        if self.batch_size % self.minibatch_size != 0:
            raise ValueError(
                f"batch_size={batch_size} must be a multiple of "
                f"minibatch_size={self.minibatch_size}.",
            )
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if "weight_decay" in optimizer_kwargs:
            raise ValueError(
                "Use the parameter l2_weight instead of weight_decay in "
                "optimizer_kwargs.",
            )
        self.observation_space = observation_space
        self.action_space = action_space
        self.rng = util.check_rng(rng)
        super().__init__(demonstrations=None, custom_logger=custom_logger)
        if policy is None:
            policy_cls = policy_base.feed_forward_32_policy_class(observation_space)
            policy = policy_cls(
                observation_space=observation_space,
                action_space=action_space,
                # The policy's own optimiser is unused: BC builds its own.
                lr_schedule=policy_io.unused_lr_schedule,
            )
        if policy.observation_space != observation_space:
            raise ValueError(
                f"The policy's observation space {policy.observation_space} differs "
                f"from observation_space={observation_space}.",
            )
        if policy.action_space != action_space:
            raise ValueError(
                f"The policy's action space {policy.action_space} differs from "
                f"action_space={action_space}.",
            )
        self._policy = policy.to(utils.get_device(device))
        self.optimizer = optimizer_cls(self._policy.parameters(), **optimizer_kwargs)
        self.loss_calculator = BehaviorCloningLossCalculator(ent_weight, l2_weight)
        self._bc_logger = BCLogger(self.logger)
        if demonstrations is not None:
            self.set_demonstrations(demonstrations)

    @property
    def policy(self) -> policies.ActorCriticPolicy:
        """The policy being trained."""
        return self._policy

    def set_demonstrations(self, demonstrations: algo_base.AnyTransitions) -> None:
        """Set the demonstrations to clone.

        Args:
            demonstrations: In any accepted form (see
                :func:`imitation.algorithms.base.normalize_demonstrations`);
                batches are used as given.

        Raises:
            ValueError: If the demonstrations are empty or do not fit the spaces.
            TypeError: If they are none of the accepted forms.
        """
        demos = algo_base.normalize_demonstrations(
            demonstrations, self.observation_space, self.action_space
        )
        self._demo_data_loader = demos.data_loader(self.minibatch_size, rng=self.rng)

    def train(
        self,
        *,
        n_epochs: int | None = None,
        n_batches: int | None = None,
        on_epoch_end: Callable[[], None] | None = None,
        on_batch_end: Callable[[], None] | None = None,
        log_interval: int = 500,
        log_rollouts_venv: vec_env.VecEnv | None = None,
        log_rollouts_n_episodes: int = 5,
        progress_bar: bool = True,
        reset_tensorboard: bool = False,
    ) -> None:
        """Train for ``n_epochs`` passes over the data or ``n_batches`` batches.

        Args:
            n_epochs: Number of complete passes over the demonstrations.
            n_batches: Number of batches (optimisation steps). Give exactly one
                of ``n_epochs`` and ``n_batches``.
            on_epoch_end: Called after each complete pass.
            on_batch_end: Called after each optimisation step.
            log_interval: Log statistics after the first batch and then every
                this many batches.
            log_rollouts_venv: If given, roll out the policy in it at each log
                and record return and length statistics.
            log_rollouts_n_episodes: Episodes per such rollout (<= 0 disables).
            progress_bar: Show a bar of the batches (in a terminal only).
            reset_tensorboard: Restart the logged step count from zero.

        Raises:
            ValueError: If not exactly one of ``n_epochs``/``n_batches`` is given,
                it or ``log_interval`` is not positive, or no demonstrations
                were set.
            TypeError: If ``n_epochs``, ``n_batches`` or ``log_interval`` is not
                an int, or ``log_rollouts_venv`` is not a ``VecEnv``.
        """
        accumulate = self.batch_size // self.minibatch_size
        if n_batches is not None:
            n_batches = util.check_positive_int(n_batches, "n_batches")

        def _on_epoch_end(epoch: int) -> None:
            self._bc_logger.log_epoch(epoch + 1)
            if on_epoch_end is not None:
                on_epoch_end()

        # Counts minibatches: ``accumulate`` of them make one optimisation step.
        minibatches = BatchIteratorWithEpochEndCallback(
            [] if self._demo_data_loader is None else self._demo_data_loader,
            n_epochs,
            None if n_batches is None else n_batches * accumulate,
            _on_epoch_end,
        )
        log_interval = util.check_positive_int(log_interval, "log_interval")
        if log_rollouts_venv is not None:
            util.check_vec_env(log_rollouts_venv, "log_rollouts_venv")
        if self._demo_data_loader is None:
            raise ValueError("No demonstrations: call set_demonstrations() first.")
        if reset_tensorboard:
            self._bc_logger.reset_tensorboard_steps()
        self._bc_logger.log_epoch(0)
        compute_rollout_stats = RolloutStatsComputer(
            log_rollouts_venv, log_rollouts_n_episodes
        )
        total = n_batches
        if total is None and hasattr(self._demo_data_loader, "__len__"):
            assert n_epochs is not None
            total = n_epochs * len(self._demo_data_loader) // accumulate  # type: ignore[arg-type]
        device = self._policy.device  # a property that scans the parameters
        self._policy.set_training_mode(True)
        bar = progress.progress_bar(
            total, desc="BC", unit="batch", enabled=progress_bar
        )
        scale = self.minibatch_size / self.batch_size
        self.optimizer.zero_grad(set_to_none=True)
        for (mini_num, _, num_samples), minibatch in enumerate_batches(minibatches):
            if mini_num == 0:
                # Batches given by the user are not checked on entry: check the
                # first one so a mismatch is named rather than failing in the net.
                algo_base.check_observations_fit_space(
                    minibatch["obs"],
                    self.observation_space,
                    "Observations of the demonstration batches",
                )
            obs = types.to_tensor_maybe_dict(minibatch["obs"], device)
            acts = types.to_tensor_maybe_dict(minibatch["acts"], device)
            metrics = self.loss_calculator(self._policy, obs, acts)
            (metrics.loss * scale).backward()
            if (mini_num + 1) % accumulate:
                continue
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            batch_num = (mini_num + 1) // accumulate - 1
            bar.update(1)
            if batch_num % log_interval == 0:
                self._bc_logger.log_batch(
                    batch_num,
                    self.batch_size,
                    num_samples,
                    metrics,
                    compute_rollout_stats(self._policy, self.rng),
                )
            if on_batch_end is not None:
                on_batch_end()
        bar.close()
        self._policy.set_training_mode(False)
