"""Policies that ask a human for every action, e.g. to record demonstrations.

The key map says which key chooses which action: it maps a key (what the user
types, then Enter) to ``(action name, action index)``. For CartPole::

    policy = DiscreteInteractivePolicy(
        env.observation_space,
        env.action_space,
        {"a": ("left", 0), "d": ("right", 1)},
    )
    trajs = rollout.generate_trajectories(policy, venv, sample_until, rng=rng)

Keys are matched exactly after stripping surrounding whitespace from the
answer. Not every action needs a key, and several keys may choose the same
action. An interactive policy acts in a single environment (``n_envs=1``): for
each observation it shows the observation, then asks for a key with
``input_fn`` (``input`` by default; inject another function to script it),
asking again after an unknown key.
:class:`ImageObsDiscreteInteractivePolicy` shows image observations as a
picture instead of printing them; :class:`AtariInteractivePolicy` builds the
key map from an Atari environment's action names (:data:`ATARI_ACTION_KEYS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.preprocessing import is_image_space_channels_first
from stable_baselines3.common.vec_env import VecEnv

from imitation.policies.base import NonTrainablePolicy
from imitation.util import util


class DiscreteInteractivePolicy(NonTrainablePolicy):
    """Ask a human to choose each discrete action by typing a key.

    Subclasses change how an observation is shown by overriding :meth:`_render`.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.spaces.Discrete,
        action_keys_names: Mapping[str, tuple[str, int]],
        clear_screen_on_query: bool = True,
        input_fn: Callable[[str], str] = input,
    ) -> None:
        """Build the policy.

        Args:
            observation_space: Observation space.
            action_space: The ``Discrete`` action space.
            action_keys_names: Key to ``(action name, action index)``; indices
                are actions of ``action_space`` (so they count from its
                ``start``).
            clear_screen_on_query: Clear the terminal before showing each
                observation.
            input_fn: Asks the user: called with a prompt listing the keys,
                returns the answer.

        Raises:
            ValueError: If the action space is not ``Discrete``, the key map is
                empty, a key is empty or has surrounding whitespace, a value is
                not a ``(name, index)`` pair, or an index is not an action of
                ``action_space``.
        """
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"Need a Discrete action space, got {action_space}.")
        if not action_keys_names:
            raise ValueError("action_keys_names must map at least one key.")
        first, last = int(action_space.start), int(action_space.start + action_space.n)
        for key, value in action_keys_names.items():
            if isinstance(value, str) or len(value) != 2:
                raise ValueError(
                    f"Key {key!r} must map to (action name, action index), "
                    f"got {value!r}.",
                )
            name, action = value
            if not key or key != key.strip():
                raise ValueError(
                    f"Key {key!r} (for {name!r}) must be non-empty, without "
                    "surrounding whitespace.",
                )
            if not first <= action < last:
                raise ValueError(
                    f"Key {key!r} maps to action {action} ({name!r}), which is "
                    f"not in {action_space}.",
                )
        super().__init__(observation_space, action_space)
        self.action_keys_names = dict(action_keys_names)
        self.clear_screen_on_query = clear_screen_on_query
        self.input_fn = input_fn
        self._prompt = (
            "  ".join(f"[{k}] {name}" for k, (name, _) in action_keys_names.items())
            + "\nAction key: "
        )

    def _render(self, obs: np.ndarray | dict[str, np.ndarray]) -> None:
        """Show one observation (without batch axis) to the user: print it."""
        print(f"Observation: {obs}")

    def _choose_actions(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """Ask for the action of the single observation in ``obs``.

        Args:
            obs: A batch holding one observation.

        Returns:
            The chosen action, shape ``(1,)``.

        Raises:
            ValueError: If the batch has more than one observation.
        """
        values = obs.values() if isinstance(obs, dict) else [obs]
        batch_size = len(next(iter(values)))
        if batch_size != 1:
            raise ValueError(
                "An interactive policy acts in a single environment; got a batch "
                f"of {batch_size} observations (use n_envs=1).",
            )
        return super()._choose_actions(obs)

    def _choose_action(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        """Show one observation (clearing the screen first) and ask for its action.

        Args:
            obs: The observation, without batch axis.

        Returns:
            The chosen action, a 0-d int64 array.
        """
        if self.clear_screen_on_query:
            util.clear_screen()
        self._render(obs)
        while True:
            key = self.input_fn(self._prompt).strip()
            if key in self.action_keys_names:
                return np.array(self.action_keys_names[key][1], dtype=np.int64)
            print(
                f"Unknown key {key!r}; valid keys: {', '.join(self.action_keys_names)}."
            )


def show_with_matplotlib(image: np.ndarray) -> None:
    """Draw ``image`` (``(H, W)`` or ``(H, W, C)``) in a matplotlib window."""
    import matplotlib.pyplot as plt

    plt.figure("observation")
    plt.clf()
    plt.imshow(image, cmap="gray" if image.ndim == 2 else None)
    plt.axis("off")
    plt.show(block=False)
    plt.pause(0.001)  # Lets the GUI event loop draw the window.


class ImageObsDiscreteInteractivePolicy(DiscreteInteractivePolicy):
    """An interactive policy for image observations, shown as a picture."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.spaces.Discrete,
        action_keys_names: Mapping[str, tuple[str, int]],
        clear_screen_on_query: bool = True,
        input_fn: Callable[[str], str] = input,
        show_fn: Callable[[np.ndarray], None] = show_with_matplotlib,
    ) -> None:
        """Build the policy.

        Args:
            observation_space: A ``Box`` of images, channels-last ``(H, W, C)``
                or channels-first ``(C, H, W)`` (as after SB3's
                ``VecTransposeImage``), with 1, 3 or 4 channels.
            action_space: The ``Discrete`` action space.
            action_keys_names: Key to ``(action name, action index)``.
            clear_screen_on_query: Clear the terminal before each question.
            input_fn: Asks the user (see :class:`DiscreteInteractivePolicy`).
            show_fn: Displays an image, given channels-last ``(H, W, C)``, or
                ``(H, W)`` for one channel; a matplotlib window by default.

        Raises:
            ValueError: If the observations are not images, or as
                :class:`DiscreteInteractivePolicy`.
        """
        if not (
            isinstance(observation_space, gym.spaces.Box)
            and len(observation_space.shape) == 3
            and {1, 3, 4} & {observation_space.shape[0], observation_space.shape[-1]}
        ):
            raise ValueError(
                "Need image observations (a Box of shape (H, W, C) or (C, H, W) "
                f"with 1, 3 or 4 channels), got {observation_space}.",
            )
        super().__init__(
            observation_space,
            action_space,
            action_keys_names,
            clear_screen_on_query,
            input_fn,
        )
        self.show_fn = show_fn
        self._channels_first = is_image_space_channels_first(observation_space)

    def _render(self, obs: np.ndarray | dict[str, np.ndarray]) -> None:
        """Show the image with ``show_fn``."""
        assert isinstance(obs, np.ndarray)  # Guaranteed by the Box check.
        self.show_fn(self._picture(obs))

    def _picture(self, obs: np.ndarray) -> np.ndarray:
        """The observation as a picture: channels last, ``(H, W)`` if grey."""
        image = np.moveaxis(obs, 0, -1) if self._channels_first else obs
        if image.shape[-1] == 1:
            image = image[..., 0]
        return image


_ATARI_MOVES = {
    "UP": "w",
    "DOWN": "x",
    "LEFT": "a",
    "RIGHT": "d",
    "UPLEFT": "q",
    "UPRIGHT": "e",
    "DOWNLEFT": "z",
    "DOWNRIGHT": "c",
}

ATARI_ACTION_KEYS: Mapping[str, str] = {
    "NOOP": "s",
    "FIRE": "f",
    **_ATARI_MOVES,
    **{f"{move}FIRE": f"f{key}" for move, key in _ATARI_MOVES.items()},
}
"""The key for each of the 18 Atari actions, by the ALE's action name.

Moves use the 3x3 block ``q w e / a s d / z x c`` around ``s`` (``s`` itself is
NOOP); ``f`` fires, and ``f`` followed by a move key moves and fires (``fw``:
UPFIRE).
"""


def _atari_action_names(env: gym.Env | VecEnv) -> Sequence[str]:
    """The ALE action names of ``env`` (of its first environment if vectorised).

    Raises:
        ValueError: If the environment has no ``get_action_meanings`` method.
    """
    try:
        if isinstance(env, VecEnv):
            return list(env.env_method("get_action_meanings", indices=[0])[0])
        return list(env.unwrapped.get_action_meanings())  # type: ignore[attr-defined]
    except AttributeError as exc:
        raise ValueError(
            f"{env} is not an Atari environment: it has no get_action_meanings().",
        ) from exc


class AtariInteractivePolicy(ImageObsDiscreteInteractivePolicy):
    """Play an Atari game by typing keys; see :data:`ATARI_ACTION_KEYS`.

    The key map is built from the environment's action names, so the same keys
    choose the same moves in every game (a game offers a subset of them).

    Raw frames (RGB) are shown as they are. Four channels are taken for four
    stacked grey frames (SB3's ``AtariWrapper`` with ``VecFrameStack(venv,
    n_stack=4)``, as in the preference-comparisons tutorial): the newest one
    is shown.
    """

    def __init__(self, env: gym.Env | VecEnv, *args: Any, **kwargs: Any) -> None:
        """Build the policy for an Atari environment.

        Args:
            env: The Atari environment (``gymnasium.Env`` or a ``VecEnv`` of
                them); its spaces and action names are used.
            args: Passed on to :class:`ImageObsDiscreteInteractivePolicy` after
                the spaces and key map (``clear_screen_on_query``, ``input_fn``,
                ``show_fn``).
            kwargs: Passed on likewise.

        Raises:
            ValueError: If ``env`` is not an Atari environment, names an
                action without a key, or as
                :class:`ImageObsDiscreteInteractivePolicy`.
        """
        action_space = env.action_space
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"Need a Discrete action space, got {action_space}.")
        keys: dict[str, tuple[str, int]] = {}
        for index, name in enumerate(_atari_action_names(env)):
            if name not in ATARI_ACTION_KEYS:
                raise ValueError(f"No key for the Atari action {name!r}.")
            keys[ATARI_ACTION_KEYS[name]] = (name, int(action_space.start) + index)
        super().__init__(env.observation_space, action_space, keys, *args, **kwargs)

    def _picture(self, obs: np.ndarray) -> np.ndarray:
        """The newest frame of four stacked grey frames; otherwise as the base."""
        image = super()._picture(obs)
        return image[..., -1] if image.ndim == 3 and image.shape[-1] == 4 else image
