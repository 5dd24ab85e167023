"""Reward networks: differentiable ``forward`` for training, ``predict*`` for RL.

``forward(state, action, next_state, done)`` takes preprocessed tensors and is
what reward learning differentiates. ``predict_th``/``predict`` take raw numpy
batches, preprocess them (tensors on the net's device, one-hot encoding of
discrete spaces, image scaling) and evaluate without gradients.
``predict_processed`` adds post-processing meant for policy training, such as
normalisation (:class:`NormalizedRewardNet`).

Every net here can be saved with ``th.save(net, path)`` and loaded with
``th.load(path)`` (``weights_only=True`` works; see
:mod:`imitation.rewards.persistence`) or ``imitation.rewards.serialize.load_reward``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import preprocessing
from torch import nn

from imitation.rewards.persistence import SavableModule
from imitation.util import networks, util


def cnn_transpose(tensor: th.Tensor) -> th.Tensor:
    """Transpose a batch of images from ``(N, H, W, C)`` to ``(N, C, H, W)``.

    Raises:
        ValueError: If ``tensor`` is not 4-dimensional.
    """
    if tensor.dim() != 4:
        raise ValueError(
            f"cnn_transpose needs a 4-D tensor, got shape {tuple(tensor.shape)}."
        )
    return th.permute(tensor, (0, 3, 1, 2))


class RewardNet(SavableModule, nn.Module, abc.ABC):
    """Base class of reward networks: maps transitions to rewards."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        normalize_images: bool = True,
    ) -> None:
        """Set up the spaces.

        Args:
            observation_space: The environment's observation space.
            action_space: The environment's action space.
            normalize_images: Scale image observations to [0, 1] in ``preprocess``.
        """
        super().__init__()
        self.observation_space = observation_space
        self.action_space = action_space
        self.normalize_images = normalize_images

    @abc.abstractmethod
    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Rewards for a batch of preprocessed transitions, shape ``(batch,)``."""

    def _check_batch(self, state: Any, action: Any, next_state: Any, done: Any) -> int:
        n = len(done)
        expected = self.observation_space.shape
        for name, value in (("state", state), ("next_state", next_state)):
            if isinstance(value, dict) or expected is None:
                continue
            shape = tuple(np.shape(value))[1:]
            if shape != tuple(expected):
                raise ValueError(
                    f"{name} has per-sample shape {shape}, but the reward net's "
                    f"observation space {self.observation_space} needs "
                    f"{tuple(expected)}.",
                )
        lengths = {
            len(x) if not isinstance(x, dict) else n
            for x in (state, action, next_state)
        }
        if lengths != {n}:
            raise ValueError(
                f"Batch lengths differ: state, action, next_state and done must all "
                f"have {n} entries.",
            )
        return n

    def preprocess(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Turn numpy batches into tensors ready for :meth:`forward`.

        Tensors go on the net's device; discrete observations and actions are
        one-hot encoded, images scaled (if ``normalize_images``), and ``done``
        is cast to float.

        Raises:
            ValueError: If shapes do not match the net's spaces or each other.
        """
        self._check_batch(state, action, next_state, done)
        device = self.device

        def to_th(x: Any) -> Any:
            if isinstance(x, dict):
                return {k: util.safe_to_tensor(v, device=device) for k, v in x.items()}
            return util.safe_to_tensor(x, device=device)

        state_th = preprocessing.preprocess_obs(
            to_th(state), self.observation_space, self.normalize_images
        )
        action_th = preprocessing.preprocess_obs(
            to_th(action), self.action_space, self.normalize_images
        )
        next_state_th = preprocessing.preprocess_obs(
            to_th(next_state), self.observation_space, self.normalize_images
        )
        done_th = util.safe_to_tensor(done, device=device).to(th.float32)
        return state_th, action_th, next_state_th, done_th  # type: ignore[return-value]

    def predict_th(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        """Rewards for raw numpy batches, as a tensor, without gradients.

        Evaluated in eval mode (the net's mode is restored afterwards).

        Raises:
            ValueError: If the net returns a shape other than ``(batch,)``.
        """
        with networks.evaluating(self), th.no_grad():
            inputs = self.preprocess(state, action, next_state, done)
            rew = self(*inputs)
        if rew.shape != (len(done),):
            raise ValueError(
                f"The reward net returned shape {tuple(rew.shape)}; expected "
                f"({len(done)},).",
            )
        return rew

    def predict(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> np.ndarray:
        """Rewards for raw numpy batches, as a numpy array."""
        return self.predict_th(state, action, next_state, done).cpu().numpy()

    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> np.ndarray:
        """Rewards for policy training; the base class applies no processing."""
        del kwargs
        return self.predict(state, action, next_state, done)

    @property
    def device(self) -> th.device:
        """The device of the net's parameters (CPU if it has none)."""
        first = next(self.parameters(), None)
        return first.device if first is not None else th.device("cpu")

    @property
    def dtype(self) -> th.dtype:
        """The dtype of the net's parameters (float32 if it has none)."""
        first = next(self.parameters(), None)
        return first.dtype if first is not None else th.float32


class RewardNetWrapper(RewardNet):
    """A reward net that wraps another (``base``), sharing its spaces."""

    def __init__(self, base: RewardNet) -> None:
        """Wrap ``base``."""
        super().__init__(
            base.observation_space, base.action_space, base.normalize_images
        )
        self._base = base

    @property
    def base(self) -> RewardNet:
        """The wrapped net."""
        return self._base

    def preprocess(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Preprocess as the wrapped net does."""
        return self.base.preprocess(state, action, next_state, done)


class ForwardWrapper(RewardNetWrapper):
    """A wrapper that changes ``forward`` (differentiably); applies everywhere."""


class PredictProcessedWrapper(RewardNetWrapper):
    """A wrapper that changes only ``predict_processed`` (policy-training rewards)."""

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """The wrapped net's ``forward``."""
        return self.base(state, action, next_state, done)

    @abc.abstractmethod
    def predict_processed(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        **kwargs: Any,
    ) -> np.ndarray:
        """Processed rewards for policy training."""

    def predict_th(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        """The wrapped net's unprocessed prediction."""
        return self.base.predict_th(state, action, next_state, done)


def _flat_dim(space: gym.Space) -> int:
    return int(preprocessing.get_flattened_obs_dim(space))


class BasicRewardNet(RewardNet):
    """An MLP reward on the concatenation of the selected, flattened inputs."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        use_state: bool = True,
        use_action: bool = True,
        use_next_state: bool = False,
        use_done: bool = False,
        **kwargs: Any,
    ) -> None:
        """Build the net.

        Args:
            observation_space: The environment's observation space.
            action_space: The environment's action space.
            use_state: Input the state.
            use_action: Input the action.
            use_next_state: Input the next state.
            use_done: Input the done flag.
            kwargs: Passed to ``build_mlp`` (e.g. ``hid_sizes``, default
                ``(32, 32)``; ``normalize_input_layer``).

        Raises:
            ValueError: If no input is selected.
        """
        super().__init__(observation_space, action_space)
        self.use_state, self.use_action = use_state, use_action
        self.use_next_state, self.use_done = use_next_state, use_done
        in_size = (
            use_state * _flat_dim(observation_space)
            + use_action * _flat_dim(action_space)
            + use_next_state * _flat_dim(observation_space)
            + use_done
        )
        if in_size == 0:
            raise ValueError("BasicRewardNet needs at least one use_* input.")
        mlp_kwargs = {"hid_sizes": (32, 32), **kwargs, "squeeze_output": True}
        self.mlp = networks.build_mlp(in_size=in_size, **mlp_kwargs)

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Rewards, shape ``(batch,)``."""
        inputs = []
        if self.use_state:
            inputs.append(th.flatten(state, 1))
        if self.use_action:
            inputs.append(th.flatten(action, 1))
        if self.use_next_state:
            inputs.append(th.flatten(next_state, 1))
        if self.use_done:
            inputs.append(th.reshape(done, (-1, 1)))
        return self.mlp(th.cat(inputs, dim=1))


def _image_channels(space: gym.Space, hwc_format: bool) -> int:
    if not preprocessing.is_image_space(space, check_channels=False):
        raise ValueError(f"A CNN reward net needs image observations, got {space}.")
    shape = cast(tuple[int, ...], space.shape)
    return shape[-1] if hwc_format else shape[0]


class CnnRewardNet(RewardNet):
    """A CNN reward on image observations.

    States (and next states) are stacked along the channel axis. With
    ``use_action`` the net outputs one value per discrete action and the taken
    action's is returned; with ``use_done`` it outputs one set per done value.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        use_state: bool = True,
        use_action: bool = True,
        use_next_state: bool = False,
        use_done: bool = False,
        hwc_format: bool = True,
        **kwargs: Any,
    ) -> None:
        """Build the net.

        Args:
            observation_space: An image observation space.
            action_space: A ``Discrete`` action space (if ``use_action``).
            use_state: Input the state.
            use_action: Select the output of the taken action.
            use_next_state: Input the next state.
            use_done: Select the output for the done flag.
            hwc_format: Observations are ``(H, W, C)`` (transposed for the
                convolutions); otherwise ``(C, H, W)``.
            kwargs: Passed to ``build_cnn`` (e.g. ``hid_channels``, default
                ``(32, 32)``).

        Raises:
            ValueError: If the spaces do not fit or no state input is selected.
        """
        super().__init__(observation_space, action_space)
        if not (use_state or use_next_state):
            raise ValueError("CnnRewardNet needs use_state or use_next_state.")
        if use_action and not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(
                "CnnRewardNet with use_action needs a Discrete action space."
            )
        self.use_state, self.use_action = use_state, use_action
        self.use_next_state, self.use_done = use_next_state, use_done
        self.hwc_format = hwc_format
        channels = _image_channels(observation_space, hwc_format)
        in_channels = channels * (use_state + use_next_state)
        n_actions = int(action_space.n) if use_action else 1  # type: ignore[attr-defined]
        self._out_shape = (2 if use_done else 1, n_actions)
        cnn_kwargs = {"hid_channels": (32, 32), **kwargs}
        self.cnn = networks.build_cnn(
            in_channels=in_channels,
            out_size=self._out_shape[0] * self._out_shape[1],
            **cnn_kwargs,
        )

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Rewards, shape ``(batch,)``."""
        images = []
        if self.use_state:
            images.append(cnn_transpose(state) if self.hwc_format else state)
        if self.use_next_state:
            images.append(cnn_transpose(next_state) if self.hwc_format else next_state)
        out = self.cnn(th.cat(images, dim=1)).view(-1, *self._out_shape)
        out = out[th.arange(len(out)), done.long()] if self.use_done else out[:, 0]
        if self.use_action:
            return (out * action).sum(dim=1)  # action is one-hot
        return out[:, 0]


class BasicPotentialMLP(SavableModule, nn.Module):
    """An MLP potential ``phi(state)`` for reward shaping."""

    def __init__(
        self,
        observation_space: gym.Space,
        hid_sizes: Iterable[int],
        **kwargs: Any,
    ) -> None:
        """Build the potential; ``kwargs`` go to ``build_mlp``."""
        super().__init__()
        self._potential = networks.build_mlp(
            in_size=_flat_dim(observation_space),
            hid_sizes=hid_sizes,
            squeeze_output=True,
            flatten_input=True,
            **kwargs,
        )

    def forward(self, state: th.Tensor) -> th.Tensor:
        """Potential of each state, shape ``(batch,)``."""
        return self._potential(state)


class BasicPotentialCNN(SavableModule, nn.Module):
    """A CNN potential ``phi(state)`` for image observations."""

    def __init__(
        self,
        observation_space: gym.Space,
        hid_sizes: Iterable[int],
        hwc_format: bool = True,
        **kwargs: Any,
    ) -> None:
        """Build the potential; ``kwargs`` go to ``build_cnn``."""
        super().__init__()
        self.hwc_format = hwc_format
        self._potential = networks.build_cnn(
            in_channels=_image_channels(observation_space, hwc_format),
            hid_channels=hid_sizes,
            squeeze_output=True,
            **kwargs,
        )

    def forward(self, state: th.Tensor) -> th.Tensor:
        """Potential of each state, shape ``(batch,)``."""
        return self._potential(cnn_transpose(state) if self.hwc_format else state)


class ShapedRewardNet(ForwardWrapper):
    """Potential shaping: ``r + gamma * (1 - done) * phi(s') - phi(s)``.

    Shaping does not change which policies are optimal, so it is a free
    parameter of learned rewards (AIRL learns it to disentangle the reward).
    """

    def __init__(
        self,
        base: RewardNet,
        potential: Callable[[th.Tensor], th.Tensor],
        discount_factor: float,
    ) -> None:
        """Wrap ``base`` with the potential ``potential``.

        Args:
            base: The unshaped reward net.
            potential: Maps a batch of preprocessed states to ``(batch,)``
                potentials. Use an ``nn.Module`` (e.g. ``BasicPotentialMLP``) for
                a learned potential that is trained and saved with the net.
            discount_factor: The discount factor ``gamma``.
        """
        super().__init__(base)
        self.potential = potential
        self.discount_factor = discount_factor

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Shaped rewards, shape ``(batch,)``."""
        reward = self.base(state, action, next_state, done)
        new_potential = (1 - done.float()) * self.potential(next_state).flatten()
        return (
            reward
            + self.discount_factor * new_potential
            - self.potential(state).flatten()
        )


class BasicShapedRewardNet(ShapedRewardNet):
    """A ``BasicRewardNet`` shaped by a ``BasicPotentialMLP`` (the AIRL default)."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        reward_hid_sizes: Sequence[int] = (32,),
        potential_hid_sizes: Sequence[int] = (32, 32),
        use_state: bool = True,
        use_action: bool = True,
        use_next_state: bool = False,
        use_done: bool = False,
        discount_factor: float = 0.99,
        **kwargs: Any,
    ) -> None:
        """Build the reward and the potential.

        Args:
            observation_space: The environment's observation space.
            action_space: The environment's action space.
            reward_hid_sizes: Hidden sizes of the reward MLP.
            potential_hid_sizes: Hidden sizes of the potential MLP.
            use_state: Reward input: the state.
            use_action: Reward input: the action.
            use_next_state: Reward input: the next state.
            use_done: Reward input: the done flag.
            discount_factor: The shaping discount.
            kwargs: Passed to both ``build_mlp`` calls (e.g.
                ``normalize_input_layer``).
        """
        base = BasicRewardNet(
            observation_space,
            action_space,
            use_state=use_state,
            use_action=use_action,
            use_next_state=use_next_state,
            use_done=use_done,
            hid_sizes=reward_hid_sizes,
            **kwargs,
        )
        potential = BasicPotentialMLP(observation_space, potential_hid_sizes, **kwargs)
        super().__init__(base, potential, discount_factor)


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
        with th.no_grad(), networks.evaluating(self):
            normalized = self.normalize_output_layer(rew_th).reshape(-1)
        if update_stats:
            with th.no_grad():
                self.normalize_output_layer.update_stats(rew_th)
        return normalized.cpu().numpy()


class RewardEnsemble(RewardNet):
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
        with networks.evaluating(self), th.no_grad():
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
    """Processed reward ``mean + alpha * std`` over a ``RewardEnsemble``.

    A negative ``alpha`` gives a conservative reward that penalises states
    where the members disagree.
    """

    def __init__(self, base: RewardEnsemble, default_alpha: float = 0.0) -> None:
        """Wrap an ensemble.

        Raises:
            TypeError: If ``base`` is not a ``RewardEnsemble``.
        """
        if not isinstance(base, RewardEnsemble):
            raise TypeError("AddSTDRewardWrapper needs a RewardEnsemble.")
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
        ensemble = cast(RewardEnsemble, self.base)
        mean, var = ensemble.predict_reward_moments(
            state, action, next_state, done, **kwargs
        )
        return mean + alpha * np.sqrt(var)
