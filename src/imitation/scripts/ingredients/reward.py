"""The reward network (``reward``), optionally output-normalised or an ensemble."""

from __future__ import annotations

from typing import Any

import sacred
from stable_baselines3.common.vec_env import VecEnv

from imitation.rewards import reward_nets
from imitation.scripts.ingredients import names
from imitation.util import networks

reward_ingredient = sacred.Ingredient(
    "reward", _caller_globals=globals(), save_git_info=False
)


@reward_ingredient.config
def config() -> None:
    """The reward network's class and its settings."""
    net_cls = None  # None: the algorithm's own default (AIRL: a shaped net)
    net_kwargs = dict(normalize_input_layer=networks.RunningNorm)
    normalize_output_layer = networks.RunningNorm  # None: no output normalisation
    ensemble_size = None  # with net_cls=RewardEnsemble: the number of members
    ensemble_member_config = dict[str, Any]()  # RewardEnsemble: each member's config
    add_std_alpha = None  # ensemble: reward = mean + alpha * std for the agent


@reward_ingredient.named_config
def normalize_input_disable() -> None:
    """No input normalisation."""
    net_kwargs = dict(normalize_input_layer=None)


@reward_ingredient.named_config
def normalize_input_running() -> None:
    """Normalise inputs with running statistics."""
    net_kwargs = dict(normalize_input_layer=networks.RunningNorm)


@reward_ingredient.named_config
def normalize_output_disable() -> None:
    """No output normalisation."""
    normalize_output_layer = None


@reward_ingredient.named_config
def normalize_output_running() -> None:
    """Normalise the agent's rewards with running statistics."""
    normalize_output_layer = networks.RunningNorm


@reward_ingredient.named_config
def normalize_output_ema() -> None:
    """Normalise the agent's rewards with exponential moving averages."""
    normalize_output_layer = networks.EMANorm


@reward_ingredient.named_config
def reward_ensemble() -> None:
    """An ensemble of five nets; the agent's reward is the members' mean."""
    net_cls = reward_nets.RewardEnsemble
    ensemble_size = 5
    add_std_alpha = 0
    ensemble_member_config = dict(
        net_cls=reward_nets.BasicRewardNet,
        net_kwargs={},
        normalize_output_layer=networks.RunningNorm,
    )


def _make_net(
    venv: VecEnv, net_cls: Any, net_kwargs: dict[str, Any], key: str
) -> reward_nets.RewardNet:
    net_cls = names.resolve_class(net_cls, f"{key}.net_cls")
    kwargs = names.resolve_nested(dict(net_kwargs), f"{key}.net_kwargs")
    return net_cls(venv.observation_space, venv.action_space, **kwargs)


def _normalized(
    net: reward_nets.RewardNet, layer: Any, key: str
) -> reward_nets.RewardNet:
    layer = names.resolve_class(layer, f"{key}.normalize_output_layer")
    return net if layer is None else reward_nets.NormalizedRewardNet(net, layer)


@reward_ingredient.capture
def make_reward_net(
    venv: VecEnv,
    net_cls: Any,
    net_kwargs: dict[str, Any],
    normalize_output_layer: Any,
    ensemble_size: int | None,
    ensemble_member_config: dict[str, Any],
    add_std_alpha: float | None,
    default_net_cls: Any = reward_nets.BasicRewardNet,
) -> reward_nets.RewardNet:
    """The configured reward net for ``venv``.

    Args:
        venv: The environment.
        net_cls: The net's class (None: ``default_net_cls``).
        net_kwargs: Its constructor arguments.
        normalize_output_layer: Output normalisation (None: none).
        ensemble_size: Members of a ``RewardEnsemble``.
        ensemble_member_config: Each member's ``net_cls``, ``net_kwargs`` and
            ``normalize_output_layer``.
        add_std_alpha: For an ensemble, the agent's reward adds ``alpha`` times
            the members' standard deviation.
        default_net_cls: The calling algorithm's default class.

    Raises:
        ValueError: If the ensemble settings are incomplete.
    """
    net_cls = names.resolve_class(net_cls, "reward.net_cls") or default_net_cls
    if net_cls is reward_nets.RewardEnsemble:
        if not ensemble_size or ensemble_size < 1:
            raise ValueError(
                "reward.net_cls=RewardEnsemble needs reward.ensemble_size >= 1."
            )
        member = dict(ensemble_member_config)
        members = [
            _normalized(
                _make_net(
                    venv,
                    member.get("net_cls", reward_nets.BasicRewardNet),
                    member.get("net_kwargs", {}),
                    "reward.ensemble_member_config",
                ),
                member.get("normalize_output_layer"),
                "reward.ensemble_member_config",
            )
            for _ in range(ensemble_size)
        ]
        ensemble = reward_nets.RewardEnsemble(
            venv.observation_space, venv.action_space, members
        )
        if add_std_alpha is None:
            return ensemble
        return reward_nets.AddSTDRewardWrapper(ensemble, default_alpha=add_std_alpha)
    net = _make_net(venv, net_cls, net_kwargs, "reward")
    return _normalized(net, normalize_output_layer, "reward")
