"""Tests for imitation.util.logger."""

from __future__ import annotations

import csv
import json
import os
import pathlib
import pickle
import shutil
import sys
import types

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common import logger as sb_logger

from imitation.util import logger


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_json_lines(path) -> list[dict]:
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


@pytest.fixture
def log(tmp_path):
    hier = logger.configure(tmp_path, format_strs=["csv", "json"])
    yield hier
    hier.close()


def test_configure_defaults_to_new_temp_dir_with_standard_formats(capsys):
    first, second = logger.configure(), logger.configure()
    try:
        assert first.get_dir() != second.get_dir()
        for hier in (first, second):
            assert os.path.isdir(hier.get_dir())
            assert hier.format_strs == ("stdout", "log", "csv")
        first.record("value", 3.5)
        first.dump()
        assert "value" in capsys.readouterr().out
        first.close()
        folder = pathlib.Path(first.get_dir())
        assert "value" in (folder / "log.txt").read_text()
        rows = read_csv(folder / "progress.csv")
        assert rows == [{"value": "3.5"}]
    finally:
        second.close()
        shutil.rmtree(first.get_dir())
        shutil.rmtree(second.get_dir())


def test_is_an_sb3_logger_and_creates_folder(tmp_path):
    folder = tmp_path / "a" / "b"
    hier = logger.configure(folder, format_strs=[])
    assert isinstance(hier, sb_logger.Logger)
    assert hier.get_dir() == str(folder)
    assert folder.is_dir()
    hier.close()


def test_record_and_dump(log, tmp_path):
    log.record("a", 1)
    log.record("a", 2)  # the last value wins
    log.record_mean("m", 1.0)
    log.record_mean("m", 3.0)
    log.record_mean("m", None)  # ignored
    assert log.name_to_value == {"a": 2, "m": 2.0}
    log.dump(step=7)
    assert log.name_to_value == {}
    assert read_json_lines(tmp_path / "progress.json") == [{"a": 2, "m": 2.0}]


def test_exclude_keeps_key_out_of_that_format(log, tmp_path):
    log.record("everywhere", 1.0)
    log.record("not_in_csv", 2.0, exclude="csv")
    log.dump()
    assert read_csv(tmp_path / "progress.csv") == [{"everywhere": "1.0"}]
    assert read_json_lines(tmp_path / "progress.json") == [
        {"everywhere": 1.0, "not_in_csv": 2.0}
    ]


def test_add_key_prefix_nests_and_unwinds(log):
    with log.accumulate_means("gen"):
        with log.add_key_prefix("outer"):
            log.record("x", 1)
            with log.add_key_prefix("inner"):
                log.record("y", 2)
                log.record_mean("z", 4.0)
            log.record("w", 3)
        with pytest.raises(ZeroDivisionError), log.add_key_prefix("broken"):
            _ = 1 / 0
        log.record("top", 0)
    assert log.name_to_value == {
        "mean/gen/outer/x": 1,
        "mean/gen/outer/inner/y": 2,
        "mean/gen/outer/inner/z": 4.0,
        "mean/gen/outer/w": 3,
        "mean/gen/top": 0,
    }


def test_add_key_prefix_outside_accumulate_means_raises(log):
    prefix = log.add_key_prefix("outer")
    with pytest.raises(RuntimeError, match="accumulate_means"):
        prefix.__enter__()
    log.record("x", 1)  # no prefix left behind
    assert log.name_to_value == {"x": 1}


def test_default_logger_logs_outside_the_hierarchy(log, tmp_path):
    assert isinstance(log.default_logger, sb_logger.Logger)
    assert not isinstance(log.default_logger, logger.HierarchicalLogger)
    with log.accumulate_means("gen"), log.add_key_prefix("p"):
        log.default_logger.record("direct", 5.0)
        log.record("inner", 1.0)
    log.default_logger.record_mean("m", 2.0)
    assert log.name_to_value == {
        "direct": 5.0,
        "mean/gen/p/inner": 1.0,
        "m": 2.0,
    }
    log.default_logger.dump(step=3)
    assert log.name_to_value == {}
    assert read_json_lines(tmp_path / "progress.json") == [
        {"direct": 5.0, "mean/gen/p/inner": 1.0, "m": 2.0},
    ]
    log.set_level(sb_logger.DISABLED)
    assert log.default_logger.level == sb_logger.DISABLED


def test_wraps_an_sb3_logger_as_the_original_did(tmp_path):
    plain = sb_logger.configure(str(tmp_path), ["json"])
    hier = logger.HierarchicalLogger(plain, format_strs=["json"])
    assert hier.default_logger is plain
    assert hier.get_dir() == str(tmp_path)
    with hier.accumulate_means("gen"):
        hier.record("x", 1.0)
        hier.dump()
    hier.record("y", 2.0)
    hier.dump()
    hier.close()
    assert read_json_lines(tmp_path / "progress.json") == [
        {"mean/gen/x": 1.0, "y": 2.0},
    ]
    assert read_json_lines(tmp_path / "raw" / "gen" / "progress.json") == [
        {"raw/gen/x": 1.0},
    ]
    with pytest.raises(ValueError, match="output_formats"):
        logger.HierarchicalLogger(plain, [])
    with pytest.raises(ValueError, match="no directory"):
        logger.HierarchicalLogger(sb_logger.Logger(None, []))


def test_accumulate_prefixes_as_context_or_add_and_remove(log, tmp_path):
    with log.add_accumulate_prefix("member-0"), log.accumulate_means("loss"):
        log.record("x", 1.0)
        log.dump()
        with pytest.raises(RuntimeError, match="inside accumulate_means"):
            log.add_accumulate_prefix("nope")
        with pytest.raises(RuntimeError, match="close the block"):
            log.remove_accumulate_prefix()
    log.add_accumulate_prefix("a")
    log.add_accumulate_prefix("b")
    with log.accumulate_means("loss"):
        log.record("y", 2.0)
    log.remove_accumulate_prefix()
    with log.accumulate_means("loss"):
        log.record("z", 3.0)
    log.remove_accumulate_prefix()
    with pytest.raises(RuntimeError, match="no prefix"):
        log.remove_accumulate_prefix()
    with log.accumulate_means("loss"):
        log.record("w", 4.0)
    assert log.name_to_value == {
        "mean/member-0/loss/x": 1.0,
        "mean/a/b/loss/y": 2.0,
        "mean/a/loss/z": 3.0,
        "mean/loss/w": 4.0,
    }
    raw = read_json_lines(tmp_path / "raw" / "member-0" / "loss" / "progress.json")
    assert raw == [{"raw/member-0/loss/x": 1.0}]


def test_accumulate_means_writes_raw_and_averages_into_main(log, tmp_path):
    log.record("outer_value", 10)
    with log.accumulate_means("gen"):
        log.record("loss", 1.0)
        log.dump(step=1)
        log.record("loss", 3.0)
        log.record("loss", 5.0)  # overrides 3.0 in the raw row; both count in mean
        log.dump(step=2)
        # Values pending in the main logger are not written by an inner dump.
        assert log.name_to_value["outer_value"] == 10
    with log.accumulate_means("disc"):
        log.record("acc", 0.5)
        log.dump()
    log.dump(step=3)

    raw_gen = read_json_lines(tmp_path / "raw" / "gen" / "progress.json")
    assert raw_gen == [{"raw/gen/loss": 1.0}, {"raw/gen/loss": 5.0}]
    raw_disc = read_csv(tmp_path / "raw" / "disc" / "progress.csv")
    assert raw_disc == [{"raw/disc/acc": "0.5"}]
    main = read_json_lines(tmp_path / "progress.json")
    assert main == [
        {"outer_value": 10, "mean/gen/loss": pytest.approx(3.0), "mean/disc/acc": 0.5}
    ]


def test_accumulate_means_reuses_raw_logger_on_reentry(log, tmp_path):
    for value in (1.0, 2.0):
        with log.accumulate_means("gen"):
            log.record("x", value)
            log.dump()
        log.dump()
    raw = read_json_lines(tmp_path / "raw" / "gen" / "progress.json")
    assert raw == [{"raw/gen/x": 1.0}, {"raw/gen/x": 2.0}]
    main = read_json_lines(tmp_path / "progress.json")
    assert main == [{"mean/gen/x": 1.0}, {"mean/gen/x": 2.0}]


def test_prefix_inside_accumulate_means(log, tmp_path):
    with log.accumulate_means("reward"), log.add_key_prefix("member0"):
        log.record("loss", 2.0)
        log.record_mean("acc", 0.25)
        log.record_mean("acc", 0.75)
        log.dump()
    assert log.name_to_value == {
        "mean/reward/member0/loss": 2.0,
        "mean/reward/member0/acc": 0.5,
    }
    raw = read_json_lines(tmp_path / "raw" / "reward" / "progress.json")
    assert raw == [{"raw/reward/member0/loss": 2.0, "raw/reward/member0/acc": 0.5}]


def test_accumulate_means_only_averages_single_numbers(log, tmp_path):
    with log.accumulate_means("gen"):
        log.record("text", "hello")
        log.record("vector", np.array([1.0, 2.0]))
        log.record("array_scalar", np.array(2.0))
        log.record("tensor_scalar", th.tensor([4.0]))
        log.record("int", np.int64(3))
    assert log.name_to_value == {
        "mean/gen/array_scalar": 2.0,
        "mean/gen/tensor_scalar": 4.0,
        "mean/gen/int": 3.0,
    }


def test_accumulate_means_cannot_be_nested(log, tmp_path):
    with log.accumulate_means("gen"):
        with (
            pytest.raises(RuntimeError, match="cannot be nested"),
            log.accumulate_means("disc"),
        ):
            pass  # pragma: no cover
        # The outer block is still active.
        log.record("x", 1.0)
        log.dump()
    assert not (tmp_path / "raw" / "disc").exists()
    assert read_json_lines(tmp_path / "raw" / "gen" / "progress.json") == [
        {"raw/gen/x": 1.0}
    ]


def test_accumulate_means_exits_cleanly_on_exception(log):
    with pytest.raises(KeyError), log.accumulate_means("gen"):
        raise KeyError("boom")
    log.record("after", 1)
    with log.accumulate_means("gen"):  # can be entered again
        pass
    assert log.name_to_value == {"after": 1}


def test_set_level_disabled_silences_main_and_raw(log, tmp_path):
    with log.accumulate_means("gen"):
        pass  # creates the raw logger before the level changes
    log.set_level(sb_logger.DISABLED)
    with log.accumulate_means("gen"):
        log.record("x", 1.0)
        log.dump()
    log.dump()
    assert (tmp_path / "raw" / "gen" / "progress.json").read_text() == ""
    assert (tmp_path / "progress.json").read_text() == ""


def test_log_text_goes_to_log_file(tmp_path):
    hier = logger.configure(tmp_path, format_strs=["log"])
    hier.log("hello", "world")
    hier.close()
    assert "hello world" in (tmp_path / "log.txt").read_text()


def test_tensorboard_and_json_formats(tmp_path):
    hier = logger.configure(tmp_path, format_strs=["tensorboard", "json"])
    with hier.accumulate_means("gen"):
        hier.record("value", 1.5)
        hier.dump(0)
    hier.dump(0)
    hier.close()
    assert list(tmp_path.glob("events.out.tfevents.*"))
    assert list((tmp_path / "raw" / "gen").glob("events.out.tfevents.*"))
    assert read_json_lines(tmp_path / "progress.json") == [{"mean/gen/value": 1.5}]


@pytest.mark.parametrize("format_strs", [["csv", "xml"], ["stdout", ""]])
def test_unknown_format_is_rejected(tmp_path, format_strs):
    with pytest.raises(ValueError, match="Unknown log format"):
        logger.configure(tmp_path, format_strs=format_strs)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="Unknown log format"):
        logger.HierarchicalLogger(tmp_path, [], format_strs)


def test_wandb_format_without_wandb_installed(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # makes `import wandb` fail
    with pytest.raises(ImportError, match="pip install wandb"):
        logger.configure(tmp_path, format_strs=["csv", "wandb"])
    with pytest.raises(ImportError, match="pip install wandb"):
        logger.WandbOutputFormat()


@pytest.fixture
def fake_wandb(monkeypatch):
    module = types.ModuleType("wandb")
    module.logged = []
    module.finished = 0

    def log(values, step):
        module.logged.append((dict(values), step))

    def finish():
        module.finished += 1

    module.log = log
    module.finish = finish
    monkeypatch.setitem(sys.modules, "wandb", module)
    return module


def test_wandb_format_logs_means_only(tmp_path, fake_wandb):
    hier = logger.configure(tmp_path, format_strs=["csv", "wandb"])
    assert hier.format_strs == ("csv", "wandb")
    with hier.accumulate_means("gen"):
        hier.record("loss", 2.0)
        hier.dump(step=1)
        hier.record("loss", 4.0)
        hier.dump(step=2)
    hier.record("kept", 1.0)
    hier.record("secret", 1.0, exclude=("wandb", "stdout"))
    hier.dump(step=5)
    hier.close()
    assert fake_wandb.logged == [({"mean/gen/loss": 3.0, "kept": 1.0}, 5)]
    assert fake_wandb.finished == 1
    assert len(read_csv(tmp_path / "raw" / "gen" / "progress.csv")) == 2


class _TinyEnv(gym.Env):
    """One-dimensional observations, episodes of four steps."""

    observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self._t += 1
        return np.zeros(1, dtype=np.float32), float(action), self._t >= 4, False, {}


def test_works_as_sb3_algorithm_logger(log, tmp_path):
    model = PPO("MlpPolicy", _TinyEnv(), n_steps=8, batch_size=8, n_epochs=1)
    model.set_logger(log)
    with log.accumulate_means("gen"):
        model.learn(16)
    log.dump()
    raw_rows = read_json_lines(tmp_path / "raw" / "gen" / "progress.json")
    assert raw_rows and all(
        key.startswith("raw/gen/") for row in raw_rows for key in row
    )
    (main,) = read_json_lines(tmp_path / "progress.json")
    assert "mean/gen/time/total_timesteps" in main
    assert "mean/gen/train/value_loss" in main


def test_logging_component_shares_its_logger():
    from stable_baselines3 import PPO

    from imitation.util.util import make_vec_env

    class Part:
        logger = None

    class Owner(logger.LoggingComponent):
        _logger_shared_with = ("part", "agent", "missing")

        def __init__(self):
            self.part = Part()
            self.agent = PPO(
                "MlpPolicy",
                make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1),
            )
            self.logger = logger.configure(format_strs=[])

    owner = Owner()
    assert owner.part.logger is owner.logger
    assert owner.agent.logger is owner.logger
    replacement = logger.configure(format_strs=[])
    owner.logger = replacement
    assert owner.part.logger is replacement and owner.agent.logger is replacement


class _Part(logger.LoggingComponent):
    def __init__(self, log):
        self.logger = log
        self.count = 3


class _Owner(logger.LoggingComponent):
    _logger_shared_with = ("part",)

    def __init__(self, folder):
        self.part = _Part(logger.configure(folder, format_strs=["csv"]))
        self.logger = logger.configure(folder, format_strs=["csv"])


def test_components_are_pickled_without_their_loggers(tmp_path):
    owner = _Owner(tmp_path)  # Loggers writing files: they cannot be pickled.
    copy = pickle.loads(pickle.dumps(owner))
    assert copy.part.count == 3
    assert copy.logger is not owner.logger
    assert copy.part.logger is copy.logger  # A fresh logger, shared again.


def test_dagger_logger_reaches_bc(tmp_path):
    from imitation.algorithms import bc, dagger
    from imitation.util.util import make_vec_env

    venv = make_vec_env("CartPole-v1", rng=np.random.default_rng(0), n_envs=1)
    bc_trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=np.random.default_rng(0),
    )
    trainer = dagger.DAggerTrainer(
        venv=venv,
        scratch_dir=tmp_path,
        rng=np.random.default_rng(0),
        bc_trainer=bc_trainer,
    )
    replacement = logger.configure(format_strs=[])
    trainer.logger = replacement
    assert bc_trainer.logger is replacement
    assert bc_trainer._bc_logger.logger is replacement
