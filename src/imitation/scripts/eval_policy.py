"""Roll out a policy (the ``expert`` ingredient's) and report its statistics.

Run ``python -m imitation.scripts.eval_policy with expert.policy_type=ppo
expert.loader_kwargs.path=<model.zip> ...``. Output in ``<log_dir>``:
``monitor/mon*.monitor.csv`` (one per environment), ``videos/`` with
``videos=True``, and the rollouts at ``rollout_save_path`` (relative to
``log_dir``) when set.
"""

from __future__ import annotations

import pathlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnvWrapper

from imitation.data import rollout, serialize, wrappers
from imitation.policies import exploration_wrapper
from imitation.rewards import reward_wrapper
from imitation.rewards import serialize as reward_serialize
from imitation.scripts._console import run_console
from imitation.scripts.config.eval_policy import eval_policy_ex
from imitation.scripts.ingredients import environment as environment_ingredient
from imitation.scripts.ingredients import expert as expert_ingredient
from imitation.scripts.ingredients import logging as logging_ingredient
from imitation.util import video_wrapper


class InteractiveRender(VecEnvWrapper):
    """Show the first environment after every step, at most ``fps`` frames a second."""

    def __init__(self, venv: Any, fps: float) -> None:
        """Wrap ``venv`` (made with ``render_mode="human"``)."""
        super().__init__(venv)
        self.render_fps = fps
        self._last = 0.0

    def reset(self) -> Any:
        """Reset and show the first frame."""
        obs = self.venv.reset()
        self._show()
        return obs

    def step_wait(self) -> Any:
        """Step and show the new frame."""
        result = self.venv.step_wait()
        self._show()
        return result

    def _show(self) -> None:
        wait = 1 / self.render_fps - (time.perf_counter() - self._last)
        if wait > 0:
            time.sleep(wait)
        self.venv.env_method("render", indices=[0])
        self._last = time.perf_counter()


def video_wrapper_factory(
    log_dir: pathlib.Path, **video_kwargs: Any
) -> Callable[[gym.Env, int], gym.Env]:
    """A post-wrapper recording the first environment to ``<log_dir>/videos``."""
    kwargs = {"delete_on_close": False, **video_kwargs}  # the videos are output

    def wrap(env: gym.Env, index: int) -> gym.Env:
        if index != 0:
            return env
        return video_wrapper.VideoWrapper(env, log_dir / "videos", **kwargs)

    return wrap


def _play_in_browser(
    log_dir: pathlib.Path,
    human_config: Mapping[str, Any],
    environment_config: Mapping[str, Any],
    n_episodes: int,
    rollout_save_path: str | None,
    seed: int,
    custom_logger: Any,
) -> Mapping[str, float]:
    """A person plays ``n_episodes`` episodes in the browser; their statistics."""
    from imitation.algorithms.preference_comparisons import human

    config = dict(human_config)
    play_log = config.pop("play_log") or log_dir / "human_play.jsonl"
    minari_id, timeout = config.pop("minari_id"), config.pop("timeout")
    if minari_id is not None and rollout_save_path is None:
        raise ValueError("human.minari_id needs rollout_save_path as well.")
    env = gym.make(
        environment_ingredient.gym_make_id(environment_config["gym_id"]),
        render_mode="rgb_array",
        max_episode_steps=environment_config["max_episode_steps"],
        **environment_config["env_make_kwargs"],
    )
    controls = config.pop("controls")
    with human.HumanPlayer(
        env,
        play_log,
        controls=None if controls is None else [tuple(c) for c in controls],
        seed=seed,
        custom_logger=custom_logger,
        **config,
    ) as player:
        player.wait_for_episodes(n_episodes, timeout)
        trajectories = player.trajectories()
        if rollout_save_path is not None:
            player.save(log_dir / rollout_save_path, minari_id)
    return rollout.rollout_stats(trajectories)


@eval_policy_ex.main
def eval_policy(
    eval_n_timesteps: int | None,
    eval_n_episodes: int | None,
    videos: bool,
    video_kwargs: Mapping[str, Any],
    render: bool,
    render_fps: int,
    rollout_save_path: str | None,
    explore_kwargs: Mapping[str, Any] | None,
    reward_type: str | None,
    reward_path: str | None,
    expert: Mapping[str, Any],
    environment: Mapping[str, Any],
    human: Mapping[str, Any],
    _seed: int,
) -> Mapping[str, float]:
    """Roll out the expert; save monitors, videos and rollouts as configured.

    With ``expert.policy_type=human`` a person plays ``eval_n_episodes``
    episodes (default 1) in the browser instead (see ``human``); the URL,
    with its session token, is printed to the terminal.

    Returns:
        Rollout statistics (:func:`imitation.data.rollout.rollout_stats`).
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    if expert["policy_type"] == "human":
        return _play_in_browser(
            log_dir,
            human,
            environment,
            eval_n_episodes or 1,
            rollout_save_path,
            _seed,
            custom_logger,
        )
    post_wrappers: list[Callable[[gym.Env, int], gym.Env]] = [
        lambda env, _: wrappers.RolloutInfoWrapper(env)
    ]
    env_make_kwargs: dict[str, Any] = {}
    if videos:
        post_wrappers.insert(0, video_wrapper_factory(log_dir, **video_kwargs))
        env_make_kwargs["render_mode"] = "rgb_array"
    if render:
        env_make_kwargs["render_mode"] = "human"
    venv = environment_ingredient.make_venv(
        log_dir=str(log_dir),
        post_wrappers=post_wrappers,
        extra_env_make_kwargs=env_make_kwargs,
    )
    try:
        if render:
            venv = InteractiveRender(venv, render_fps)
        if reward_type is not None:
            if reward_path is None:
                raise ValueError("reward_type is set, so reward_path is needed too.")
            venv = reward_wrapper.RewardVecEnvWrapper(
                venv, reward_serialize.load_reward(reward_type, reward_path, venv)
            )
        policy: Any = expert_ingredient.get_expert_policy(venv)
        if explore_kwargs is not None:
            policy = exploration_wrapper.ExplorationWrapper(
                policy, venv, rng=np.random.default_rng(_seed), **explore_kwargs
            )
        trajs = rollout.generate_trajectories(
            policy,
            venv,
            rollout.make_sample_until(
                min_timesteps=eval_n_timesteps, min_episodes=eval_n_episodes
            ),
            rng=np.random.default_rng(_seed),
        )
        if rollout_save_path is not None:
            unwrapped = [rollout.unwrap_traj(t).without_infos() for t in trajs]
            serialize.save(log_dir / rollout_save_path, unwrapped)
        return rollout.rollout_stats(trajs)
    finally:
        venv.close()


def main_console() -> None:
    """Entry point of ``imitation-eval-policy``."""
    run_console(eval_policy_ex, "eval_policy")


if __name__ == "__main__":  # pragma: no cover
    main_console()
