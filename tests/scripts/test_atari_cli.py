"""The command line on an Atari game: a CNN policy trained and evaluated on Pong."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import run

from imitation.data import serialize
from imitation.scripts.ingredients import environment

# Tiny budgets: 2 in-process Pong environments, 20-step episodes, one PPO
# update of one minibatch.
FAST = [
    "environment.fast",
    "policy_evaluation.fast",
    "fast",
]
RL_FAST = [
    "rl.fast",
    "total_timesteps=32",
    "rl.batch_size=16",
    "rl.rl_kwargs.batch_size=16",
    "rl.rl_kwargs.n_epochs=1",
    "policy_save_interval=0",
    "rollout_save_n_timesteps=20",
]


@pytest.mark.parametrize(
    ("gym_id", "make_id"),
    [
        ("ALE/Pong-v5", "ale_py:ALE/Pong-v5"),
        ("PongNoFrameskip-v4", "ale_py:PongNoFrameskip-v4"),
        ("ale_py:ALE/Breakout-v5", "ale_py:ALE/Breakout-v5"),
        ("CartPole-v1", "CartPole-v1"),
        ("seals/CartPole-v0", "seals:seals/CartPole-v0"),
        ("NoSuchEnv-v0", "NoSuchEnv-v0"),  # gymnasium.make names the problem
    ],
)
def test_ale_ids_import_ale_py(gym_id, make_id):
    """Every process making the env (parallel workers too) imports ale_py first."""
    assert environment.gym_make_id(gym_id) == make_id


def test_ale_id_without_ale_py_names_the_extra(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ale_py" else real_find_spec(name, *a),
    )
    with pytest.raises(ValueError, match=r"pip install imitation\[atari\]"):
        environment.gym_make_id("ALE/Pong-v5")


def test_train_rl_then_eval_policy_with_cnn_policy_on_pong(tmp_path):
    train_dir = tmp_path / "train"
    run(
        tmp_path,
        "train_rl",
        "with",
        "policy.cnn_policy",
        "environment.gym_id=ALE/Pong-v5",
        f"logging.log_dir={train_dir}",
        *FAST,
        *RL_FAST,
    )
    model = train_dir / "policies" / "final" / "model.zip"
    assert model.is_file()
    # Rollouts keep the environment's frames (channels last); the policy saw
    # them transposed.
    trajs = serialize.load(train_dir / "rollouts" / "final")
    assert trajs and trajs[0].obs.shape[1:] == (210, 160, 3)
    assert trajs[0].obs.dtype == np.uint8

    eval_dir = tmp_path / "eval"
    result = run(
        tmp_path,
        "eval_policy",
        "with",
        "environment.gym_id=ALE/Pong-v5",
        "expert.policy_type=ppo",
        f"expert.loader_kwargs.path={model}",
        "eval_n_timesteps=10",
        "rollout_save_path=rollouts",
        f"logging.log_dir={eval_dir}",
        "environment.fast",
        "fast",
    )
    assert "'n_traj': 2" in result.stderr + result.stdout
    evaluated = serialize.load(eval_dir / "rollouts")
    assert len(evaluated) == 2 and all(len(t) == 20 for t in evaluated)
