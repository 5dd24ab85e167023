"""The ``eval_policy`` experiment: roll out a policy, report statistics."""

from __future__ import annotations

from typing import Any

import sacred

from imitation.scripts.config import common
from imitation.scripts.ingredients import environment, expert, logging

eval_policy_ex = sacred.Experiment(
    "eval_policy",
    ingredients=[
        logging.logging_ingredient,
        environment.environment_ingredient,
        expert.expert_ingredient,
    ],
)


@eval_policy_ex.config
def default_config() -> None:
    """How much to roll out, and what to record."""
    eval_n_timesteps = int(1e4)  # at least this many steps ...
    eval_n_episodes = None  # ... and at least this many episodes
    videos = False  # record videos to <log_dir>/videos
    video_kwargs = dict[str, Any]()  # more arguments of util.video_wrapper.VideoWrapper
    render = False  # show the environment while rolling out
    render_fps = 60  # frames per second when rendering
    rollout_save_path = None  # save the rollouts here (relative to log_dir)
    explore_kwargs = None  # e.g. dict(random_prob=0.1, switch_prob=1.0)
    reward_type = None  # report a learned reward: its type ...
    reward_path = None  # ... and the saved reward net's path
    # With expert.policy_type=human: a person plays eval_n_episodes episodes
    # in the browser, one key per step; they are saved at rollout_save_path.
    human = dict(
        play_log=None,  # None: <log_dir>/human_play.jsonl; a path resumes it
        minari_id=None,  # also save as this local Minari dataset
        controls=None,  # [(label, key, action), ...]; None: keys per discrete action
        host="127.0.0.1",  # loopback only; see docs/human-preferences.md
        port=0,  # 0 picks a free one
        timeout=None,  # seconds to wait for the episodes (None: for ever)
    )


@eval_policy_ex.named_config
def fast() -> None:
    """One step (so one episode per environment), for smoke tests."""
    eval_n_timesteps = 1
    eval_n_episodes = None


@eval_policy_ex.named_config
def render() -> None:
    """Show the rollouts in a window (one environment, in-process)."""
    render = True
    environment = dict(num_vec=1, parallel=False)


@eval_policy_ex.named_config
def explore_eps_greedy() -> None:
    """Act randomly with probability 0.1 at each step."""
    explore_kwargs = dict(switch_prob=1.0, random_prob=0.1)


common.add_environment_configs(eval_policy_ex, common.RL_ENVIRONMENTS)
