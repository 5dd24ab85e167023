"""What loading and saving share: errors, id and space checks."""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from imitation.data.huggingface_utils import TrajectoryFormatError

try:
    from minari.storage.datasets_root_dir import get_dataset_path
except ImportError as exc:  # pragma: no cover - the extra is installed in tests
    raise ImportError(
        "imitation.data.minari needs the minari package: pip install "
        "'imitation[minari]'.",
    ) from exc

DATASET_ID_PATTERN = re.compile(r"^(?:[-_\w][-_\w/]*[-_\w]+/)?[-_.\w]+-v\d+$")
EPISODE_FIELDS = ("observations", "actions", "rewards", "terminations", "truncations")
LEAF_SPACES = (
    gym.spaces.Box,
    gym.spaces.Discrete,
    gym.spaces.MultiDiscrete,
    gym.spaces.MultiBinary,
)


class MinariFormatError(TrajectoryFormatError):
    """A Minari dataset is missing, incomplete, or holds data that is not episodes."""


class MinariSpaceMismatchError(ValueError):
    """A Minari dataset's spaces differ from the environment's."""


def dataset_path(dataset_id: str) -> str:
    """Where the local dataset ``dataset_id`` lives (under ``MINARI_DATASETS_PATH``)."""
    return str(get_dataset_path(dataset_id))


def check_dataset_id(dataset_id: str) -> None:
    """Raise ``ValueError`` unless ``dataset_id`` is ``[namespace/]name-v<version>``."""
    if not isinstance(dataset_id, str) or not DATASET_ID_PATTERN.fullmatch(dataset_id):
        raise ValueError(
            f"{dataset_id!r} is not a Minari dataset id: ids look like "
            "[namespace/]name-v<version>, e.g. 'cartpole/expert-v0'.",
        )


def check_space(space: gym.Space, what: str, allow_dict: bool) -> None:
    """Raise ``MinariSpaceMismatchError`` if trajectories cannot hold ``space``.

    Args:
        space: The space.
        what: ``"observation"`` or ``"action"``, for the message.
        allow_dict: Accept a Dict of supported spaces (observations only).
    """
    if allow_dict and isinstance(space, gym.spaces.Dict):
        for key, sub in space.spaces.items():
            if not isinstance(sub, LEAF_SPACES):
                raise MinariSpaceMismatchError(
                    f"The {what} space's key {key!r} is {sub}; only Box, "
                    "Discrete, MultiDiscrete and MultiBinary entries are supported "
                    "(no nested Dict, Tuple or Text).",
                )
        return
    if not isinstance(space, LEAF_SPACES):
        kinds = "Box, Discrete, MultiDiscrete, MultiBinary" + (
            " or a Dict of these" if allow_dict else ""
        )
        raise MinariSpaceMismatchError(
            f"The {what} space {space} is not supported: it must be {kinds}.",
        )


def env_spaces(env: Any) -> tuple[gym.Space, gym.Space, EnvSpec | None]:
    """Observation space, action space and spec of a ``gym.Env``, ``VecEnv`` or id.

    The spec is None for a ``VecEnv`` or an env made without ``gym.make``.
    """
    if isinstance(env, str):
        made = gym.make(env)
        try:
            return made.observation_space, made.action_space, made.spec
        finally:
            made.close()
    return env.observation_space, env.action_space, getattr(env, "spec", None)
