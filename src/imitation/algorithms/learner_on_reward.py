"""An SB3 learner trained on a learned reward, in phases.

GAIL and AIRL (the generator), preference comparisons (``AgentTrainer``'s
agent) and the density baseline (``rl_algo``) each train a Stable-Baselines3
algorithm on a reward that is not the environment's, and that (but for the
density's) changes between training phases. :class:`LearnerOnReward` is that
sequence, written once:

* the environment's reward is replaced by the learned one
  (:class:`~imitation.rewards.reward_wrapper.RewardVecEnvWrapper`), and the
  learner is given that environment and the caller's logger;
* an off-policy learner's replay buffer is wrapped so that every batch it
  replays carries the current reward
  (:func:`~imitation.policies.replay_buffer_wrapper.relabel_rewards`):
  transitions stored under an earlier reward model would otherwise keep
  that model's rewards for as long as they stay in the buffer;
* each phase is one ``learn(reset_num_timesteps=False)`` call, logged inside
  ``accumulate_means``; inside :meth:`LearnerOnReward.training_run` the
  learner's schedules (learning rate, clip range, exploration) run once over
  all phases (:class:`~imitation.util.sb3_compat.RunProgress`);
* after the environment was used by something else (sampling, evaluation),
  the next phase starts from fresh episodes.

What the learner did is recorded by the wrappers the caller puts under the
reward: a :class:`~imitation.data.wrappers.BufferingWrapper` (the adversarial
trainer keeps every transition, ``AgentTrainer`` the finished episodes), or
the density algorithm's episode clock. Each caller pops what it keeps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from stable_baselines3.common import (
    base_class,
    buffers,
    callbacks,
    off_policy_algorithm,
    on_policy_algorithm,
)
from stable_baselines3.common.vec_env import VecEnv

from imitation.policies import replay_buffer_wrapper
from imitation.rewards import reward_function, reward_wrapper
from imitation.util import logger as imit_logger
from imitation.util import sb3_compat


def _relabel_replay_buffer(
    algorithm: off_policy_algorithm.OffPolicyAlgorithm,
    reward_fn: reward_function.RewardFn,
) -> None:
    """Make ``algorithm`` replay its transitions with ``reward_fn``'s rewards.

    A buffer that already relabels (a ``ReplayBufferRewardWrapper``, e.g.
    passed as ``replay_buffer_class``) is left as it is: its reward was
    chosen by whoever built it.

    Raises:
        ValueError: If ``algorithm`` has no replay buffer, or one whose
            rewards cannot be relabelled per transition (n-step, HER).
    """
    buffer = algorithm.replay_buffer
    if isinstance(buffer, replay_buffer_wrapper.ReplayBufferRewardWrapper):
        return
    if buffer is None:
        raise ValueError(
            f"The {type(algorithm).__name__} learner has no replay buffer yet: "
            "build it with its model set up (the default).",
        )
    if type(buffer) not in (buffers.ReplayBuffer, buffers.DictReplayBuffer):
        raise ValueError(
            f"Cannot relabel the rewards of a {type(buffer).__name__}; use the "
            "learner's default one-step ReplayBuffer (e.g. n_steps=1).",
        )
    algorithm.replay_buffer = replay_buffer_wrapper.relabel_rewards(buffer, reward_fn)


class LearnerOnReward:
    """Trains an SB3 algorithm on a learned reward, one phase per :meth:`learn`.

    See the module docstring for what it takes care of.
    """

    venv_wrapped: VecEnv
    """The environment the learner steps: ``venv`` with the learned reward
    (``venv`` itself when ``reward_fn`` is None)."""

    log_callback: reward_wrapper.WrappedRewardCallback | None
    """Logs the mean episode return under the learned reward."""

    callback: callbacks.BaseCallback | None
    """What every phase passes to ``learn``: :attr:`log_callback`, and with
    ``defer_rewards`` the callback rewarding whole rollouts."""

    def __init__(
        self,
        algorithm: base_class.BaseAlgorithm,
        venv: VecEnv,
        reward_fn: reward_function.RewardFn | None,
        logger: imit_logger.HierarchicalLogger,
        *,
        log_name: str | None = None,
        defer_rewards: bool = False,
        relabel: bool = True,
    ) -> None:
        """Point ``algorithm`` at ``venv`` with the learned reward, and at ``logger``.

        Args:
            algorithm: The learner; its environment and logger are replaced.
            venv: The environment, with whatever records the learner's
                transitions for the caller.
            reward_fn: The learned reward; None trains on ``venv``'s own.
            logger: Where the learner logs.
            log_name: Each phase logs inside ``logger.accumulate_means`` of
                this name (None: directly).
            defer_rewards: Reward an on-policy learner's rollouts in one
                ``reward_fn`` call at their end
                (:class:`~imitation.rewards.reward_wrapper.DeferredRewardCallback`)
                instead of one call per step.
            relabel: Relabel an off-policy learner's replayed transitions with
                ``reward_fn``. Turn it off only for a reward that stays fixed
                while the learner trains on it: relabelled batches would then
                equal the stored ones.

        Raises:
            ValueError: If an off-policy learner's replay buffer cannot be
                relabelled: it is missing, or not SB3's default one-step
                ``ReplayBuffer`` / ``DictReplayBuffer`` (n-step, HER, ...).
        """
        self.algorithm = algorithm
        self.log_name = log_name
        self.log_callback = None
        self.callback = None
        if reward_fn is None:
            self.venv_wrapped = venv
        else:
            wrapped = reward_wrapper.RewardVecEnvWrapper(venv, reward_fn)
            self.venv_wrapped = wrapped
            self.log_callback = wrapped.make_log_callback()
            self.callback = self.log_callback
            if defer_rewards and isinstance(
                algorithm, on_policy_algorithm.OnPolicyAlgorithm
            ):
                self.callback = callbacks.CallbackList(
                    [self.log_callback, reward_wrapper.DeferredRewardCallback(wrapped)]
                )
            if relabel and isinstance(
                algorithm, off_policy_algorithm.OffPolicyAlgorithm
            ):
                _relabel_replay_buffer(algorithm, reward_fn)
        algorithm.set_env(self.venv_wrapped)
        algorithm.set_logger(logger)
        self._run: sb3_compat.RunProgress | None = None

    @contextlib.contextmanager
    def training_run(self, total_timesteps: int) -> Iterator[None]:
        """Run the learner's schedules once over ``total_timesteps``, across phases.

        Inside, each :meth:`learn` continues the schedules where the previous
        one left them; outside, each is a ``learn`` call of its own, as in SB3.

        Args:
            total_timesteps: Environment steps of all the phases together.

        Raises:
            ValueError: If ``total_timesteps`` is not positive.
        """
        self._run = sb3_compat.RunProgress(self.algorithm, total_timesteps)
        try:
            yield
        finally:
            self._run = None

    def restart_episodes(self) -> None:
        """Make the learner's next ``learn`` start from fresh episodes.

        Call it when something else reset or stepped the environment the
        learner steps (e.g. sampled trajectories from it): the learner would
        otherwise continue from an observation that is no longer the
        environment's.
        """
        sb3_compat.restart_episodes_on_next_learn(self.algorithm)

    def learn(
        self,
        total_timesteps: int,
        callback: callbacks.BaseCallback | None = None,
        **kwargs: Any,
    ) -> None:
        """One training phase: ``algorithm.learn`` for ``total_timesteps`` env steps.

        Args:
            total_timesteps: Environment steps.
            callback: Called besides :attr:`callback`.
            kwargs: Passed to ``algorithm.learn``; ``reset_num_timesteps``
                defaults to False, so the phases add up to one run.
        """
        if self.callback is not None:
            callback = (
                self.callback
                if callback is None
                else callbacks.CallbackList([self.callback, callback])
            )
        kwargs.setdefault("reset_num_timesteps", False)
        run = self._run.learning() if self._run else contextlib.nullcontext()
        with self._logging(), run:
            self.algorithm.learn(
                total_timesteps=total_timesteps, callback=callback, **kwargs
            )

    def _logging(self) -> contextlib.AbstractContextManager[None]:
        """The context of a phase's logs: the learner logger's ``accumulate_means``."""
        if self.log_name is None:
            return contextlib.nullcontext()
        logger = self.algorithm.logger
        assert isinstance(logger, imit_logger.HierarchicalLogger)
        return logger.accumulate_means(self.log_name)
