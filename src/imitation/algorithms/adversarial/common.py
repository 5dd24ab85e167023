"""The adversarial imitation loop shared by GAIL and AIRL.

A round trains the generator (an SB3 algorithm) for ``gen_train_timesteps``
environment steps on the discriminator-derived reward, stores the generated
transitions, then takes ``n_disc_updates_per_round`` discriminator steps, each
on ``demo_batch_size`` expert and as many generated transitions. Subclasses
define the discriminator's logits and the rewards derived from it.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import (
    base_class,
    off_policy_algorithm,
    on_policy_algorithm,
    policies,
    vec_env,
)
from torch.nn import functional

from imitation.algorithms import base, learner_on_reward
from imitation.algorithms.adversarial.train_stats import compute_train_stats
from imitation.data import buffer, rollout, types, wrappers
from imitation.policies import replay_buffer_wrapper
from imitation.rewards import reward_nets
from imitation.util import logger as imit_logger
from imitation.util import networks, progress, util

DEFAULT_DISC_OPT_KWARGS: Mapping[str, Any] = {"lr": 3e-3}
"""Discriminator optimiser arguments that ``disc_opt_kwargs`` adds to or overrides.

A round gives the discriminator only ``n_disc_updates_per_round`` steps (8 and
16 in the tutorials), so at Adam's default 1e-3 it stays at chance for the
first rounds and the generator learns from noise; 3e-3 separates expert from
generated samples within a round or two without overshooting (1e-2 sharpens it
so fast that the generator's reward flattens to nearly zero everywhere it goes).
"""


@contextlib.contextmanager
def _frozen_norm_layers(net: th.nn.Module) -> Iterator[None]:
    """Stop ``net``'s normalisation layers from updating their statistics."""
    layers = [
        m for m in net.modules() if isinstance(m, networks.BaseNorm) and m.training
    ]
    for layer in layers:
        layer.training = False
    try:
        yield
    finally:
        for layer in layers:
            layer.training = True


@dataclasses.dataclass(frozen=True)
class _DiscBatch:
    state: th.Tensor
    action: th.Tensor
    next_state: th.Tensor
    done: th.Tensor
    labels_expert_is_one: th.Tensor
    log_policy_act_prob: th.Tensor | None


def _concatenate(expert: Any, gen: Any) -> Any:
    """Expert then generator rows of one field, as a tensor (a dict for dicts)."""
    expert, gen = types.to_tensor_maybe_dict(expert), types.to_tensor_maybe_dict(gen)
    if isinstance(expert, dict):
        return {k: th.cat([expert[k], gen[k]]) for k in expert}
    return th.cat([expert, gen])


def _check_fresh(gen_algo: off_policy_algorithm.OffPolicyAlgorithm) -> None:
    """Refuse an off-policy generator that has already stored transitions.

    Raises:
        ValueError: If its replay buffer holds transitions (or is missing).
    """
    inner = gen_algo.replay_buffer
    if isinstance(inner, replay_buffer_wrapper.ReplayBufferRewardWrapper):
        return
    if inner is None or inner.size() > 0:
        raise ValueError(
            "Give the adversarial trainer a fresh off-policy generator: its "
            "replay buffer already holds transitions with stale rewards.",
        )


class AdversarialTrainer(base.DemonstrationAlgorithm[types.Transitions], abc.ABC):
    """Base class of adversarial imitation (GAIL, AIRL).

    GAIL: https://arxiv.org/abs/1606.03476; AIRL:
    https://arxiv.org/abs/1710.11248.
    """

    _logger_shared_with = ("gen_algo",)

    venv: vec_env.VecEnv
    """The original environment."""

    venv_wrapped: vec_env.VecEnv
    """``venv`` with the generator's samples buffered and its reward replaced."""

    expert_input_stats: bool = True
    """Fit the discriminator's input normalisation (e.g. ``RunningNorm``) to
    expert transitions only. The expert's distribution is a fixed reference,
    while the generator's drifts, and early on lies far from the expert's:
    statistics pooled over both squeeze the expert's region into a sliver of
    the normalised space, where the discriminator can hardly tell expert-like
    behaviour from the generator's near misses. If False, every discriminator
    batch updates the statistics."""

    def __init__(
        self,
        *,
        demonstrations: base.AnyTransitions,
        demo_batch_size: int,
        venv: vec_env.VecEnv,
        gen_algo: base_class.BaseAlgorithm,
        reward_net: reward_nets.RewardNet,
        demo_minibatch_size: int | None = None,
        n_disc_updates_per_round: int = 2,
        log_dir: types.AnyPath = "output/",
        disc_opt_cls: type[th.optim.Optimizer] = th.optim.Adam,
        disc_opt_kwargs: Mapping[str, Any] | None = None,
        gen_train_timesteps: int | None = None,
        gen_replay_buffer_capacity: int | None = None,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        init_tensorboard: bool = False,
        init_tensorboard_graph: bool = False,
        debug_use_ground_truth: bool = False,
        allow_variable_horizon: bool = False,
    ) -> None:
        """Build the trainer.

        Args:
            demonstrations: Expert demonstrations.
            demo_batch_size: Expert samples per discriminator step (the batch
                also holds as many generated samples).
            venv: The environment.
            gen_algo: The generator; its env and logger are replaced.
            reward_net: The discriminator's reward network.
            demo_minibatch_size: Expert samples per gradient computation
                (gradients accumulate to ``demo_batch_size``); must divide it.
            n_disc_updates_per_round: Discriminator steps per round.
            log_dir: Directory for TensorBoard discriminator summaries.
            disc_opt_cls: Discriminator optimiser class.
            disc_opt_kwargs: Its keyword arguments, on top of
                ``DEFAULT_DISC_OPT_KWARGS`` (a learning rate of 3e-3).
            gen_train_timesteps: Generator env steps per round. Defaults to one
                rollout of an on-policy ``gen_algo`` (``n_steps * n_envs``); for
                an off-policy one (DQN, SAC, ...), which has no rollout length,
                to ``demo_batch_size`` rounded up to a multiple of ``n_envs``, so
                that each round collects one discriminator batch of fresh
                generated transitions.
            gen_replay_buffer_capacity: Generated transitions kept for the
                discriminator; defaults to ``gen_train_timesteps``.
            custom_logger: Where to log to; if None, a new logger is created.
            init_tensorboard: Write discriminator statistics with TensorBoard.
            init_tensorboard_graph: Also write the discriminator's graph.
            debug_use_ground_truth: Train the generator on the env's reward.
            allow_variable_horizon: See ``BaseImitationAlgorithm``.

        Raises:
            ValueError: For a batch size that is not a positive multiple of the
                minibatch size, or demonstrations that do not fit (see
                :meth:`set_demonstrations`).
            TypeError: If ``venv`` is not a ``VecEnv`` (e.g. a plain
                ``gym.Env``), a batch size is not an int, or the demonstrations
                are missing or none of the accepted forms.
        """
        util.check_vec_env(venv)
        base.check_demonstrations_type(demonstrations)
        self.demo_batch_size = util.check_positive_int(
            demo_batch_size, "demo_batch_size"
        )
        self.demo_minibatch_size = (
            demo_batch_size
            if demo_minibatch_size is None
            else util.check_positive_int(demo_minibatch_size, "demo_minibatch_size")
        )
        if demo_batch_size % self.demo_minibatch_size:
            raise ValueError(
                f"demo_batch_size={demo_batch_size} must be a positive multiple of "
                f"demo_minibatch_size={self.demo_minibatch_size}.",
            )
        self._endless_expert_iterator: Iterator[Mapping[str, Any]] | None = None
        self.venv = venv
        # Seeded from the generator's seed, so a seeded run is reproducible.
        self._rng = np.random.default_rng(gen_algo.seed)
        super().__init__(
            demonstrations=None,
            custom_logger=custom_logger,
            allow_variable_horizon=allow_variable_horizon,
        )
        self._global_step = 0
        self._disc_step = 0
        self.n_disc_updates_per_round = n_disc_updates_per_round
        self.debug_use_ground_truth = debug_use_ground_truth
        self.gen_algo = gen_algo
        self._reward_net = reward_net.to(gen_algo.device)
        self._log_dir = util.parse_path(log_dir)
        self._disc_opt = disc_opt_cls(
            self._reward_net.parameters(),
            **{**DEFAULT_DISC_OPT_KWARGS, **(disc_opt_kwargs or {})},
        )
        self._summary_writer = None
        if init_tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._summary_writer = SummaryWriter(str(self._log_dir / "disc_summary"))
        self._init_tensorboard_graph = init_tensorboard_graph

        self.venv_buffering = wrappers.BufferingWrapper(self.venv)
        if not debug_use_ground_truth and isinstance(
            gen_algo, off_policy_algorithm.OffPolicyAlgorithm
        ):
            _check_fresh(gen_algo)
        self._learner = learner_on_reward.LearnerOnReward(
            gen_algo,
            self.venv_buffering,
            None if debug_use_ground_truth else self.reward_train.predict_processed,
            self.logger,
            log_name="gen",
            defer_rewards=True,
        )
        self.gen_callback: Any = self._learner.callback
        self.venv_wrapped = self._learner.venv_wrapped
        self.venv_train = self.venv_wrapped
        if gen_train_timesteps is None:
            n_envs = self.venv.num_envs
            if isinstance(gen_algo, on_policy_algorithm.OnPolicyAlgorithm):
                gen_train_timesteps = gen_algo.n_steps * n_envs
            else:
                gen_train_timesteps = -(-demo_batch_size // n_envs) * n_envs
        self.gen_train_timesteps = gen_train_timesteps
        self._gen_replay_buffer = buffer.ReplayBuffer(
            gen_replay_buffer_capacity or gen_train_timesteps, self.venv, rng=self._rng
        )
        self.set_demonstrations(demonstrations)

    # --- What subclasses define -------------------------------------------------

    @abc.abstractmethod
    def logits_expert_is_high(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
        log_policy_act_prob: th.Tensor | None = None,
    ) -> th.Tensor:
        """The discriminator's logits, high for expert-like transitions."""

    @property
    @abc.abstractmethod
    def reward_train(self) -> reward_nets.RewardNet:
        """The reward the generator is trained on."""

    @property
    @abc.abstractmethod
    def reward_test(self) -> reward_nets.RewardNet:
        """The reward to train a fresh policy on after adversarial training."""

    @property
    def reward_net(self) -> reward_nets.RewardNet:
        """The discriminator's reward network, as passed to the constructor."""
        return self._reward_net

    # --- Demonstrations and properties --------------------------------------------

    def set_demonstrations(self, demonstrations: base.AnyTransitions) -> None:
        """Use ``demonstrations`` as the expert data.

        Raises:
            ValueError: If the demonstrations are empty, hold fewer transitions
                than ``demo_batch_size``, do not fit the env's spaces, or (as
                trajectories) have different lengths without
                ``allow_variable_horizon``.
            TypeError: If they are none of the accepted forms.
        """
        demos = self._normalize_demonstrations(
            demonstrations, self.venv.observation_space, self.venv.action_space
        )
        if demos.batches is None and len(demos.transitions) < self.demo_batch_size:
            raise ValueError(
                f"demo_batch_size={self.demo_batch_size} is larger than the "
                f"{len(demos.transitions)} demonstration transitions: lower it or "
                "give more demonstrations.",
            )
        loader = demos.data_loader(self.demo_batch_size, rng=self._rng)
        self._endless_expert_iterator = util.endless_iter(loader)

    @property
    def policy(self) -> policies.BasePolicy:
        """The generator's policy."""
        return self.gen_algo.policy

    def _next_expert_batch(self) -> Mapping[str, Any]:
        assert self._endless_expert_iterator is not None
        return next(self._endless_expert_iterator)

    # --- Training -------------------------------------------------------------

    def train_gen(
        self,
        total_timesteps: int | None = None,
        learn_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        """Train the generator, then store its new transitions for the discriminator.

        Args:
            total_timesteps: Env steps (default ``gen_train_timesteps``).
            learn_kwargs: Extra arguments for ``gen_algo.learn``.
        """
        self._learner.learn(
            total_timesteps or self.gen_train_timesteps, **(learn_kwargs or {})
        )
        self._global_step += 1
        trajs, _ = self.venv_buffering.pop_trajectories()
        self._check_fixed_horizon(self.venv_buffering.pop_episode_lengths())
        transitions = rollout.flatten_trajectories(trajs)
        # Store in random order: when the buffer is smaller than a round, a
        # FIFO buffer would otherwise keep only the round's last transitions,
        # which are the starts of the episodes still running (the fragments
        # come last) and unrepresentative of what the generator does.
        order = self._rng.permutation(len(transitions))
        self._gen_replay_buffer.store(transitions[order])

    def _policy_log_prob(self, obs: th.Tensor, acts: th.Tensor) -> th.Tensor | None:
        return None

    def _make_disc_batches(
        self,
        expert_samples: Mapping[str, Any] | None,
        gen_samples: Mapping[str, Any] | None,
    ) -> Iterator[_DiscBatch]:
        n = self.demo_batch_size
        if expert_samples is None:
            expert_samples = self._next_expert_batch()
        if gen_samples is None:
            if self._gen_replay_buffer.size() == 0:
                raise RuntimeError("No generator samples yet: call train_gen() first.")
            gen_samples = types.dataclass_quick_asdict(
                self._gen_replay_buffer.sample(n)
            )
        for name, samples in (("expert", expert_samples), ("gen", gen_samples)):
            obs = samples["obs"]
            # A dict of per-key arrays (dict observations): its length is the
            # number of keys, not of samples.
            n_obs = (
                len(next(iter(obs.values()))) if isinstance(obs, Mapping) else len(obs)
            )
            if n_obs != n:
                raise ValueError(
                    f"{name}_samples has {n_obs} samples; need demo_batch_size={n}.",
                )

        # Expert batches are tensors already: the generator's arrays join them
        # as tensors (sharing memory), with no round trip through numpy.
        fields = ("obs", "acts", "next_obs", "dones")
        cat = {f: _concatenate(expert_samples[f], gen_samples[f]) for f in fields}
        labels = np.concatenate([np.ones(n), np.zeros(n)])
        state, action, next_state, done = self._reward_net.preprocess(
            *(cat[f] for f in fields)
        )
        labels_th = th.as_tensor(labels, device=self._reward_net.device)
        with th.no_grad():
            log_prob = self._policy_log_prob(
                types.to_tensor_maybe_dict(cat["obs"], self.gen_algo.device),
                types.to_tensor_maybe_dict(cat["acts"], self.gen_algo.device),
            )
        m = self.demo_minibatch_size
        for start in range(0, n, m):
            # Each minibatch keeps the expert/generator balance of the batch.
            idx = th.cat(
                [th.arange(start, start + m), th.arange(n + start, n + start + m)]
            )

            yield _DiscBatch(
                state=types.index_maybe_dict(state, idx),
                action=types.index_maybe_dict(action, idx),
                next_state=types.index_maybe_dict(next_state, idx),
                done=types.index_maybe_dict(done, idx),
                labels_expert_is_one=labels_th[idx],
                log_policy_act_prob=None if log_prob is None else log_prob[idx],
            )

    def _disc_forward_context(
        self, batch: _DiscBatch
    ) -> contextlib.AbstractContextManager[None]:
        """Update normalisation statistics for ``batch``; return the forward's context.

        With ``expert_input_stats``, the batch's expert half updates layers
        such as ``RunningNorm`` in a separate pass and the returned context
        freezes them for the discriminator's forward pass; otherwise that
        forward pass updates them with the whole batch, as usual.
        """
        if not self.expert_input_stats:
            return contextlib.nullcontext()
        rows = batch.labels_expert_is_one > 0.5
        with th.no_grad():
            self._reward_net(
                types.index_maybe_dict(batch.state, rows),
                types.index_maybe_dict(batch.action, rows),
                types.index_maybe_dict(batch.next_state, rows),
                types.index_maybe_dict(batch.done, rows),
            )
        return _frozen_norm_layers(self._reward_net)

    def train_disc(
        self,
        *,
        expert_samples: Mapping[str, Any] | None = None,
        gen_samples: Mapping[str, Any] | None = None,
    ) -> Mapping[str, float]:
        """One discriminator step on expert and generated samples.

        Args:
            expert_samples: ``demo_batch_size`` expert transitions (dict with
                ``obs``, ``acts``, ``next_obs``, ``dones``; arrays or tensors);
                default: the next batch of the demonstrations.
            gen_samples: As many generated transitions; default: sampled from
                the generator replay buffer.

        Returns:
            The statistics of :func:`compute_train_stats`.
        """
        with self.logger.accumulate_means("disc"), networks.training(self._reward_net):
            self._disc_opt.zero_grad()
            logits_all, labels_all, loss_total = [], [], th.zeros(())
            scale = self.demo_minibatch_size / self.demo_batch_size
            for batch in self._make_disc_batches(expert_samples, gen_samples):
                if self._summary_writer is not None and self._init_tensorboard_graph:
                    self._summary_writer.add_graph(
                        self._reward_net,
                        (batch.state, batch.action, batch.next_state, batch.done),
                    )
                    self._init_tensorboard_graph = False  # once is enough
                with self._disc_forward_context(batch):
                    logits = self.logits_expert_is_high(
                        batch.state,
                        batch.action,
                        batch.next_state,
                        batch.done,
                        batch.log_policy_act_prob,
                    )
                loss = functional.binary_cross_entropy_with_logits(
                    logits, batch.labels_expert_is_one.float()
                )
                (loss * scale).backward()
                loss_total = loss_total + loss.detach().cpu() * scale
                logits_all.append(logits.detach())
                labels_all.append(batch.labels_expert_is_one)
            self._disc_opt.step()
            self._disc_step += 1
            stats = compute_train_stats(
                th.cat(logits_all), th.cat(labels_all), loss_total
            )
            self.logger.record("global_step", self._global_step)
            for key, value in stats.items():
                self.logger.record(key, value)
            self.logger.dump(self._disc_step)
            if self._summary_writer is not None:
                for key, value in stats.items():
                    self._summary_writer.add_scalar(
                        f"disc/{key}", value, self._disc_step
                    )
        return stats

    def train(
        self,
        total_timesteps: int,
        callback: Callable[[int], None] | None = None,
        progress_bar: bool = True,
    ) -> None:
        """Alternate generator and discriminator training.

        Each round is ``train_gen(gen_train_timesteps)``, then
        ``n_disc_updates_per_round`` calls of ``train_disc``, then
        ``callback(round)``; rounds stop before exceeding ``total_timesteps``.

        Args:
            total_timesteps: Generator environment steps, in total; the
                generator's schedules (e.g. a decaying learning rate) run once
                over the rounds, not once per round.
            callback: Called with the round number after each round.
            progress_bar: Show a bar of the rounds (in a terminal only).

        Raises:
            ValueError: If ``total_timesteps`` is less than one round.
        """
        n_rounds = total_timesteps // self.gen_train_timesteps
        if n_rounds < 1:
            raise ValueError(
                f"total_timesteps={total_timesteps} is less than one round of "
                f"gen_train_timesteps={self.gen_train_timesteps}.",
            )
        with (
            self._learner.training_run(n_rounds * self.gen_train_timesteps),
            progress.progress_bar(
                n_rounds, desc=type(self).__name__, unit="round", enabled=progress_bar
            ) as bar,
        ):
            for round_num in range(n_rounds):
                self.train_gen(self.gen_train_timesteps)
                for _ in range(self.n_disc_updates_per_round):
                    self.train_disc()
                if callback is not None:
                    callback(round_num)
                self.logger.dump(self._global_step)
                bar.update(1)
