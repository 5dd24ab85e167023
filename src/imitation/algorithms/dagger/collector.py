"""Collecting DAgger's demonstrations: the expert labels, the learner may act.

Each completed episode is saved as its own numbered file of its round's
directory (``round-003/demos_round_003_000.npz``, ...), written atomically.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common import vec_env

from imitation.data import rollout, serialize, types
from imitation.util import util

_DEMO_FILE = re.compile(r"demos_round_(\d{3})_(\d{3,})\.npz$")


def _demo_files(round_dir: pathlib.Path) -> list[pathlib.Path]:
    if not round_dir.is_dir():
        return []
    return sorted(p for p in round_dir.iterdir() if _DEMO_FILE.match(p.name))


def _save_demo(
    round_dir: pathlib.Path, round_num: int, traj: types.Trajectory
) -> pathlib.Path:
    """Save one demonstration as the next numbered file of its round, atomically."""
    index = len(_demo_files(round_dir))
    path = round_dir / f"demos_round_{round_num:03d}_{index:03d}.npz"
    serialize.save_npz(path, [traj])
    return path


class InteractiveTrajectoryCollector(vec_env.VecEnvWrapper):
    """Records the demonstrator's actions while mixing in the learner's.

    ``step(actions)`` takes the demonstrator's actions. Each env, independently
    at every step, executes that action with probability ``beta`` and the
    learner's action (from ``get_robot_acts``) otherwise. The demonstrator's
    actions are what is recorded: every completed episode is saved to
    ``save_dir`` as a ``TrajectoryWithRew``.
    """

    def __init__(
        self,
        venv: vec_env.VecEnv,
        get_robot_acts: Callable[[np.ndarray], np.ndarray],
        beta: float,
        save_dir: types.AnyPath,
        rng: np.random.Generator,
    ) -> None:
        """Build the collector.

        Args:
            venv: The environment to collect in.
            get_robot_acts: The learner: batch of observations to actions.
            beta: Probability of executing the demonstrator's action.
            save_dir: Where completed episodes are saved.
            rng: Generator for the choice of whose action is executed.

        Raises:
            ValueError: If ``beta`` is outside [0, 1].
        """
        super().__init__(util.check_vec_env(venv))
        if not 0 <= beta <= 1:
            raise ValueError(f"beta={beta} must be in [0, 1].")
        self.get_robot_acts = get_robot_acts
        self.beta = beta
        self.save_dir = util.parse_path(save_dir)
        self.rng = util.check_rng(rng)
        match = re.search(r"round-(\d+)$", self.save_dir.name)
        self._round_num = int(match.group(1)) if match else 0
        self.traj_accum: rollout.TrajectoryAccumulator | None = None
        self._last_obs: Any = None
        self._expert_acts: np.ndarray | None = None
        self._is_reset = False

    def seed(self, seed: int | None = None) -> Sequence[int | None]:  # type: ignore[override]
        """Seed the choice of actions and the wrapped env."""
        self.rng = np.random.default_rng(seed)
        return self.venv.seed(seed)

    def reset(self) -> Any:
        """Reset the env and start recording new episodes."""
        obs = self.venv.reset()
        self.traj_accum = rollout.TrajectoryAccumulator(self.num_envs)
        self.traj_accum.reset(types.maybe_wrap_in_dictobs(obs))
        self._last_obs = obs
        self._is_reset = True
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Execute ``actions`` (the expert's) or, w.p. ``1 - beta``, the learner's.

        Raises:
            RuntimeError: If ``reset`` has not been called.
        """
        if not self._is_reset:
            raise RuntimeError("Call reset() before step().")
        actions = np.asarray(actions)
        self._expert_acts = actions
        use_robot = self.rng.uniform(size=self.num_envs) > self.beta
        if use_robot.any():
            robot = np.asarray(self.get_robot_acts(self._last_obs))
            mask = use_robot.reshape((-1,) + (1,) * (actions.ndim - 1))
            actions = np.where(mask, robot, actions)
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        """Step, and save every episode that ended."""
        assert self.traj_accum is not None and self._expert_acts is not None
        obs, rews, dones, infos = self.venv.step_wait()
        finished = self.traj_accum.add_step(
            self._expert_acts,
            types.maybe_wrap_in_dictobs(obs),
            rews,
            dones,
            infos,
        )
        for traj in finished:
            _save_demo(self.save_dir, self._round_num, traj.without_infos())
        self._last_obs = obs
        return obs, rews, dones, infos
