"""Reward post-processing: normalisation and ensembles."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from torch import nn

from imitation.rewards.reward_nets.base import PredictProcessedWrapper, RewardNet
from imitation.util import networks


class NormalizedRewardNet(PredictProcessedWrapper):
    """Standardise ``predict_processed`` rewards with the base reward's statistics."""

    def __init__(
        self,
        base: RewardNet,
        normalize_output_layer: type[networks.BaseNorm],
    ) -> None:
        """Wrap ``base``; ``normalize_output_layer`` is e.g. ``RunningNorm``."""
        super().__init__(base)
        self.normalize_output_layer = normalize_output_layer(1)

    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        update_stats: bool = True,
        **kwargs: Any,
    ) -> np.ndarray:
        """Normalised rewards; with ``update_stats`` the statistics include this batch.

        The statistics are updated after normalising, from the base net's
        processed rewards.
        """
        rew = self.base.predict_processed(state, action, next_state, done, **kwargs)
        rew_th = th.as_tensor(rew, device=self.device, dtype=th.float32).reshape(-1, 1)
        with networks.predicting(self):
            normalized = self.normalize_output_layer(rew_th).reshape(-1)
        if update_stats:
            with th.no_grad():
                self.normalize_output_layer.update_stats(rew_th)
        return normalized.cpu().numpy()


class RewardNetWithVariance(RewardNet):
    """A reward net that also estimates its uncertainty: a mean and a variance.

    :class:`AddSTDRewardWrapper` turns the two into ``mean + alpha * std``.
    """

    @abc.abstractmethod
    def predict_reward_moments(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the reward of each transition, each ``(batch,)``.

        Args:
            state: Observations, raw (as ``predict`` takes them).
            action: Actions.
            next_state: Next observations.
            done: Episode-end flags.
            kwargs: Passed to the processing of the underlying predictions.
        """


class RewardEnsemble(RewardNetWithVariance):
    """Several reward nets on the same spaces; predictions report their spread."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        members: Iterable[RewardNet],
    ) -> None:
        """Build the ensemble.

        Raises:
            ValueError: With fewer than two members, or members on other spaces.
        """
        super().__init__(observation_space, action_space)
        members = list(members)
        if len(members) < 2:
            raise ValueError("A RewardEnsemble needs at least two members.")
        for member in members:
            if (member.observation_space, member.action_space) != (
                observation_space,
                action_space,
            ):
                raise ValueError("All members must use the ensemble's spaces.")
        self.members = nn.ModuleList(members)

    @property
    def num_members(self) -> int:
        """Number of members."""
        return len(self.members)

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Every member's rewards, shape ``(batch, num_members)``."""
        return th.stack(
            [m(state, action, next_state, done) for m in self.members], dim=-1
        )

    def predict_processed_all(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> np.ndarray:
        """Each member's processed rewards, shape ``(batch, num_members)``."""
        return np.stack(
            [
                cast(RewardNet, m).predict_processed(
                    state, action, next_state, done, **kwargs
                )
                for m in self.members
            ],
            axis=-1,
        )

    def predict_reward_moments(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the members' processed rewards, each ``(batch,)``."""
        all_rewards = self.predict_processed_all(
            state, action, next_state, done, **kwargs
        )
        return all_rewards.mean(-1), all_rewards.var(-1, ddof=1)

    def predict_th(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        """The members' mean reward, shape ``(batch,)``."""
        with networks.predicting(self):
            return self(*self.preprocess(state, action, next_state, done)).mean(-1)

    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> np.ndarray:
        """The mean of the members' processed rewards."""
        return self.predict_reward_moments(state, action, next_state, done, **kwargs)[0]


class AddSTDRewardWrapper(PredictProcessedWrapper):
    """Processed reward ``mean + alpha * std`` over a :class:`RewardNetWithVariance`.

    A negative ``alpha`` gives a conservative reward that penalises states
    where the estimate is uncertain (for an ensemble: where the members
    disagree).
    """

    def __init__(self, base: RewardNetWithVariance, default_alpha: float = 0.0) -> None:
        """Wrap a net that estimates its variance, e.g. a ``RewardEnsemble``.

        Raises:
            TypeError: If ``base`` is not a ``RewardNetWithVariance``.
        """
        if not isinstance(base, RewardNetWithVariance):
            raise TypeError(
                "AddSTDRewardWrapper needs a RewardNetWithVariance (e.g. a "
                f"RewardEnsemble), got {type(base).__name__}.",
            )
        super().__init__(base)
        self.default_alpha = default_alpha

    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        alpha: float | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """``mean + alpha * std`` (``alpha`` defaults to ``default_alpha``)."""
        alpha = self.default_alpha if alpha is None else alpha
        base = cast(RewardNetWithVariance, self.base)
        mean, var = base.predict_reward_moments(
            state, action, next_state, done, **kwargs
        )
        return mean + alpha * np.sqrt(var)
