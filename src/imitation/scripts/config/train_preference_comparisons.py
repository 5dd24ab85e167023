"""The ``train_preference_comparisons`` experiment: learn a reward from comparisons."""

from __future__ import annotations

from typing import Any

import sacred

from imitation.scripts.config import common
from imitation.scripts.ingredients import (
    environment,
    logging,
    policy,
    policy_evaluation,
    reward,
    rl,
)

train_preference_comparisons_ex = sacred.Experiment(
    "train_preference_comparisons",
    ingredients=[
        logging.logging_ingredient,
        environment.environment_ingredient,
        reward.reward_ingredient,
        rl.rl_ingredient,
        policy.policy_ingredient,
        policy_evaluation.policy_evaluation_ingredient,
    ],
)


@train_preference_comparisons_ex.config
def train_defaults() -> None:
    """Budgets, fragments, the query schedule and what to save."""
    fragment_length = 100  # steps per fragment
    total_timesteps = int(1e6)  # environment steps of agent training
    total_comparisons = 5000  # preferences to gather in total
    num_iterations = 5  # rounds of sampling, comparing and training
    comparison_queue_size = None  # keep at most this many comparisons
    initial_comparison_frac = 0.1  # share of comparisons gathered before training
    query_schedule = "hyperbolic"  # "constant", "hyperbolic" or "inverse_quadratic"
    exploration_frac = 0.0  # share of agent steps taken with random actions
    transition_oversampling = 1  # sample this many times the transitions needed
    trajectory_path = None  # compare saved trajectories instead of the agent's
    trajectory_generator_kwargs = dict[str, Any]()  # more AgentTrainer arguments
    save_preferences = False  # save the gathered preferences at the end
    agent_path = None  # start the agent from this saved SB3 zip
    reward_trainer_kwargs = dict(epochs=3)  # BasicRewardTrainer
    preference_model_kwargs = dict[str, Any]()  # PreferenceModel arguments
    fragmenter_kwargs = dict(warning_threshold=0)
    gatherer_cls = "SyntheticGatherer"  # gives preferences (or "HumanGatherer")
    gatherer_kwargs = dict[str, Any]()  # its arguments
    active_selection = False  # pick the pairs the reward ensemble disagrees on
    active_selection_oversampling = 2  # candidate pairs per chosen pair
    uncertainty_on = "logit"  # "logit", "probability" or "label"
    allow_variable_horizon = False  # accept episodes of different lengths
    checkpoint_interval = 0  # iterations between checkpoints (0: final only)


@train_preference_comparisons_ex.named_config
def human_preferences() -> None:
    """Ask a person in the browser (``HumanGatherer``); the run prints the URL.

    Answers are logged to ``<log_dir>/human_preferences.jsonl`` unless
    ``gatherer_kwargs.answer_log`` names another file; point it at the log
    of an interrupted run to resume it. The environment must be one the
    built-in renderer supports (CartPole, Pendulum, MountainCar).
    """
    gatherer_cls = "HumanGatherer"
    gatherer_kwargs = dict(
        mode="sync",  # "async": keep training while answers come in
        host="127.0.0.1",  # see docs/human-preferences.md before changing
        port=0,  # 0: any free port
    )


@train_preference_comparisons_ex.named_config
def fast() -> None:
    """Tiny budgets, for smoke tests (also set the ingredients' fast configs)."""
    total_timesteps = 50
    total_comparisons = 5
    num_iterations = 1
    fragment_length = 2
    reward_trainer_kwargs = dict(epochs=1)


common.add_environment_configs(
    train_preference_comparisons_ex,
    [
        name
        for name in common.RL_ENVIRONMENTS
        if name not in ("acrobot", "ant", "reacher")
    ],
)
common.record_cpu_time(train_preference_comparisons_ex)
