"""The Bradley-Terry preference model over fragment returns.

The probability that fragment 1 is preferred over fragment 2 is
``sigmoid(R1 - R2)``, where ``R`` is a fragment's (discounted) return under the
reward net, with the difference clipped to ``[-threshold, threshold]``, and
mixed with a uniform choice with probability ``noise_prob``. All fragments
of a batch are evaluated by one forward pass of the reward net.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch as th
from torch import nn

from imitation.data import rollout, types
from imitation.rewards import reward_nets

TrajectoryPair = types.TrajectoryPair
TrajectoryWithRewPair = types.TrajectoryWithRewPair


def get_base_model(reward_model: reward_nets.RewardNet) -> reward_nets.RewardNet:
    """The innermost net of a chain of reward-net wrappers.

    Args:
        reward_model: A reward net, possibly wrapped (``NormalizedRewardNet``,
            ``ShapedRewardNet``, ``AddSTDRewardWrapper``, ...).

    Returns:
        The net that the wrappers wrap (``reward_model`` itself if it is not a
        wrapper).
    """
    while isinstance(reward_model, reward_nets.RewardNetWrapper):
        reward_model = reward_model.base
    return reward_model


def _unwrap_ensemble(model: reward_nets.RewardNet) -> reward_nets.RewardEnsemble | None:
    """The ensemble ``model`` is or wraps (through processing wrappers), if any."""
    while isinstance(model, reward_nets.PredictProcessedWrapper):
        model = model.base
    return model if isinstance(model, reward_nets.RewardEnsemble) else None


def fragments_as_transitions(
    fragments: Sequence[types.Trajectory],
) -> tuple[types.Observation, np.ndarray, types.Observation, np.ndarray]:
    """Concatenate the transitions of ``fragments``: state, action, next state, done.

    ``done`` is True only at the last step of a fragment that ends its episode
    (see :func:`imitation.data.rollout.transition_arrays`).

    Raises:
        ValueError: If ``fragments`` is empty.
    """
    if len(fragments) == 0:
        raise ValueError("No fragments given.")
    return rollout.transition_arrays(fragments)


def discounted_returns_np(
    fragments: Sequence[types.TrajectoryWithRew], discount_factor: float
) -> np.ndarray:
    """The true discounted return of each fragment, shape ``(len(fragments),)``.

    Raises:
        TypeError: If a fragment has no rewards.
    """
    if not all(isinstance(f, types.TrajectoryWithRew) for f in fragments):
        raise TypeError(
            "Fragments without rewards: synthetic preferences need the true "
            "rewards (types.TrajectoryWithRew), e.g. from rollout.rollout.",
        )
    if len({len(f) for f in fragments}) == 1:  # one sum over the time axis
        rews = np.stack([f.rews for f in fragments], axis=1)
        return np.asarray(rollout.discounted_sum(rews, discount_factor))
    return np.array(
        [rollout.discounted_sum(f.rews, discount_factor) for f in fragments]
    )


class PreferenceModel(nn.Module):
    """Probability that one fragment is preferred over another, from a reward net.

    With a :class:`~imitation.rewards.reward_nets.RewardEnsemble` (or a
    processing wrapper around one, such as ``AddSTDRewardWrapper``) every
    member gives its own probabilities: outputs gain a last axis of size
    ``num_members``.
    """

    def __init__(
        self,
        model: reward_nets.RewardNet,
        noise_prob: float = 0.0,
        discount_factor: float = 1.0,
        threshold: float = 50.0,
    ) -> None:
        """Build the model.

        Args:
            model: The reward net whose returns are compared.
            noise_prob: Probability that a preference is a uniformly random
                choice instead of following the returns.
            discount_factor: Discount applied within a fragment.
            threshold: Return differences are clipped to
                ``[-threshold, threshold]`` (keeps the logits finite).

        Raises:
            ValueError: If ``noise_prob`` is outside [0, 1), ``discount_factor``
                outside (0, 1], or ``threshold`` not positive.
        """
        super().__init__()
        if not 0.0 <= noise_prob < 1.0:
            raise ValueError(f"noise_prob={noise_prob} must be in [0, 1).")
        if not 0.0 < discount_factor <= 1.0:
            raise ValueError(f"discount_factor={discount_factor} must be in (0, 1].")
        if not threshold > 0:
            raise ValueError(f"threshold={threshold} must be positive.")
        self.model = model
        self.noise_prob = noise_prob
        self.discount_factor = discount_factor
        self.threshold = threshold
        self.ensemble_model = _unwrap_ensemble(model)

    @property
    def is_ensemble(self) -> bool:
        """Whether the reward net is an ensemble."""
        return self.ensemble_model is not None

    def returns(self, fragment_pairs: Sequence[TrajectoryPair]) -> th.Tensor:
        """Differentiable fragment returns under the reward net.

        Args:
            fragment_pairs: The pairs.

        Returns:
            Shape ``(n_pairs, 2)``, or ``(n_pairs, 2, num_members)`` for an
            ensemble.

        Raises:
            ValueError: If ``fragment_pairs`` is empty.
        """
        if len(fragment_pairs) == 0:
            raise ValueError("No fragment pairs given.")
        fragments = [f for pair in fragment_pairs for f in pair]
        net = self.ensemble_model or self.model
        state, acts, next_state, done = fragments_as_transitions(fragments)
        inputs = net.preprocess(
            types.maybe_unwrap_dictobs(state),  # type: ignore[arg-type]
            acts,
            types.maybe_unwrap_dictobs(next_state),  # type: ignore[arg-type]
            done,
        )
        rewards = net(*inputs)  # (n_transitions,) or (n_transitions, members)
        lengths = [len(f) for f in fragments]
        device = rewards.device
        members = rewards.shape[1:]  # () or (num_members,)
        if len(set(lengths)) == 1:
            rewards = rewards.reshape(len(fragments), lengths[0], *members)
            weights = self.discount_factor ** th.arange(
                lengths[0], device=device, dtype=rewards.dtype
            )
            per_fragment = th.tensordot(weights, rewards, dims=([0], [1]))
        else:
            lengths_th = th.as_tensor(lengths, device=device)
            fragment_ids = th.repeat_interleave(
                th.arange(len(fragments), device=device), lengths_th
            )
            starts = th.cumsum(lengths_th, 0) - lengths_th
            steps = th.arange(len(rewards), device=device) - starts[fragment_ids]
            weights = (self.discount_factor**steps).to(rewards.dtype)
            weights = weights.reshape(-1, *([1] * (rewards.ndim - 1)))
            per_fragment = th.zeros(
                len(fragments), *rewards.shape[1:], device=device, dtype=rewards.dtype
            ).index_add_(0, fragment_ids, rewards * weights)
        return per_fragment.reshape(len(fragment_pairs), 2, *members)

    def logits(self, returns: th.Tensor) -> th.Tensor:
        """Clipped return differences ``R1 - R2`` from :meth:`returns`' output."""
        return th.clamp(returns[:, 0] - returns[:, 1], -self.threshold, self.threshold)

    def log_probs(self, logits: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Log-probabilities that fragment 1, and fragment 2, is preferred.

        Computed stably (no ``log(0)``) from the logits, noise included.
        """
        log_p1, log_p2 = (
            th.nn.functional.logsigmoid(logits),
            th.nn.functional.logsigmoid(-logits),
        )
        if self.noise_prob == 0.0:
            return log_p1, log_p2
        log_uniform = np.log(self.noise_prob / 2)
        log_keep = np.log1p(-self.noise_prob)
        return (
            th.logaddexp(log_p1 + log_keep, th.full_like(log_p1, log_uniform)),
            th.logaddexp(log_p2 + log_keep, th.full_like(log_p2, log_uniform)),
        )

    def probability(self, logits: th.Tensor) -> th.Tensor:
        """Probability that fragment 1 is preferred, noise included."""
        return self.noise_prob / 2 + (1 - self.noise_prob) * th.sigmoid(logits)

    def true_logits(self, fragment_pairs: Sequence[TrajectoryPair]) -> th.Tensor | None:
        """Clipped true return differences, or None if fragments lack rewards."""
        fragments = [f for pair in fragment_pairs for f in pair]
        if not all(isinstance(f, types.TrajectoryWithRew) for f in fragments):
            return None
        true_returns = discounted_returns_np(
            fragments,  # type: ignore[arg-type]
            self.discount_factor,
        ).reshape(-1, 2)
        return self.logits(th.as_tensor(true_returns))

    def forward(
        self, fragment_pairs: Sequence[TrajectoryPair]
    ) -> tuple[th.Tensor, th.Tensor | None]:
        """Predicted and ground-truth probabilities that fragment 1 is preferred.

        Args:
            fragment_pairs: The pairs.

        Returns:
            The model's probabilities (shape ``(n_pairs,)``, or
            ``(n_pairs, num_members)`` for an ensemble), and the probabilities
            the same model gives with the true rewards (shape ``(n_pairs,)``),
            or None if the fragments have no rewards.
        """
        probs = self.probability(self.logits(self.returns(fragment_pairs)))
        true_logits = self.true_logits(fragment_pairs)
        if true_logits is None:
            return probs, None
        return probs, self.probability(true_logits.to(probs))
