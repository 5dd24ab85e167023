"""DAgger with a person as the expert, labelling states asynchronously."""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from stable_baselines3.common import policies, vec_env

from imitation.algorithms import base, bc
from imitation.algorithms.dagger.trainer import check_spaces_match
from imitation.data import rollout
from imitation.util import logger as imit_logger
from imitation.util import util

if TYPE_CHECKING:
    from imitation.algorithms.preference_comparisons.human import HumanLabeller


class HumanDAggerTrainer(base.BaseImitationAlgorithm):
    """DAgger with a person as the expert, labelling states in a browser.

    The learner rolls out in ``venv``; from each rollout's episodes
    ``states_per_rollout`` states, drawn uniformly, are queued on the
    :class:`~imitation.algorithms.preference_comparisons.human.HumanLabeller`'s
    page. Rollouts go on with the newest learner while the person labels
    (whenever fewer than ``max_pending`` states wait), so the page always has
    a state ready; every ``retrain_every`` new labels BC retrains on all
    labels so far. Only labelled states are trained on: nothing is guessed for
    a state nobody labelled. Labels live in the labeller's log, so a run
    restarted on the same log starts from every label given before.

    Observations may be vectors, images or dicts of arrays, as long as the
    labeller's renderer can draw them.

    Paper: https://arxiv.org/abs/1011.0686 (see :class:`DAggerTrainer`); the
    learner always acts (beta = 0), since a person cannot take over the
    environment step by step at rollout speed. For a person who labels every
    state of the rollouts while they wait (beta as scheduled), give the
    labeller to :class:`SimpleDAggerTrainer` as its ``expert_policy``.
    """

    _logger_shared_with = ("bc_trainer",)

    def __init__(
        self,
        *,
        venv: vec_env.VecEnv,
        labeller: HumanLabeller,
        bc_trainer: bc.BC,
        rng: np.random.Generator,
        states_per_rollout: int = 20,
        max_pending: int = 40,
        context: int = 3,
        state_filter: Callable[[Any], bool] | None = None,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Build the trainer.

        Args:
            venv: Vectorised environment the learner rolls out in.
            labeller: The page the person labels on (its action space must
                be ``venv``'s).
            bc_trainer: The BC instance that trains the policy.
            rng: Generator for the choice of states to ask.
            states_per_rollout: States queued from each rollout.
            max_pending: Roll out again only while fewer states wait.
            context: Observations before each state shown fading behind it.
            state_filter: Which visited states may be asked (obs -> bool; a
                dict observation for a ``Dict`` space); None: all. For states
                a person cannot judge, e.g. seals' CartPole, which never
                ends, with the cart far off screen.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If the spaces differ between ``venv``, the BC trainer
                and the labeller, or a count is not positive.
        """
        super().__init__(custom_logger=custom_logger)
        util.check_vec_env(venv)
        check_spaces_match(venv, bc_trainer)
        if len(labeller.action_names) != getattr(venv.action_space, "n", None):
            raise ValueError(
                f"The labeller has {len(labeller.action_names)} actions; the "
                f"venv's action space is {venv.action_space}.",
            )
        for name, value in (
            ("states_per_rollout", states_per_rollout),
            ("max_pending", max_pending),
        ):
            if value <= 0:
                raise ValueError(f"{name}={value} must be positive.")
        if context < 0:
            raise ValueError(f"context={context} must be at least 0.")
        self.venv = venv
        self.labeller = labeller
        self.bc_trainer = bc_trainer
        self.bc_trainer.logger = self.logger
        self.rng = util.check_rng(rng)
        self.states_per_rollout = states_per_rollout
        self.max_pending = max_pending
        self.context = context
        self.state_filter = state_filter
        self.rollouts = 0
        """Rollouts of the learner so far."""
        self.trained_on = 0
        """Labels the policy was last trained on."""
        # Each retraining starts again from these, the learner as given.
        self._initial_policy = copy.deepcopy(bc_trainer.policy.state_dict())
        self._initial_optimizer = copy.deepcopy(bc_trainer.optimizer.state_dict())

    @property
    def policy(self) -> policies.BasePolicy:
        """The policy being trained."""
        return self.bc_trainer.policy

    def queue_rollout(self) -> list[int]:
        """Roll the current learner out for one episode per env; queue states.

        Returns:
            The ids of the states queued.
        """
        trajs = rollout.generate_trajectories(
            self.policy,
            self.venv,
            rollout.make_min_episodes(self.venv.num_envs),
            rng=self.rng,
        )
        # Arrays, or DictObs for dict observations: both index and slice by step.
        episodes = [traj.obs for traj in trajs]
        candidates = [
            (obs, t)
            for obs in episodes
            for t in range(len(obs) - 1)
            if self.state_filter is None or self.state_filter(obs[t])
        ]
        count = min(self.states_per_rollout, len(candidates))
        chosen = self.rng.choice(len(candidates), size=count, replace=False)
        ids = []
        for index in sorted(chosen):
            obs, t = candidates[index]
            ids.append(self.labeller.ask(obs[t], obs[max(0, t - self.context) : t]))
        self.rollouts += 1
        self.logger.record("dagger/rollouts", self.rollouts)
        return ids

    def retrain(self, bc_train_kwargs: Mapping[str, Any] | None = None) -> None:
        """Train BC afresh on every label so far (``n_batches=1000`` unless told).

        The policy and its optimiser start again from their state when the
        trainer was built: training on and on over the same labels learns
        their mistakes (a person's wrong clicks) by heart.

        Raises:
            ValueError: If nothing is labelled yet.
        """
        labelled = self.labeller.labelled()
        self.bc_trainer.policy.load_state_dict(self._initial_policy)
        self.bc_trainer.optimizer.load_state_dict(self._initial_optimizer)
        kwargs = {"progress_bar": False, **(bc_train_kwargs or {})}
        if "n_epochs" not in kwargs and "n_batches" not in kwargs:
            kwargs["n_batches"] = 1000
        self.bc_trainer.set_demonstrations(labelled)
        self.bc_trainer.train(**kwargs)
        self.trained_on = len(labelled.acts)
        self.logger.record("dagger/labels", self.trained_on)

    def _progressed(self, count: int) -> bool:
        """Whether a label came since there were ``count``, or states ran low."""
        labeller = self.labeller
        return labeller.n_labels != count or labeller.n_pending < self.max_pending

    def train(
        self,
        total_labels: int,
        *,
        retrain_every: int = 25,
        bc_train_kwargs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Collect labels until the log holds ``total_labels``, retraining as they come.

        Args:
            total_labels: Stop once the log holds this many labels (from
                earlier runs too; the page then stops asking, see
                ``HumanLabeller.budget``); BC is then trained on all of them.
            retrain_every: Retrain BC after this many new labels (and once
                there are at least BC's batch size of them).
            bc_train_kwargs: Arguments for ``BC.train``; see :meth:`retrain`.
            timeout: Seconds to wait for the next label before raising
                ``TimeoutError``; None waits for ever.

        Raises:
            ValueError: If ``retrain_every`` is not positive, or
                ``total_labels`` is below BC's batch size.
            TimeoutError: If no label comes within ``timeout``.
            RuntimeError: If the labeller is closed or cannot render.
        """
        if total_labels <= 0 or retrain_every <= 0:
            raise ValueError(
                f"total_labels={total_labels} and retrain_every={retrain_every} "
                "must be positive.",
            )
        batch_size = self.bc_trainer.batch_size
        if total_labels < batch_size:
            raise ValueError(
                f"total_labels={total_labels} is below BC's batch_size={batch_size}: "
                "BC needs a batch of labels to train on.",
            )
        labeller = self.labeller
        labeller.budget = total_labels
        if labeller.n_labels >= batch_size:
            self.retrain(bc_train_kwargs)  # Resumed: start from the old labels.
        last_label = time.monotonic()
        while labeller.n_labels < total_labels:
            if labeller.n_pending < self.max_pending:
                self.queue_rollout()
                continue
            count = labeller.n_labels
            if count - self.trained_on >= retrain_every and count >= batch_size:
                self.retrain(bc_train_kwargs)
                self.logger.dump(self.rollouts)
                continue
            labeller.wait_until(functools.partial(self._progressed, count), timeout=0.5)
            if labeller.n_labels != count:
                last_label = time.monotonic()
            elif timeout is not None and time.monotonic() - last_label > timeout:
                raise TimeoutError(
                    f"No label within timeout={timeout} s; label at "
                    f"{labeller.address} (URL with token on the terminal), or "
                    "raise the timeout.",
                )
        self.retrain(bc_train_kwargs)
