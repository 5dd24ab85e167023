"""DAgger's trainers: the resumable rounds, and the loop with a program expert."""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import policies, utils, vec_env
from stable_baselines3.common.base_class import BaseAlgorithm

from imitation.algorithms import base, bc
from imitation.algorithms.dagger.collector import (
    InteractiveTrajectoryCollector,
    _demo_files,
    _save_demo,
)
from imitation.algorithms.dagger.schedules import LinearBetaSchedule
from imitation.data import rollout, serialize, types
from imitation.util import logger as imit_logger
from imitation.util import progress, safe_pickle, util


def check_spaces_match(venv: vec_env.VecEnv, bc_trainer: bc.BC) -> None:
    """Raise ``ValueError`` naming a space where ``venv`` and the BC trainer differ."""
    for name in ("observation_space", "action_space"):
        if getattr(venv, name) != getattr(bc_trainer, name):
            raise ValueError(
                f"venv.{name} {getattr(venv, name)} differs from the BC "
                f"trainer's {getattr(bc_trainer, name)}.",
            )


class NeedsDemosException(Exception):  # noqa: N818 - documented name
    """The current round has no demonstrations yet: collect some first."""


class DAggerTrainer(base.BaseImitationAlgorithm):
    """DAgger with a low-level, resumable API (suited to human demonstrators).

    Dataset Aggregation: Ross, Gordon and Bagnell, "A Reduction of Imitation
    Learning and Structured Prediction to No-Regret Online Learning" (AISTATS
    2011), https://arxiv.org/abs/1011.0686.
    """

    _logger_shared_with = ("bc_trainer",)

    DEFAULT_N_EPOCHS: int = 4
    """The default number of BC training epochs in ``extend_and_update``."""

    def __init__(
        self,
        *,
        venv: vec_env.VecEnv,
        scratch_dir: types.AnyPath,
        rng: np.random.Generator,
        beta_schedule: Callable[[int], float] | None = None,
        bc_trainer: bc.BC,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Build the trainer.

        Args:
            venv: Vectorised training environment.
            scratch_dir: Directory for checkpoints and demonstrations.
            rng: Generator for the collectors' choice of actions.
            beta_schedule: Round number to beta; defaults to
                ``LinearBetaSchedule(15)``.
            bc_trainer: The BC instance that trains the policy.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``venv``'s spaces differ from the BC trainer's.
        """
        super().__init__(custom_logger=custom_logger)
        util.check_vec_env(venv)
        check_spaces_match(venv, bc_trainer)
        self.venv = venv
        self.scratch_dir = util.parse_path(scratch_dir)
        self.rng = util.check_rng(rng)
        self.beta_schedule = beta_schedule or LinearBetaSchedule(15)
        self.bc_trainer = bc_trainer
        self.bc_trainer.logger = self.logger
        self.round_num = 0
        self._last_loaded_round = -1
        self._all_demos: list[types.Trajectory] = []
        self._robot_policy: rollout.PolicyCallable | None = None

    @property
    def policy(self) -> policies.BasePolicy:
        """The policy being trained."""
        return self.bc_trainer.policy

    @property
    def batch_size(self) -> int:
        """The BC batch size."""
        return self.bc_trainer.batch_size

    def _demo_dir(self, round_num: int) -> pathlib.Path:
        return self.scratch_dir / "demos" / f"round-{round_num:03d}"

    def _load_demos(self) -> None:
        """Load every demonstration on disk up to the current round; train BC on them.

        Raises:
            NeedsDemosException: If the current round has no demonstrations.
        """
        if not _demo_files(self._demo_dir(self.round_num)):
            raise NeedsDemosException(
                f"No demonstrations in {self._demo_dir(self.round_num)}: collect "
                "some with create_trajectory_collector() first.",
            )
        demos: list[types.Trajectory] = []
        for round_num in range(self.round_num + 1):
            for path in _demo_files(self._demo_dir(round_num)):
                demos.extend(serialize.load(path))
        self._all_demos = demos
        self.bc_trainer.set_demonstrations(demos)
        self._last_loaded_round = self.round_num

    def extend_and_update(
        self, bc_train_kwargs: Mapping[str, Any] | None = None
    ) -> int:
        """Load this round's demonstrations, train BC on all data, start the next round.

        Args:
            bc_train_kwargs: Arguments for ``BC.train``. ``log_rollouts_venv``
                defaults to this trainer's venv; without ``n_epochs`` and
                ``n_batches``, ``n_epochs`` is ``DEFAULT_N_EPOCHS``.

        Returns:
            The new round number.

        Raises:
            NeedsDemosException: If the current round has no demonstrations.
        """
        kwargs = dict(bc_train_kwargs or {})
        kwargs.setdefault("log_rollouts_venv", self.venv)
        if "n_epochs" not in kwargs and "n_batches" not in kwargs:
            kwargs["n_epochs"] = self.DEFAULT_N_EPOCHS
        self._load_demos()
        logging.info(
            "DAgger round %d: training BC on %d demonstrations",
            self.round_num,
            len(self._all_demos),
        )
        self.bc_trainer.train(**kwargs)
        self.round_num += 1
        return self.round_num

    def _robot_acts(self, obs: np.ndarray) -> np.ndarray:
        if self._robot_policy is None:
            self._robot_policy = rollout.policy_to_callable(self.policy, self.venv)
        acts, _ = self._robot_policy(obs, None, np.zeros(self.venv.num_envs, bool))
        return acts

    def create_trajectory_collector(self) -> InteractiveTrajectoryCollector:
        """A collector for the current round, with its beta and the current learner."""
        beta = self.beta_schedule(self.round_num)
        self.logger.record("dagger/beta", beta)
        self._robot_policy = None
        return InteractiveTrajectoryCollector(
            venv=self.venv,
            get_robot_acts=self._robot_acts,
            beta=beta,
            save_dir=self._demo_dir(self.round_num),
            rng=self.rng,
        )

    def save_trainer(self) -> tuple[pathlib.Path, pathlib.Path]:
        """Snapshot the trainer (and, separately, the policy) in the scratch dir.

        Returns:
            The paths of the trainer checkpoint and of the policy file.
        """
        bc_trainer = self.bc_trainer
        state = {
            "format": "imitation.dagger.checkpoint/1",
            "round_num": self.round_num,
            "beta_schedule": self.beta_schedule,
            "policy": util.policy_to_dict(self.policy),
            "optimizer_class": type(bc_trainer.optimizer),
            "optimizer_state": bc_trainer.optimizer.state_dict(),
            "bc": {
                "batch_size": bc_trainer.batch_size,
                "minibatch_size": bc_trainer.minibatch_size,
                "ent_weight": bc_trainer.loss_calculator.ent_weight,
                "l2_weight": bc_trainer.loss_calculator.l2_weight,
            },
        }
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = self.scratch_dir / f"checkpoint-{self.round_num:03d}.pt"
        policy_path = self.scratch_dir / f"policy-{self.round_num:03d}.pt"
        for path in (checkpoint, self.scratch_dir / "checkpoint-latest.pt"):
            with util.atomic_write_path(path) as tmp:
                th.save(state, tmp)
        for path in (policy_path, self.scratch_dir / "policy-latest.pt"):
            util.save_policy(self.policy, path)
        return checkpoint, policy_path


_CHECKPOINT_KEYS = frozenset(
    {"round_num", "beta_schedule", "policy", "optimizer_class", "optimizer_state", "bc"}
)


def reconstruct_trainer(
    scratch_dir: types.AnyPath,
    venv: vec_env.VecEnv,
    custom_logger: imit_logger.HierarchicalLogger | None = None,
    device: th.device | str = "auto",
    rng: np.random.Generator | None = None,
) -> DAggerTrainer:
    """Resume DAgger from the latest checkpoint in ``scratch_dir``.

    The trainer continues in the round it had reached; demonstrations already
    saved for that round (e.g. by a run that was killed mid-round) are kept and
    used by the next ``extend_and_update``.

    Args:
        scratch_dir: The scratch directory of the run to resume.
        venv: The training environment.
        custom_logger: Where to log to; if None, a new logger is created.
        device: Device for the policy.
        rng: Generator for the collectors (default: fresh entropy).

    Returns:
        The trainer.

    Raises:
        FileNotFoundError: If there is no checkpoint in ``scratch_dir``.
        ValueError: If the checkpoint is not a DAgger checkpoint, or is
            truncated or corrupt (``safe_pickle.CorruptFileError``).
        imitation.util.safe_pickle.UnsafePickleError: If the checkpoint names
            classes outside the allow-list.
    """
    scratch = util.parse_path(scratch_dir)
    path = scratch / "checkpoint-latest.pt"
    if not path.exists():
        raise FileNotFoundError(
            f"No DAgger checkpoint at {path}: nothing to resume (save_trainer() "
            "writes it at the end of each round).",
        )
    device = utils.get_device(device)
    state = safe_pickle.safe_torch_load(path, map_location=device)
    if (
        not isinstance(state, dict)
        or state.get("format") != "imitation.dagger.checkpoint/1"
    ):
        raise ValueError(f"{path} is not a DAgger checkpoint.")
    missing = sorted(_CHECKPOINT_KEYS - set(state))
    if missing:
        raise ValueError(
            f"{path} is a corrupt DAgger checkpoint: it lacks {missing}. Resume "
            "from an intact scratch directory, or start a new run.",
        )
    try:
        policy = bc.policy_from_dict(state["policy"], device)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{path} is a corrupt DAgger checkpoint: its policy cannot be rebuilt "
            f"({type(exc).__name__}: {exc}).",
        ) from exc
    bc_trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng or np.random.default_rng(),
        policy=policy,  # type: ignore[arg-type]
        optimizer_cls=state["optimizer_class"],
        device=device,
        custom_logger=custom_logger,
        **state["bc"],
    )
    bc_trainer.optimizer.load_state_dict(state["optimizer_state"])
    trainer = DAggerTrainer(
        venv=venv,
        scratch_dir=scratch,
        rng=rng or np.random.default_rng(),
        beta_schedule=state["beta_schedule"],
        bc_trainer=bc_trainer,
        custom_logger=custom_logger,
    )
    trainer.round_num = state["round_num"]
    return trainer


class SimpleDAggerTrainer(DAggerTrainer):
    """DAgger whose expert labels every visited state as the rollout goes.

    The expert is a program (an SB3 policy or any ``PolicyCallable``) or a
    person: a
    :class:`~imitation.algorithms.preference_comparisons.human.HumanLabeller`
    is a ``PolicyCallable`` that asks in the browser and waits for the
    answers.

    Paper: https://arxiv.org/abs/1011.0686 (see :class:`DAggerTrainer`).
    """

    def __init__(
        self,
        *,
        venv: vec_env.VecEnv,
        scratch_dir: types.AnyPath,
        expert_policy: rollout.AnyPolicy,
        rng: np.random.Generator,
        expert_trajs: Sequence[types.Trajectory] | None = None,
        deterministic_expert: bool = True,
        **dagger_trainer_kwargs: Any,
    ) -> None:
        """Build the trainer.

        Args:
            venv: Vectorised training environment.
            scratch_dir: Directory for checkpoints and demonstrations.
            expert_policy: The expert that labels states: an SB3 algorithm or
                policy, or any callable following
                :data:`~imitation.data.rollout.PolicyCallable`,
                ``(obs, state, episode_start) -> (actions, state)`` (a
                stochastic one included; it decides for itself how to act),
                such as a person labelling in the browser, a
                :class:`~imitation.algorithms.preference_comparisons.human.HumanLabeller`.
                A callable breaking that convention is refused with an error
                naming it, when built or at its first bad return.
            rng: Generator for the collectors.
            expert_trajs: Optional demonstrations added to round 0's data.
            deterministic_expert: For an SB3 expert, label with its most
                likely action (True) or with an action sampled from it
                (False). Must be True for a plain callable.
            dagger_trainer_kwargs: Passed to :class:`DAggerTrainer`.

        Raises:
            ValueError: If the expert's spaces differ from ``venv``'s,
                ``deterministic_expert`` is False for a plain callable, or
                ``expert_trajs`` is empty or does not fit ``venv``'s spaces
                (e.g. dict observations with other keys).
            TypeError: If ``expert_policy`` is neither an SB3 policy nor a
                callable of ``(obs, state, episode_start)``.
        """
        super().__init__(
            venv=venv, scratch_dir=scratch_dir, rng=rng, **dagger_trainer_kwargs
        )
        for name in ("observation_space", "action_space"):
            expected = getattr(venv, name)
            got = getattr(expert_policy, name, expected)
            if got != expected:
                raise ValueError(
                    f"The expert's {name} {got} differs from the venv's {expected}.",
                )
        self._expert_is_sb3 = isinstance(
            expert_policy, policies.BasePolicy | BaseAlgorithm
        )
        if not self._expert_is_sb3 and not deterministic_expert:
            raise ValueError(
                "deterministic_expert=False applies to SB3 experts only; a callable "
                "expert decides for itself whether to sample its actions."
            )
        # Fails now, not rounds later, for an expert that is no policy at all.
        rollout.policy_to_callable(expert_policy, venv)
        self.expert_policy = expert_policy
        self.deterministic_expert = deterministic_expert
        self.total_timesteps = 0
        """Environment steps collected by :meth:`train` so far (over all calls)."""
        if expert_trajs is not None:
            if len(expert_trajs) == 0:
                raise ValueError(
                    "expert_trajs is empty: pass None or some trajectories."
                )
            # Check before saving: a bad file in the scratch directory would
            # make every later round (and a resumed run) fail.
            base.check_demonstration_spaces(
                rollout.flatten_trajectories(list(expert_trajs)),
                venv.observation_space,
                venv.action_space,
            )
            for traj in expert_trajs:
                _save_demo(self._demo_dir(0), 0, traj)

    def train(
        self,
        total_timesteps: int,
        *,
        rollout_round_min_episodes: int = 3,
        rollout_round_min_timesteps: int = 500,
        bc_train_kwargs: Mapping[str, Any] | None = None,
        progress_bar: bool = True,
    ) -> None:
        """Run rounds of collection and BC until ``total_timesteps`` env steps.

        Each round the expert acts (mixed with the learner by beta) until at
        least ``rollout_round_min_episodes`` episodes and
        ``max(rollout_round_min_timesteps, batch_size)`` steps are collected,
        then BC trains on all data so far and the trainer is checkpointed.

        Args:
            total_timesteps: Lower bound on the number of environment steps.
            rollout_round_min_episodes: Minimum episodes per round.
            rollout_round_min_timesteps: Minimum steps per round.
            bc_train_kwargs: See :meth:`extend_and_update`.
            progress_bar: Show a bar of the environment steps (in a terminal
                only); BC's own bar is hidden unless ``bc_train_kwargs`` asks.
        """
        bc_train_kwargs = {"progress_bar": False, **(bc_train_kwargs or {})}
        bar = progress.progress_bar(
            total_timesteps, desc="DAgger", unit="step", enabled=progress_bar
        )
        total = 0
        while total < total_timesteps:
            collector = self.create_trajectory_collector()
            sample_until = rollout.make_sample_until(
                min_timesteps=max(rollout_round_min_timesteps, self.batch_size),
                min_episodes=rollout_round_min_episodes,
            )
            trajs = rollout.generate_trajectories(
                self.expert_policy,
                collector,
                sample_until,
                rng=collector.rng,
                # A plain callable expert decides for itself.
                deterministic_policy=self._expert_is_sb3 and self.deterministic_expert,
            )
            round_steps = sum(len(t) for t in trajs)
            total += round_steps
            self.total_timesteps += round_steps
            for traj in trajs:
                self.logger.record_mean(
                    "dagger/mean_episode_reward", float(np.sum(traj.rews))
                )
            self.logger.record("dagger/total_timesteps", self.total_timesteps)
            self.logger.record("dagger/round_num", self.round_num)
            self.logger.record("dagger/round_episode_count", len(trajs))
            self.logger.record("dagger/round_timestep_count", round_steps)
            self.extend_and_update(bc_train_kwargs)
            self.save_trainer()
            bar.update(min(round_steps, total_timesteps - bar.n))
        bar.close()
