"""The reinforcement-learning algorithm (``rl``), an SB3 algorithm class.

For on-policy algorithms ``batch_size`` is the number of environment steps per
update: each of the ``num_vec`` environments collects
``batch_size // num_vec`` steps (SB3's ``n_steps``).
"""

from __future__ import annotations

from typing import Any

import sacred
import stable_baselines3 as sb3
from stable_baselines3.common import base_class, on_policy_algorithm
from stable_baselines3.common.vec_env import VecEnv

from imitation.policies import serialize
from imitation.scripts.ingredients import names, policy
from imitation.util import presets

rl_ingredient = sacred.Ingredient(
    "rl",
    ingredients=[policy.policy_ingredient],
    _caller_globals=globals(),
    save_git_info=False,
)


@rl_ingredient.config
def config() -> None:
    """The algorithm and its settings."""
    rl_cls = sb3.PPO  # an SB3 algorithm class, or its name (e.g. "SAC")
    batch_size = 2048  # on-policy: environment steps per update
    # more constructor arguments (PPO: imitation's defaults)
    rl_kwargs = dict(presets.PPO_DEFAULTS) if rl_cls in (sb3.PPO, "PPO") else {}


@rl_ingredient.named_config
def fast() -> None:
    """Tiny updates, for smoke tests."""
    batch_size = 8
    rl_kwargs = dict(batch_size=4)


@rl_ingredient.named_config
def sac() -> None:
    """SAC (pair with ``policy.sac``)."""
    rl_cls = sb3.SAC


def _is_on_policy(rl_cls: type) -> bool:
    return issubclass(rl_cls, on_policy_algorithm.OnPolicyAlgorithm)


@rl_ingredient.capture
def make_rl_algo(
    venv: VecEnv,
    rl_cls: Any,
    batch_size: int,
    rl_kwargs: dict[str, Any],
    _seed: int,
) -> base_class.BaseAlgorithm:
    """A new algorithm on ``venv`` with the configured policy.

    Raises:
        ValueError: If ``rl_cls`` is unknown, or (on-policy) ``batch_size`` is
            not a positive multiple of the number of environments.
    """
    rl_cls = names.resolve_class(rl_cls, "rl.rl_cls")
    kwargs = names.resolve_nested(dict(rl_kwargs), "rl.rl_kwargs")
    policy_cls, policy_kwargs = policy.make_policy_args()
    base_policy = rl_cls.policy_aliases.get("MlpPolicy")
    if base_policy is not None and not issubclass(policy_cls, base_policy):
        raise ValueError(
            f"policy.policy_cls={policy_cls.__name__} is not a policy for "
            f"{rl_cls.__name__} (it needs a {base_policy.__name__}); for SAC add "
            "the named config policy.sac, or set policy.policy_cls."
        )
    if _is_on_policy(rl_cls):
        if batch_size <= 0 or batch_size % venv.num_envs:
            raise ValueError(
                f"rl.batch_size={batch_size} must be a positive multiple of "
                f"environment.num_vec={venv.num_envs} (each environment collects "
                "batch_size / num_vec steps per update)."
            )
        kwargs["n_steps"] = batch_size // venv.num_envs
    return rl_cls(
        policy=policy_cls,
        env=venv,
        policy_kwargs=policy_kwargs,
        seed=_seed,
        device="cpu",
        **kwargs,
    )


@rl_ingredient.capture
def load_rl_algo_from_path(
    agent_path: str, venv: VecEnv, rl_cls: Any
) -> base_class.BaseAlgorithm:
    """Resume an algorithm saved as an SB3 zip, on ``venv``."""
    rl_cls = names.resolve_class(rl_cls, "rl.rl_cls")
    return serialize.load_stable_baselines_model(rl_cls, agent_path, venv)
