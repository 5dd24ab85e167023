"""The experiments from Python: named configs, print_config, run results."""

from __future__ import annotations

import importlib
import json
import pathlib

import pytest

from imitation.scripts.config import common
from imitation.scripts.train_adversarial import train_adversarial_ex
from imitation.scripts.train_imitation import train_imitation_ex

SHARED_HPS = pathlib.Path(__file__).parents[3] / "shared" / "data" / "tuned_hps.json"


def test_every_tuned_config_is_a_named_config():
    names = set(common.tuned_configs(["bc", "dagger", "fast_dagger", "gail", "airl"]))
    assert len(names) == 21
    for name in names:
        ex = (
            train_imitation_ex
            if name.startswith(("bc", "dagger", "fast"))
            else (train_adversarial_ex)
        )
        assert name in ex.named_configs
    if SHARED_HPS.exists():  # the packaged copy is the shared file
        packaged = pathlib.Path(common.__file__).parent / "tuned_hps.json"
        assert json.loads(packaged.read_text()) == json.loads(SHARED_HPS.read_text())


@pytest.mark.parametrize(
    ("ex", "name"),
    [
        (train_imitation_ex, "bc_seals_hopper"),
        (train_imitation_ex, "dagger_seals_walker"),
        (train_adversarial_ex, "airl_seals_swimmer"),
        (train_adversarial_ex, "gail_seals_ant"),
    ],
)
def test_tuned_config_resolves(ex, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = ex.run(command_name="print_config", named_configs=[name])
    config = run.config
    assert config["environment"]["gym_id"].startswith("seals/")
    if (
        "policy_kwargs" in config["policy"]
        and "net_arch" in config["policy"]["policy_kwargs"]
    ):
        assert isinstance(config["policy"]["policy_kwargs"]["net_arch"], dict)
    assert "gym_id" not in config["expert"]["loader_kwargs"]


def test_python_api_returns_the_stats(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = train_imitation_ex.run(
        command_name="bc",
        named_configs=["seals_cartpole", "fast"],
        config_updates={
            "expert": {"policy_type": "bundled"},
            "demonstrations": {"source": "generated"},
        },
    )
    assert run.status == "COMPLETED"
    assert run.result["expert_stats"]["monitor_return_mean"] == 20.0  # fast: 20 steps
    assert run.result["imit_stats"]["n_traj"] >= 1


def _keys(config, prefix=""):
    for key, value in config.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")


@pytest.mark.parametrize(
    "module",
    [
        "analyze",
        "eval_policy",
        "parallel",
        "run_benchmarks",
        "train_adversarial",
        "train_imitation",
        "train_preference_comparisons",
        "train_rl",
        "tuning",
    ],
)
def test_configs_hold_only_settings(module, tmp_path, monkeypatch):
    """No Python internals (e.g. a config scope's ``__annotations__``) leak in."""
    monkeypatch.chdir(tmp_path)
    config_module = importlib.import_module(f"imitation.scripts.config.{module}")
    ex_name = {"analyze": "analysis"}.get(module, module)  # the original's names
    ex = getattr(config_module, f"{ex_name}_ex")
    config = ex.run(command_name="print_config").config
    # Sacred keeps each config scope's docstring as ``__doc__``; nothing else.
    leaked = [
        key for key in _keys(config) if "__" in key and not key.endswith("__doc__")
    ]
    assert not leaked
