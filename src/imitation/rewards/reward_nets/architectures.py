"""Reward-net architectures: MLP and CNN rewards, potentials and shaping."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import preprocessing
from torch import nn

from imitation.rewards.persistence import SavableModule
from imitation.rewards.reward_nets.base import (
    ForwardWrapper,
    RewardNet,
    cnn_transpose,
    dict_keys,
    flatten_obs,
)
from imitation.util import networks, numpy_forward


def _flat_dim(space: gym.Space) -> int:
    return int(preprocessing.get_flattened_obs_dim(space))


class BasicRewardNet(RewardNet):
    """An MLP reward on the concatenation of the selected, flattened inputs.

    Dict observation spaces are supported: each key is preprocessed on its
    own (as SB3 does: Box cast to float, Discrete one-hot, image keys scaled),
    flattened, and the keys are concatenated in sorted key order. The input
    normaliser (``normalize_input_layer``, e.g. ``RunningNorm``) keeps
    separate statistics for every input feature, so applying it to the
    concatenation normalises each key on its own.
    """

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
            inputs.append(flatten_obs(state))
        if self.use_action:
            inputs.append(th.flatten(action, 1))
        if self.use_next_state:
            inputs.append(flatten_obs(next_state))
        if self.use_done:
            inputs.append(th.reshape(done, (-1, 1)))
        return self.mlp(th.cat(inputs, dim=1))

    def _predict_numpy(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> np.ndarray | None:
        """:meth:`forward` on a raw batch in numpy, for plain MLPs on CPU."""
        if not self._numpy_route_open(BasicRewardNet):
            return None
        arrays = self._checked_arrays(state, action, next_state, done)
        if arrays is None:
            return None
        state_a, action_a, next_state_a, done_a = arrays
        inputs = []
        if self.use_state:
            inputs.append(_flatten_array(state_a))
        if self.use_action:
            inputs.append(action_a.reshape(len(action_a), -1))
        if self.use_next_state:
            inputs.append(_flatten_array(next_state_a))
        if self.use_done:
            inputs.append(done_a.reshape(-1, 1))
        rew = numpy_forward.numpy_forward(
            self.mlp, np.concatenate(inputs, axis=1) if len(inputs) > 1 else inputs[0]
        )
        if rew is not None:
            self._check_rewards(rew, len(done_a))
        return rew


def _flatten_array(obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
    """:func:`flatten_obs` for numpy batches."""
    if isinstance(obs, dict):
        return np.concatenate(
            [obs[key].reshape(len(obs[key]), -1) for key in sorted(obs)], axis=1
        )
    return obs.reshape(len(obs), -1)


def _image_channels(space: gym.Space, hwc_format: bool) -> int:
    if isinstance(space, gym.spaces.Dict):
        return sum(
            _image_channels(space[key], hwc_format)
            for key in _split_image_keys(space, hwc_format)[0]
        )
    if not preprocessing.is_image_space(space, check_channels=False):
        raise ValueError(f"A CNN reward net needs image observations, got {space}.")
    shape = cast(tuple[int, ...], space.shape)
    return shape[-1] if hwc_format else shape[0]


def _split_image_keys(
    space: gym.spaces.Dict, hwc_format: bool
) -> tuple[list[str], list[str]]:
    """The image keys and the other keys of a ``Dict`` space, each sorted.

    Raises:
        ValueError: If no key holds images, or the images' heights and widths
            differ (they are stacked along the channel axis).
    """
    image_keys: list[str] = []
    other_keys: list[str] = []
    for key in dict_keys(space):
        sub = space[key]
        is_image = preprocessing.is_image_space(sub, check_channels=False)
        (image_keys if is_image else other_keys).append(key)
    if not image_keys:
        raise ValueError(
            f"A CNN reward net needs at least one image key (uint8 Box of rank 3) "
            f"in the Dict observation space {space}; use BasicRewardNet instead.",
        )
    sizes = {
        key: (
            tuple(space[key].shape[:2])  # type: ignore[index]
            if hwc_format
            else tuple(space[key].shape[1:])  # type: ignore[index]
        )
        for key in image_keys
    }
    if len(set(sizes.values())) > 1:
        raise ValueError(
            f"The image keys of a CNN reward net are stacked along the channel "
            f"axis, so they need the same height and width; got {sizes}.",
        )
    return image_keys, other_keys


def _stack_images(
    obs: th.Tensor | dict[str, th.Tensor],
    image_keys: Sequence[str],
    hwc_format: bool,
) -> th.Tensor:
    """A ``(batch, C, H, W)`` tensor: the image, or the image keys on channels."""
    if isinstance(obs, dict):
        images = [obs[key] for key in image_keys]
        image = (
            images[0]
            if len(images) == 1
            else th.cat(images, dim=-1 if hwc_format else 1)
        )
    else:
        image = obs
    return cnn_transpose(image) if hwc_format else image


class _DictCnnInput:
    """How a CNN reward net or potential reads (possibly dict) observations.

    For a ``Dict`` space the image keys are stacked along the channel axis
    (sorted key order) and go through the CNN; the remaining keys are
    flattened, concatenated and fed to an MLP (``vector_mlp``) whose output is
    added to the CNN's.
    """

    def __init__(self, space: gym.Space, hwc_format: bool) -> None:
        self.image_keys: list[str] = []
        self.other_keys: list[str] = []
        self.other_dim = 0
        if isinstance(space, gym.spaces.Dict):
            self.image_keys, self.other_keys = _split_image_keys(space, hwc_format)
            self.other_dim = sum(_flat_dim(space[k]) for k in self.other_keys)


class CnnRewardNet(RewardNet):
    """A CNN reward on image observations.

    States (and next states) are stacked along the channel axis. With
    ``use_action`` the net outputs one value per discrete action and the taken
    action's is returned; with ``use_done`` it outputs one set per done value.

    With a ``Dict`` observation space, the image keys (uint8 Boxes of rank 3,
    all of the same height and width) are stacked along the channel axis in
    sorted key order and go through the CNN. Any other keys are flattened,
    concatenated (sorted key order; of the state and/or next state, as
    selected) and fed to an MLP (``vector_mlp``, hidden sizes
    ``vector_hid_sizes``) whose output, of the same shape as the CNN's, is
    added to it.
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
        vector_hid_sizes: Sequence[int] = (32,),
        **kwargs: Any,
    ) -> None:
        """Build the net.

        Args:
            observation_space: An image observation space, or a ``Dict``
                space with at least one image key.
            action_space: A ``Discrete`` action space (if ``use_action``).
            use_state: Input the state.
            use_action: Select the output of the taken action.
            use_next_state: Input the next state.
            use_done: Select the output for the done flag.
            hwc_format: Observations are ``(H, W, C)`` (transposed for the
                convolutions); otherwise ``(C, H, W)``.
            vector_hid_sizes: Hidden sizes of the MLP on the non-image keys of
                a ``Dict`` observation space (unused otherwise).
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
        self._input = _DictCnnInput(observation_space, hwc_format)
        self.vector_mlp: nn.Module | None = None
        if self._input.other_dim:
            self.vector_mlp = networks.build_mlp(
                in_size=self._input.other_dim * (use_state + use_next_state),
                hid_sizes=vector_hid_sizes,
                out_size=self._out_shape[0] * self._out_shape[1],
            )

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """Rewards, shape ``(batch,)``."""
        keys = self._input.image_keys
        selected = [
            obs
            for obs, use in ((state, self.use_state), (next_state, self.use_next_state))
            if use
        ]
        images = [_stack_images(obs, keys, self.hwc_format) for obs in selected]
        out = self.cnn(th.cat(images, dim=1))
        if self.vector_mlp is not None:
            vectors = [
                flatten_obs({k: obs[k] for k in self._input.other_keys})  # type: ignore[index]
                for obs in selected
            ]
            out = out + self.vector_mlp(th.cat(vectors, dim=1))
        out = out.view(-1, *self._out_shape)
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

    def forward(self, state: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
        """Potential of each state, shape ``(batch,)``.

        Dict states are flattened key by key and concatenated (sorted keys).
        """
        return self._potential(flatten_obs(state))


class BasicPotentialCNN(SavableModule, nn.Module):
    """A CNN potential ``phi(state)`` for image observations.

    ``Dict`` observation spaces are handled as by :class:`CnnRewardNet`: image
    keys stacked on channels through the CNN, other keys through an added MLP.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        hid_sizes: Iterable[int],
        hwc_format: bool = True,
        vector_hid_sizes: Sequence[int] = (32,),
        **kwargs: Any,
    ) -> None:
        """Build the potential; ``kwargs`` go to ``build_cnn``.

        Args:
            observation_space: An image space, or a ``Dict`` space with at
                least one image key.
            hid_sizes: Channels of the convolutions.
            hwc_format: Images are ``(H, W, C)``; otherwise ``(C, H, W)``.
            vector_hid_sizes: Hidden sizes of the MLP on non-image keys.
            kwargs: Passed to ``build_cnn``.
        """
        super().__init__()
        self.hwc_format = hwc_format
        self._potential = networks.build_cnn(
            in_channels=_image_channels(observation_space, hwc_format),
            hid_channels=hid_sizes,
            squeeze_output=True,
            **kwargs,
        )
        self._input = _DictCnnInput(observation_space, hwc_format)
        self.vector_mlp: nn.Module | None = None
        if self._input.other_dim:
            self.vector_mlp = networks.build_mlp(
                in_size=self._input.other_dim,
                hid_sizes=vector_hid_sizes,
                squeeze_output=True,
            )

    def forward(self, state: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
        """Potential of each state, shape ``(batch,)``."""
        out = self._potential(
            _stack_images(state, self._input.image_keys, self.hwc_format)
        )
        if self.vector_mlp is not None:
            assert isinstance(state, dict)
            out = out + self.vector_mlp(
                flatten_obs({k: state[k] for k in self._input.other_keys})
            )
        return out


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
                potentials (for a ``Dict`` observation space the states are
                dicts of tensors; :func:`flatten_obs` flattens them). Use an
                imitation module (e.g. ``BasicPotentialMLP``) for a learned
                potential that is trained and saved with the net, and
                ``ValuePotential.from_policy`` for an SB3 policy's value
                function; a plain function works but cannot be saved.
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
