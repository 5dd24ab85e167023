"""Tiny deterministic environments for tests and examples.

They are fast, need no rendering, and cover what the real benchmark tasks do
not: dict observations, small image observations and episode lengths chosen
per env.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class CountingEnv(gym.Env):
    """Observation counts the steps taken; the episode ends after ``episode_len``.

    The observation is ``[t, last_action]`` (float32) with reward ``t``, so a
    trajectory can be checked exactly against what the env emitted. With
    ``dict_obs=True`` the observation is ``{"t": [t], "act": [last_action]}``.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, episode_len: int = 5, dict_obs: bool = False) -> None:
        """Make the env.

        Args:
            episode_len: Number of steps before the episode terminates.
            dict_obs: Use a ``spaces.Dict`` observation space.
        """
        self.episode_len = episode_len
        self.dict_obs = dict_obs
        self.action_space = spaces.Discrete(3)
        box = spaces.Box(low=0.0, high=np.inf, shape=(2,), dtype=np.float32)
        if dict_obs:
            self.observation_space = spaces.Dict(
                {
                    "t": spaces.Box(0.0, np.inf, shape=(1,), dtype=np.float32),
                    "act": spaces.Box(0.0, np.inf, shape=(1,), dtype=np.float32),
                },
            )
        else:
            self.observation_space = box
        self._t = 0

    def _obs(self, act: int) -> Any:
        if self.dict_obs:
            return {
                "t": np.array([self._t], dtype=np.float32),
                "act": np.array([act], dtype=np.float32),
            }
        return np.array([self._t, act], dtype=np.float32)

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Start at ``t = 0``."""
        super().reset(seed=seed)
        self._t = 0
        return self._obs(0), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Advance ``t``; terminate when it reaches ``episode_len``."""
        self._t += 1
        return (
            self._obs(int(action)),
            float(self._t),
            self._t >= self.episode_len,
            False,
            {},
        )


DICT_CARTPOLE_KEYS: dict[str, tuple[int, ...]] = {"pos": (0, 2), "vel": (1, 3)}
"""CartPole's observation entries under each key of :class:`DictObsWrapper`.

Cart position and pole angle under ``"pos"``, their velocities under ``"vel"``.
"""


class DictObsWrapper(gym.ObservationWrapper):
    """Split a flat Box observation into a ``Dict`` of Boxes (CartPole by default).

    ``keys`` maps each key to the indices of the flat observation it holds;
    :func:`dict_obs_from_flat` does the same to saved observations, so flat
    expert demonstrations can be converted to this env's form.
    """

    def __init__(
        self,
        env: gym.Env,
        keys: dict[str, tuple[int, ...]] | None = None,
    ) -> None:
        """Wrap ``env`` (its observation space must be a 1-D Box)."""
        super().__init__(env)
        box = env.observation_space
        if not (isinstance(box, spaces.Box) and len(box.shape) == 1):
            raise ValueError(f"DictObsWrapper needs a 1-D Box space, got {box}.")
        self.keys = dict(DICT_CARTPOLE_KEYS if keys is None else keys)
        self.observation_space = spaces.Dict(
            {
                key: spaces.Box(
                    low=box.low[list(idx)].astype(np.float32),
                    high=box.high[list(idx)].astype(np.float32),
                    dtype=np.float32,
                )
                for key, idx in self.keys.items()
            }
        )

    def observation(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        """The flat observation split by key."""
        return dict_obs_from_flat(observation, self.keys)


def dict_obs_from_flat(
    obs: np.ndarray, keys: dict[str, tuple[int, ...]] | None = None
) -> dict[str, np.ndarray]:
    """Split flat observations (last axis) by ``keys`` (default: CartPole's)."""
    keys = DICT_CARTPOLE_KEYS if keys is None else keys
    return {
        key: np.asarray(obs[..., list(idx)], dtype=np.float32)
        for key, idx in keys.items()
    }


DICT_CARTPOLE_ID = "imitation/DictCartPole-v0"
"""Gymnasium id of ``seals/CartPole-v0`` observed through :class:`DictObsWrapper`.

Registered when this module is imported; from the command line, name it as
``imitation.testing.envs:imitation/DictCartPole-v0`` so it is imported first.
"""


def make_dict_cartpole(**kwargs: Any) -> gym.Env:
    """``seals/CartPole-v0`` with its observation split into a ``Dict``."""
    import seals  # noqa: F401  (registers seals/CartPole-v0)

    return DictObsWrapper(gym.make("seals/CartPole-v0", **kwargs))


if DICT_CARTPOLE_ID not in gym.registry:
    gym.register(id=DICT_CARTPOLE_ID, entry_point=make_dict_cartpole)


class DotToCentreEnv(gym.Env):
    """A dot on a line, seen only as a picture; the task is to bring it to the middle.

    The observation is an RGB image, ``uint8`` of shape ``(size, size, 3)``:
    black, with a white square in one of ``cells`` columns along the middle
    row (a dark background, as in most Atari games). Actions: 0 moves the
    dot one cell left, 1 keeps it, 2 moves it one cell right (at the edges it
    stays). Each step that ends with the dot in
    the middle cell is rewarded 1. An episode starts with the dot in a random
    column and is cut after ``episode_len`` steps (truncated, never
    terminated). ``render()`` (mode ``"rgb_array"``) returns the observation.

    The best policy moves towards the middle and then keeps still, which a
    person (or a script) sees at once in the picture, and which a policy
    learns only from pixels.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        cells: int = 9,
        size: int = 36,
        episode_len: int = 12,
        render_mode: str | None = None,
    ) -> None:
        """Make the env.

        Args:
            cells: Number of columns the dot can be in (odd, so there is a
                middle one).
            size: Side of the square image in pixels (a multiple of
                ``cells``).
            episode_len: Steps before an episode is truncated.
            render_mode: None or ``"rgb_array"``.

        Raises:
            ValueError: If ``cells`` is even, or ``size`` is not a multiple of it.
        """
        if cells % 2 == 0 or size % cells:
            raise ValueError(
                f"cells={cells} must be odd and size={size} a multiple of it."
            )
        self.cells = cells
        self.size = size
        self.episode_len = episode_len
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 255, (size, size, 3), np.uint8)
        self.action_space = spaces.Discrete(3)
        self.position = cells // 2
        self._t = 0

    @property
    def middle(self) -> int:
        """The column the dot should reach."""
        return self.cells // 2

    def _obs(self) -> np.ndarray:
        image = np.zeros((self.size, self.size, 3), np.uint8)
        width = self.size // self.cells
        top = (self.size - width) // 2
        left = self.position * width
        image[top : top + width, left : left + width] = 255
        return image

    def reset(
        self,
        *,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Put the dot in a random column."""
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(self.cells))
        self._t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move the dot by ``action - 1`` cells (within the line)."""
        move = int(action) - 1
        self.position = int(np.clip(self.position + move, 0, self.cells - 1))
        self._t += 1
        reward = float(self.position == self.middle)
        return self._obs(), reward, False, self._t >= self.episode_len, {}

    def render(self) -> np.ndarray:  # type: ignore[override]
        """The current picture (the observation)."""
        return self._obs()


def dot_to_centre_action(image: np.ndarray) -> int:
    """The best action for a :class:`DotToCentreEnv` picture, read off its pixels.

    Args:
        image: One observation, ``(size, size, 3)``.

    Returns:
        0 (left) if the dot is right of the middle, 2 (right) if left of it,
        1 (keep) if in the middle.
    """
    lit_columns = np.flatnonzero((np.asarray(image) > 127).any(axis=(0, 2)))
    centre = (lit_columns[0] + lit_columns[-1] + 1) / 2
    middle = image.shape[1] / 2
    return int(1 + np.sign(middle - centre))


DOT_TO_CENTRE_ID = "imitation/DotToCentre-v0"
"""Gymnasium id of :class:`DotToCentreEnv`, registered when this module is imported.

From the command line, name it ``imitation.testing.envs:imitation/DotToCentre-v0``.
"""

if DOT_TO_CENTRE_ID not in gym.registry:
    gym.register(
        id=DOT_TO_CENTRE_ID, entry_point="imitation.testing.envs:DotToCentreEnv"
    )
