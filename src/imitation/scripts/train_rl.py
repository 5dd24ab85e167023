"""Train an RL agent; save checkpoints, the final policy and its rollouts.

Run ``python -m imitation.scripts.train_rl [print_config] with <named configs>
<key=value ...>`` (``print_named_configs`` lists the named configs). Output in
``<log_dir>``: ``log/`` (TensorBoard), ``monitor/`` (episode CSVs),
``policies/<steps>/model.zip`` checkpoints and ``policies/final/model.zip``,
``rollouts/final`` (a dataset folder) and ``rollouts/final.npz``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from stable_baselines3.common import callbacks
from stable_baselines3.common.vec_env import VecNormalize

from imitation.data import rollout, serialize, wrappers
from imitation.policies import serialize as policy_serialize
from imitation.rewards import reward_wrapper
from imitation.rewards import serialize as reward_serialize
from imitation.scripts._console import run_console
from imitation.scripts.config.train_rl import train_rl_ex
from imitation.scripts.ingredients import environment, policy_evaluation, rl
from imitation.scripts.ingredients import logging as logging_ingredient


@train_rl_ex.main
def train_rl(
    *,
    total_timesteps: int,
    normalize_reward: bool,
    normalize_kwargs: dict[str, Any],
    reward_type: str | None,
    reward_path: str | None,
    load_reward_kwargs: dict[str, Any],
    rollout_save_final: bool,
    rollout_save_n_timesteps: int | None,
    rollout_save_n_episodes: int | None,
    policy_save_interval: int,
    policy_save_final: bool,
    agent_path: str | None,
    _seed: int,
) -> Mapping[str, float]:
    """Train the agent and save what is asked for.

    Returns:
        Rollout statistics of the final policy (``policy_evaluation``).
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    venv = environment.make_venv(
        log_dir=str(log_dir),
        post_wrappers=[lambda env, _: wrappers.RolloutInfoWrapper(env)],
    )
    try:
        callback_list: list[callbacks.BaseCallback] = []
        if reward_type is not None:
            if reward_path is None:
                raise ValueError("reward_type is set, so reward_path is needed too.")
            reward_fn = reward_serialize.load_reward(
                reward_type, reward_path, venv, **load_reward_kwargs
            )
            venv = reward_wrapper.RewardVecEnvWrapper(venv, reward_fn)
            callback_list.append(venv.make_log_callback())
        if normalize_reward:
            venv = VecNormalize(venv, norm_reward=True, **normalize_kwargs)
        policy_dir = log_dir / "policies"
        if policy_save_interval > 0:
            callback_list.append(
                callbacks.EveryNTimesteps(
                    policy_save_interval,
                    policy_serialize.SavePolicyCallback(policy_dir),
                )
            )
        if agent_path is None:
            agent = rl.make_rl_algo(venv)
        else:
            agent = rl.load_rl_algo_from_path(agent_path=agent_path, venv=venv)
        agent.set_logger(custom_logger)
        agent.learn(total_timesteps, callback=callback_list)
        if isinstance(venv, VecNormalize):
            venv.training = False  # evaluation and rollouts leave the stats alone
        if policy_save_final:
            policy_serialize.save_stable_model(policy_dir / "final", agent)
            if isinstance(venv, VecNormalize):
                venv.save(str(policy_dir / "final" / "vec_normalize.pkl"))
        if rollout_save_final:
            trajs = rollout.rollout(
                agent,
                venv,
                rollout.make_sample_until(
                    min_timesteps=rollout_save_n_timesteps,
                    min_episodes=rollout_save_n_episodes,
                ),
                rng=np.random.default_rng(_seed),
                verbose=False,
            )
            serialize.save(log_dir / "rollouts" / "final", trajs)
            serialize.save_npz(log_dir / "rollouts" / "final.npz", trajs)
        return policy_evaluation.eval_policy(agent, venv)
    finally:
        venv.close()


def main_console() -> None:
    """Entry point of ``imitation-train-rl``."""
    run_console(train_rl_ex, "train_rl")


if __name__ == "__main__":  # pragma: no cover
    main_console()
