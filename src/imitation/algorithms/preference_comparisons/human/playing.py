"""A person plays an environment in the browser; the episodes are demonstrations.

:class:`HumanPlayer` serves the environment on the same local web app as the
preference and labelling pages (:mod:`.webapp`: loopback, a session token on
every route). Play is turn-based: the environment waits for each key (or
button), steps once with the action it maps to, and shows the new frame.
Discrete actions get a key each by default; continuous control needs a
key-to-action map (``controls``).

Every reset and step is appended to a :class:`PlayLog` and ``fsync``-ed before
the page gets its reply. A run killed with ``kill -9`` keeps every step
played: finished episodes are kept as they are, and the unfinished one is
rebuilt by resetting with its seed and replaying its actions (the
environment must be deterministic given the seed; if the replay differs the
episode is abandoned, and logged as such, rather than mixed up).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from imitation.algorithms.preference_comparisons.human import gatherer, rendering
from imitation.algorithms.preference_comparisons.human.answer_log import (
    JsonLinesLog,
    SingleObservation,
    decode_array,
    decode_observation,
    encode_array,
    encode_observation,
    record_id,
    single_observation,
    stack_observations,
)
from imitation.data import types
from imitation.util import logger as imit_logger

PLAY_FORMAT = "imitation-human-play"

Control = tuple[str, str, Any]
"""A button: ``(label, key, action)``; ``key`` is a ``KeyboardEvent.key`` value."""


class _Episode:
    """One episode being read back from, or written to, a :class:`PlayLog`."""

    def __init__(self, seed: int, obs: SingleObservation) -> None:
        self.seed = seed
        self.obs = [obs]
        self.acts: list[np.ndarray] = []
        self.rews: list[float] = []
        self.terminated = False
        self.truncated = False
        self.abandoned = False

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated or self.abandoned

    def trajectory(self) -> types.TrajectoryWithRew:
        return types.TrajectoryWithRew(
            obs=stack_observations(self.obs),
            acts=np.stack(self.acts),
            rews=np.array(self.rews, dtype=np.float32),
            infos=None,
            terminal=self.terminated,
        )


class PlayLog(JsonLinesLog):
    """The episodes a person played, step by step, in JSON lines.

    After the header, each line is one of

    * ``{"type": "reset", "episode": 0, "seed": 5, "obs": A}``;
    * ``{"type": "step", "episode": 0, "t": 0, "action": A, "obs": A,
      "rew": 1.0, "terminated": false, "truncated": false}`` (``t`` counts the
      episode's steps from 0; ``obs`` is the observation after the step);
    * ``{"type": "abandon", "episode": 0}``: the unfinished episode could not
      be replayed on restart and is left out.

    ``A`` is a base64 ``.npy`` array, read back with ``allow_pickle=False``;
    a dict observation is ``{"key": A, ...}``.
    """

    FORMAT = PLAY_FORMAT
    VERSION = 1

    def _start(self) -> None:
        self.episodes: dict[int, _Episode] = {}

    def _load_record(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        number = record_id(record, "episode")
        if kind == "reset":
            if number != len(self.episodes) or (
                self.episodes and not self.episodes[number - 1].done
            ):
                raise ValueError(f"episode {number} starts out of order")
            seed = record_id(record, "seed")
            obs = decode_observation(record.get("obs"))
            self.episodes[number] = _Episode(seed, obs)
            return
        episode = self.episodes.get(number)
        if episode is None or episode.done:
            raise ValueError(f"{kind} of unknown or finished episode {number}")
        if kind == "step":
            if record_id(record, "t") != len(episode.acts):
                raise ValueError(f"episode {number}: steps out of order")
            rew, terminated, truncated = (
                record.get(k) for k in ("rew", "terminated", "truncated")
            )
            if not isinstance(rew, int | float) or isinstance(rew, bool):
                raise ValueError("rew must be a number")
            if not isinstance(terminated, bool) or not isinstance(truncated, bool):
                raise ValueError("terminated and truncated must be booleans")
            self._add_step(
                episode,
                decode_array(record.get("action")),
                decode_observation(record.get("obs")),
                float(rew),
                terminated,
                truncated,
            )
        elif kind == "abandon":
            episode.abandoned = True
        else:
            raise ValueError(f"unknown record type {kind!r}")

    @staticmethod
    def _add_step(
        episode: _Episode,
        action: np.ndarray,
        obs: SingleObservation,
        rew: float,
        terminated: bool,
        truncated: bool,
    ) -> None:
        episode.acts.append(action)
        episode.obs.append(obs)
        episode.rews.append(rew)
        episode.terminated, episode.truncated = terminated, truncated

    def add_reset(self, seed: int, obs: Any) -> int:
        """Record (durably) a new episode's start; returns its number.

        ``obs`` is an array, or a dict of arrays.
        """
        obs = single_observation(obs)
        number = len(self.episodes)
        self._append(
            {
                "type": "reset",
                "episode": number,
                "seed": seed,
                "obs": encode_observation(obs),
            }
        )
        self.episodes[number] = _Episode(seed, obs)
        return number

    def add_step(
        self,
        number: int,
        action: np.ndarray,
        obs: Any,
        rew: float,
        terminated: bool,
        truncated: bool,
    ) -> None:
        """Record (durably, before returning) one step of episode ``number``.

        ``obs`` (the observation after the step) is an array, or a dict of
        arrays.
        """
        obs = single_observation(obs)
        episode = self.episodes[number]
        self._append(
            {
                "type": "step",
                "episode": number,
                "t": len(episode.acts),
                "action": encode_array(action),
                "obs": encode_observation(obs),
                "rew": float(rew),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        self._add_step(episode, np.asarray(action), obs, rew, terminated, truncated)

    def add_abandon(self, number: int) -> None:
        """Record (durably) that an unfinished episode is left out."""
        self._append({"type": "abandon", "episode": number})
        self.episodes[number].abandoned = True

    def trajectories(self) -> list[types.TrajectoryWithRew]:
        """The finished episodes (terminated or truncated), in order."""
        return [
            e.trajectory()
            for e in self.episodes.values()
            if (e.terminated or e.truncated) and e.acts
        ]


def _close(obs: Any, logged: SingleObservation) -> bool:
    """Whether an observation equals a logged one (up to float rounding)."""
    obs = single_observation(obs)
    if isinstance(obs, dict) or isinstance(logged, dict):
        return (
            isinstance(obs, dict)
            and isinstance(logged, dict)
            and obs.keys() == logged.keys()
            and all(np.allclose(obs[k], logged[k]) for k in obs)
        )
    return obs.shape == logged.shape and bool(np.allclose(obs, logged))


def default_controls(action_space: spaces.Space) -> list[Control]:
    """Keys for a discrete action space: ``←``/``→`` for two actions, else digits.

    Raises:
        ValueError: If the space is not ``Discrete`` with at most 9 actions:
            continuous control needs a key-to-action map.
    """
    if not isinstance(action_space, spaces.Discrete) or action_space.n > 9:
        raise ValueError(
            f"No default keys for the action space {action_space}; pass controls, "
            "a list of (label, key, action), e.g. [('left', 'ArrowLeft', "
            "np.array([-1.0])), ('right', 'ArrowRight', np.array([1.0]))]."
        )
    start, n = int(action_space.start), int(action_space.n)
    keys = ["ArrowLeft", "ArrowRight"] if n == 2 else [str(i + 1) for i in range(n)]
    return [(f"action {start + i}", keys[i], start + i) for i in range(n)]


class HumanPlayer(gatherer.WebPageSession):
    """Lets a person play ``env`` in a browser, one key press per step.

    Each finished episode is a demonstration: :meth:`trajectories` returns
    them in the library's format, :meth:`save` writes them to disk (and
    optionally as a Minari dataset). Episode ``k`` starts with
    ``env.reset(seed=seed + k)``.
    """

    def __init__(
        self,
        env: gym.Env | str,
        play_log: types.AnyPath,
        *,
        controls: Sequence[Control] | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Open the log, rebuild the unfinished episode, and start the server.

        Args:
            env: The environment, made with ``render_mode="rgb_array"``, or a
                Gymnasium id (made so).
            play_log: The JSON-lines file of the episodes (created if
                missing; an existing one is resumed).
            controls: ``(label, key, action)`` per button; default
                :func:`default_controls` (discrete action spaces only).
            seed: Seed of the first episode's reset (then ``seed + k``).
            host: Interface to serve on; loopback by default.
            port: Port to serve on; 0 picks a free one.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If the env does not render ``rgb_array`` frames, no
                controls fit the action space, or a control's action is
                outside it.
            RuntimeError: If the server cannot listen on ``host:port`` or the
                log is open in another process.
        """
        env = rendering.rgb_array_env(env, "so the page can show it")
        self.env = env
        self.controls = list(controls or default_controls(env.action_space))
        for label, _, action in self.controls:
            if not env.action_space.contains(
                np.asarray(action, dtype=env.action_space.dtype)
                if isinstance(env.action_space, spaces.Box)
                else action
            ):
                raise ValueError(
                    f"The action of control {label!r}, {action!r}, is outside the "
                    f"action space {env.action_space}."
                )
        self.seed = seed
        self.logger = custom_logger or imit_logger.configure()
        self.log = PlayLog(play_log)
        self._cond = threading.Condition()
        self._closed = False
        self._frame: bytes = b""
        with self._closing_on_error():
            self._resume()
            webapp = gatherer.import_webapp()
            self._server = webapp.PageServer(webapp.make_play_app, self, host, port)
        self._announce(
            "Human play", f"{self.n_episodes} finished episodes in {self.log.path}"
        )

    # -- The environment --------------------------------------------------------

    def _resume(self) -> None:
        """Rebuild the unfinished episode by replay, or start a new one."""
        episodes = self.log.episodes
        if not episodes or episodes[len(episodes) - 1].done:
            self._new_episode()
            return
        number = len(episodes) - 1
        episode = episodes[number]
        obs, _ = self.env.reset(seed=episode.seed)
        same = _close(obs, episode.obs[0])
        for action, logged in zip(episode.acts, episode.obs[1:]):
            if not same:
                break
            obs, *_ = self.env.step(self._env_action(action))
            same = _close(obs, logged)
        if same:
            self._frame = self._render()
            return
        self.logger.log(
            f"Episode {number} replays differently from the log (is the env "
            "deterministic given its seed?); it is left out and a new one starts."
        )
        self.log.add_abandon(number)
        self._new_episode()

    def _env_action(self, action: Any) -> Any:
        if isinstance(self.env.action_space, spaces.Discrete):
            return int(np.asarray(action))
        return np.asarray(action, dtype=self.env.action_space.dtype)

    def _new_episode(self) -> None:
        seed = self.seed + len(self.log.episodes)
        obs, _ = self.env.reset(seed=seed)
        self.log.add_reset(seed, obs)
        self._frame = self._render()

    def _render(self) -> bytes:
        return rendering.encode_jpeg(rendering.check_frame(self.env.render()))

    @property
    def n_episodes(self) -> int:
        """Finished episodes in the log (from earlier runs too)."""
        with self._cond:
            return len(self.log.trajectories())

    def trajectories(self) -> list[types.TrajectoryWithRew]:
        """The finished episodes, in the order played."""
        with self._cond:
            return self.log.trajectories()

    def wait_for_episodes(self, n: int, timeout: float | None = None) -> None:
        """Wait until ``n`` episodes are finished.

        Raises:
            TimeoutError: If ``timeout`` seconds pass first.
            RuntimeError: If the player is closed.
        """
        if not self.wait_until(lambda: len(self.log.trajectories()) >= n, timeout):
            raise TimeoutError(
                f"{self.n_episodes} of {n} episodes played within timeout={timeout} "
                f"s; play at {self.address} (URL with token on the terminal), or "
                "raise the timeout."
            )

    # -- The web page's side (called from the server thread) ----------------

    def _current(self) -> tuple[int, int]:
        number = len(self.log.episodes) - 1
        return number, len(self.log.episodes[number].acts)

    def status(self) -> dict[str, Any]:
        """The episode, step, controls and the current frame's address."""
        with self._cond:
            number, t = self._current()
            episode = self.log.episodes[number]
            return {
                "episode": number,
                "t": t,
                "return": float(sum(episode.rews)),
                "finished": len(self.log.trajectories()),
                "controls": [[label, key] for label, key, _ in self.controls],
                "frame": f"/frame/{number}/{t}.jpg",
            }

    def frame(self, number: int, t: int) -> bytes | None:
        """The JPEG of the current state, if ``(number, t)`` is it (else None)."""
        with self._cond:
            return self._frame if (number, t) == self._current() else None

    def act(self, number: int, t: int, control: int) -> dict[str, Any]:
        """Step the env with a control's action and record the step durably.

        Raises:
            ValueError: If ``(number, t)`` is not the current step (a stale
                or replayed request).
            IndexError: If ``control`` is not one of the controls.
            RuntimeError: If the player is closed.
        """
        with self._cond:
            self._check_open()
            if (number, t) != self._current():
                raise ValueError(f"Step {t} of episode {number} is not the current.")
            if not 0 <= control < len(self.controls):
                raise IndexError(control)
            action = self._env_action(self.controls[control][2])
            obs, rew, terminated, truncated, _ = self.env.step(action)
            self.log.add_step(
                number,
                np.asarray(action),
                obs,
                float(rew),
                bool(terminated),
                bool(truncated),
            )
            if terminated or truncated:
                self.logger.log(
                    f"Episode {number} finished after {t + 1} steps, return "
                    f"{sum(self.log.episodes[number].rews):.1f}"
                )
                self._new_episode()
            else:
                self._frame = self._render()
            self._cond.notify_all()
        return self.status()

    # -- Saving and lifetime ----------------------------------------------------

    def save(self, path: types.AnyPath, minari_id: str | None = None) -> int:
        """Save the finished episodes; returns how many.

        Args:
            path: Directory for :func:`imitation.data.serialize.save`.
            minari_id: Also write them as a new local Minari dataset with
                this id (``[namespace/]name-v<version>``); needs ``minari``.

        Raises:
            ValueError: If no episode is finished.
        """
        from imitation.data import serialize

        trajectories = self.trajectories()
        if not trajectories:
            raise ValueError("No finished episode to save yet.")
        serialize.save(path, trajectories)
        if minari_id is not None:
            from imitation.data import minari as imitation_minari

            imitation_minari.save_trajectories(
                minari_id,
                trajectories,
                env=self.env,
                algorithm_name="human play (imitation HumanPlayer)",
            )
        return len(trajectories)

    def _release(self) -> None:
        """Close the log and the environment."""
        self.log.close()
        self.env.close()
