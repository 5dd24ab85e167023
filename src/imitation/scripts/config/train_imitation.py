"""The ``train_imitation`` experiment: BC, DAgger and SQIL (commands)."""

from __future__ import annotations

import sacred

from imitation.scripts.config import common
from imitation.scripts.ingredients import (
    bc,
    demonstrations,
    environment,
    expert,
    logging,
    policy,
    policy_evaluation,
    rl,
    sqil,
)

train_imitation_ex = sacred.Experiment(
    "train_imitation",
    ingredients=[
        logging.logging_ingredient,
        demonstrations.demonstrations_ingredient,
        environment.environment_ingredient,
        expert.expert_ingredient,
        policy.policy_ingredient,
        policy_evaluation.policy_evaluation_ingredient,
        bc.bc_ingredient,
        rl.rl_ingredient,
        sqil.sqil_ingredient,
    ],
)


@train_imitation_ex.config
def config() -> None:
    """DAgger's settings (BC's and SQIL's are in their ingredients)."""
    dagger = dict(
        use_offline_rollouts=False,  # add the demonstrations to round 0's data
        total_timesteps=1e5,  # environment steps
        beta_schedule=None,  # None: linear; or dict(cls=..., **its arguments)
        rollout_round_min_episodes=3,  # episodes per round, at least (None: 3)
        # With expert.policy_type=human: a person labels states in the browser.
        human=dict(
            total_labels=500,  # stop once the label log holds this many labels
            label_log=None,  # None: <log_dir>/human_labels.jsonl; a path resumes
            retrain_every=25,  # retrain BC after this many new labels
            states_per_rollout=20,  # states queued from each rollout
            max_pending=40,  # roll out again while fewer states wait
            context=3,  # states before each one, shown fading behind it
            # Ask only states whose observation entries lie in these bounds,
            # {index: [low, high]}; e.g. {0: [-2.4, 2.4]}: the cart on screen.
            obs_bounds=None,
            action_names=None,  # a button label per action (None: "action i")
            host="127.0.0.1",  # loopback only; see docs/human-preferences.md
            port=0,  # 0 picks a free one
            timeout=None,  # seconds to wait for a label (None: for ever)
        ),
    )


@train_imitation_ex.named_config
def fast() -> None:
    """Tiny budgets for every command, for smoke tests."""
    dagger = dict(total_timesteps=50)
    bc = dict(batch_size=8, train_kwargs=dict(n_batches=50))
    sqil = dict(
        total_timesteps=200,
        rl_kwargs=dict(learning_starts=50, buffer_size=1_000, batch_size=8),
    )
    demonstrations = dict(n_expert_demos=1)
    policy_evaluation = dict(n_episodes_eval=1)
    environment = dict(num_vec=2, parallel=False, max_episode_steps=20)


common.add_environment_configs(
    train_imitation_ex,
    [
        "ant",
        "cartpole",
        "half_cheetah",
        "humanoid",
        "mountain_car",
        "pendulum",
        "seals_cartpole",
        "seals_humanoid",
        "seals_mountain_car",
    ],
)
common.add_tuned_configs(train_imitation_ex, ["bc", "dagger", "fast_dagger"])
common.record_cpu_time(train_imitation_ex)
