"""Policies that ask a human for each action, for gathering demonstrations.

The key map is an ordered mapping from keyboard key to action name, in action
order: the i-th entry is action ``i``. For CartPole::

    policy = DiscreteInteractivePolicy(
        env.observation_space,
        env.action_space,
        {"a": "push left", "d": "push right"},
    )

The policy acts in a single environment (``n_envs=1``): it shows the
observation, prints the keys, and reads a line from ``input_fn`` (``input`` by
default; inject another function to script it), asking again on an unknown key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import gymnasium as gym
import numpy as np

from imitation.policies.base import HardCodedPolicy


class DiscreteInteractivePolicy(HardCodedPolicy):
    """Ask a human to choose a discrete action by pressing a key (then Enter)."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        action_keys_names: Mapping[str, str],
        clear_screen_on_query: bool = True,
        input_fn: Callable[[str], str] = input,
    ) -> None:
        """Build the policy.

        Args:
            observation_space: Observation space.
            action_space: A ``Discrete`` action space.
            action_keys_names: Key to action name, one entry per action, in
                action order.
            clear_screen_on_query: Clear the terminal before each question.
            input_fn: Reads the answer to a prompt.

        Raises:
            ValueError: If the action space is not discrete or the key map does
                not have one distinct, non-empty key per action.
        """
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"Need a Discrete action space, got {action_space}.")
        if len(action_keys_names) != action_space.n:
            raise ValueError(
                f"action_keys_names has {len(action_keys_names)} entries but the "
                f"action space has {action_space.n} actions.",
            )
        if any(not key or key != key.strip() for key in action_keys_names):
            raise ValueError("Keys must be non-empty and have no surrounding spaces.")
        super().__init__(observation_space, action_space)
        self.action_keys_names = dict(action_keys_names)
        self._action_of_key = {
            key: action_space.start + i for i, key in enumerate(action_keys_names)
        }
        self.clear_screen_on_query = clear_screen_on_query
        self.input_fn = input_fn

    def _prompt(self) -> str:
        options = ", ".join(
            f"[{k}] {name}" for k, name in self.action_keys_names.items()
        )
        return f"Choose an action: {options}: "

    def _render(self, obs: np.ndarray) -> None:
        """Show the observation (printed; subclasses may draw it)."""
        print(f"Observation: {obs}")

    def _choose_actions(self, obs: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        batch = obs if not isinstance(obs, dict) else next(iter(obs.values()))
        if len(batch) != 1:
            raise ValueError(
                f"An interactive policy acts in one environment; got a batch of "
                f"{len(batch)} observations (use n_envs=1).",
            )
        if self.clear_screen_on_query:
            print("\033[2J\033[H", end="")
        self._render(obs[0] if not isinstance(obs, dict) else obs)  # type: ignore[arg-type]
        prompt = self._prompt()
        while True:
            key = self.input_fn(prompt).strip()
            if key in self._action_of_key:
                return np.array([self._action_of_key[key]])
            print(f"Unknown key {key!r}. Valid keys: {', '.join(self._action_of_key)}.")


def _show_with_matplotlib(image: np.ndarray) -> None:
    import matplotlib.pyplot as plt

    plt.figure("observation")
    plt.clf()
    plt.imshow(image)
    plt.axis("off")
    plt.show(block=False)
    plt.pause(0.001)


class ImageObsDiscreteInteractivePolicy(DiscreteInteractivePolicy):
    """An interactive policy for image observations: shows the image first."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        action_keys_names: Mapping[str, str],
        clear_screen_on_query: bool = True,
        input_fn: Callable[[str], str] = input,
        show_fn: Callable[[np.ndarray], None] = _show_with_matplotlib,
    ) -> None:
        """Build the policy; ``show_fn`` displays an ``(H, W, C)`` image.

        Raises:
            ValueError: If the observations are not images (3-D Box).
        """
        if not (
            isinstance(observation_space, gym.spaces.Box)
            and len(observation_space.shape) == 3
        ):
            raise ValueError(
                f"Need image observations (a 3-D Box), got {observation_space}.",
            )
        super().__init__(
            observation_space,
            action_space,
            action_keys_names,
            clear_screen_on_query,
            input_fn,
        )
        self.show_fn = show_fn

    def _render(self, obs: np.ndarray) -> None:
        # Channels-first images (C, H, W) are shown channels-last.
        if obs.shape[0] in (1, 3, 4) and obs.shape[-1] not in (1, 3, 4):
            obs = np.transpose(obs, (1, 2, 0))
        self.show_fn(obs)
