"""Learn a reward from preference comparisons (and train an agent on it).

Run ``python -m imitation.scripts.train_preference_comparisons with <named
configs> <key=value ...>``. Output in ``<log_dir>``: ``log/``, ``monitor/``,
``checkpoints/<iteration>/`` (every ``checkpoint_interval`` iterations) and
``checkpoints/final/`` with ``reward_net.pt`` (load with
:func:`imitation.rewards.serialize.load_reward_net`) and ``policy/model.zip``
(when an agent is trained), and ``preferences`` with ``save_preferences``.
With the named config ``human_preferences`` a person gives the preferences
in the browser (the run prints the page's URL); their answers are logged to
``human_preferences.jsonl``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch as th

from imitation.algorithms import preference_comparisons as pc
from imitation.data import serialize, wrappers
from imitation.policies import serialize as policy_serialize
from imitation.rewards import reward_nets
from imitation.scripts._console import run_console
from imitation.scripts.config.train_preference_comparisons import (
    train_preference_comparisons_ex,
)
from imitation.scripts.ingredients import (
    environment,
    names,
    policy_evaluation,
    reward,
    rl,
)
from imitation.scripts.ingredients import logging as logging_ingredient
from imitation.util import class_registry, util
from imitation.util.class_registry import Use

# The classes ``gatherer_cls`` may name, besides the ingredients' (names.py).
for _gatherer in (pc.SyntheticGatherer, pc.HumanGatherer):
    class_registry.register(Use.CONFIG)(_gatherer)


def save_model(agent_trainer: pc.AgentTrainer, save_path: pathlib.Path) -> None:
    """Save the agent's policy to ``save_path/model.zip``."""
    policy_serialize.save_stable_model(save_path, agent_trainer.algorithm)


def save_checkpoint(
    trainer: pc.PreferenceComparisons, save_path: pathlib.Path, allow_save_policy: bool
) -> None:
    """Save the reward net (and, if there is an agent, its policy)."""
    save_path.mkdir(parents=True, exist_ok=True)
    with util.atomic_write_path(save_path / "reward_net.pt") as tmp:
        th.save(trainer.model, tmp)
    if allow_save_policy:
        assert isinstance(trainer.trajectory_generator, pc.AgentTrainer)
        save_model(trainer.trajectory_generator, save_path / "policy")


@train_preference_comparisons_ex.main
def train_preference_comparisons(
    *,
    total_timesteps: int,
    total_comparisons: int,
    num_iterations: int,
    comparison_queue_size: int | None,
    fragment_length: int,
    transition_oversampling: float,
    initial_comparison_frac: float,
    exploration_frac: float,
    trajectory_path: str | None,
    trajectory_generator_kwargs: Mapping[str, Any],
    save_preferences: bool,
    agent_path: str | None,
    preference_model_kwargs: Mapping[str, Any],
    reward_trainer_kwargs: Mapping[str, Any],
    gatherer_cls: Any,
    gatherer_kwargs: Mapping[str, Any],
    active_selection: bool,
    active_selection_oversampling: int,
    uncertainty_on: str,
    fragmenter_kwargs: Mapping[str, Any],
    allow_variable_horizon: bool,
    checkpoint_interval: int,
    query_schedule: str,
    _seed: int,
) -> Mapping[str, Any]:
    """Run preference comparisons as configured.

    Returns:
        ``reward_loss`` and ``reward_accuracy`` of the last reward training,
        and ``rollout`` (the agent's statistics) when an agent was trained.

    Raises:
        ValueError: If ``active_selection`` is asked for without an ensemble.
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    rng = np.random.default_rng(_seed)
    venv = environment.make_venv(
        log_dir=str(log_dir),
        post_wrappers=[lambda env, _: wrappers.RolloutInfoWrapper(env)],
    )
    gatherer: pc.PreferenceGatherer | None = None
    try:
        reward_net = reward.make_reward_net(venv)
        model = pc.PreferenceModel(reward_net, **preference_model_kwargs)
        agent_trains = trajectory_path is None
        if trajectory_path is None:
            if agent_path is None:
                agent = rl.make_rl_algo(venv)
            else:
                agent = rl.load_rl_algo_from_path(agent_path=agent_path, venv=venv)
            generator: pc.TrajectoryGenerator = pc.AgentTrainer(
                agent,
                reward_net,
                venv,
                rng=rng,
                exploration_frac=exploration_frac,
                custom_logger=custom_logger,
                **trajectory_generator_kwargs,
            )
        else:
            generator = pc.TrajectoryDataset(
                serialize.load_with_rewards(trajectory_path),
                rng=rng,
                custom_logger=custom_logger,
                **trajectory_generator_kwargs,
            )
        fragmenter: pc.Fragmenter = pc.RandomFragmenter(
            rng=rng, custom_logger=custom_logger, **fragmenter_kwargs
        )
        is_ensemble = isinstance(
            reward_net, reward_nets.RewardEnsemble | reward_nets.AddSTDRewardWrapper
        )
        if active_selection:
            if not is_ensemble:
                raise ValueError(
                    "active_selection needs a reward ensemble: add the named "
                    "config reward.reward_ensemble."
                )
            fragmenter = pc.ActiveSelectionFragmenter(
                model,
                fragmenter,
                active_selection_oversampling,
                uncertainty_on=uncertainty_on,
                custom_logger=custom_logger,
            )
        gatherer_cls = names.resolve_class(gatherer_cls, "gatherer_cls")
        gatherer_kwargs = dict(gatherer_kwargs)
        if isinstance(gatherer_cls, type) and issubclass(
            gatherer_cls, pc.HumanGatherer
        ):
            gatherer_kwargs.setdefault("renderer", venv.get_attr("spec", [0])[0].id)
            gatherer_kwargs.setdefault(
                "answer_log", log_dir / "human_preferences.jsonl"
            )
        gatherer = gatherer_cls(rng=rng, custom_logger=custom_logger, **gatherer_kwargs)
        trainer_cls = pc.EnsembleTrainer if is_ensemble else pc.BasicRewardTrainer
        trainer = pc.PreferenceComparisons(
            generator,
            reward_net,
            num_iterations=num_iterations,
            fragmenter=fragmenter,
            preference_gatherer=gatherer,
            reward_trainer=trainer_cls(
                model,
                pc.CrossEntropyRewardLoss(),
                rng=rng,
                custom_logger=custom_logger,
                **reward_trainer_kwargs,
            ),
            comparison_queue_size=comparison_queue_size,
            fragment_length=fragment_length,
            transition_oversampling=transition_oversampling,
            initial_comparison_frac=initial_comparison_frac,
            custom_logger=custom_logger,
            allow_variable_horizon=allow_variable_horizon,
            rng=rng,
            query_schedule=query_schedule,
        )

        def checkpoint(iteration: int) -> None:
            if checkpoint_interval > 0 and iteration % checkpoint_interval == 0:
                save_checkpoint(
                    trainer, log_dir / "checkpoints" / f"{iteration:04d}", agent_trains
                )

        results = dict(
            trainer.train(total_timesteps, total_comparisons, callback=checkpoint)
        )
        save_checkpoint(trainer, log_dir / "checkpoints" / "final", agent_trains)
        if save_preferences:
            trainer.dataset.save(log_dir / "preferences")
        if agent_trains:
            results["rollout"] = policy_evaluation.eval_policy(agent, venv)
        return results
    finally:
        if gatherer is not None and hasattr(gatherer, "close"):
            gatherer.close()
        venv.close()


def main_console() -> None:
    """Entry point of ``imitation-train-preference-comparisons``."""
    run_console(train_preference_comparisons_ex, "train_preference_comparisons")


if __name__ == "__main__":  # pragma: no cover
    main_console()
