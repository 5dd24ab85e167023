"""Tests for imitation.util.logger and imitation.util.networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from torch import nn

from imitation.util import logger, networks


def test_hierarchical_logger(tmp_path):
    log = logger.configure(tmp_path, format_strs=["csv", "log"])
    log.record("top", 1.0)
    with log.add_key_prefix("outer"), log.add_key_prefix("inner"):
        log.record("x", 2.0)
    with log.accumulate_means("gen"):
        log.record("loss", 1.0)
        log.dump(1)
        log.record("loss", 3.0)
        log.dump(2)
        with (
            pytest.raises(RuntimeError, match="nested"),
            log.accumulate_means("other"),
        ):
            pass
    log.dump(3)
    log.close()
    main = (tmp_path / "progress.csv").read_text()
    assert "outer/inner/x" in main and "mean/gen/loss" in main
    row = dict(zip(main.splitlines()[0].split(","), main.splitlines()[1].split(",")))
    assert float(row["mean/gen/loss"]) == 2.0
    raw = (tmp_path / "raw" / "gen" / "progress.csv").read_text().splitlines()
    assert len(raw) == 3


def test_wandb_format_needs_package():
    with pytest.raises(ImportError, match="wandb"):
        logger.configure(format_strs=["wandb"])


def test_running_norm_matches_numpy():
    norm = networks.RunningNorm(3)
    rng = np.random.default_rng(0)
    batches = [
        rng.normal(2.0, 3.0, size=(n, 3)).astype(np.float32) for n in (5, 17, 40)
    ]
    for b in batches:
        norm(th.as_tensor(b))
    data = np.concatenate(batches)
    np.testing.assert_allclose(norm.running_mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.numpy(), data.var(0), rtol=1e-4)
    assert norm.count.item() == len(data)
    with networks.evaluating(norm):
        before = norm.running_mean.clone()
        norm(th.ones(4, 3))
        assert th.equal(before, norm.running_mean)
    assert norm.training
    norm.reset_running_stats()
    assert norm.count.item() == 0


def test_ema_norm():
    norm = networks.EMANorm(2, decay=0.5)
    norm(th.zeros(4, 2))
    norm(th.ones(4, 2) * 2)
    assert th.allclose(norm.running_mean, th.ones(2))
    with pytest.raises(ValueError):
        networks.EMANorm(2, decay=1.0)


def test_build_mlp_and_cnn():
    mlp = networks.build_mlp(
        4, [8, 8], 1, squeeze_output=True, normalize_input_layer=networks.RunningNorm
    )
    assert mlp(th.zeros(5, 4)).shape == (5,)
    linear = networks.build_mlp(4, [], 2)
    assert sum(isinstance(m, nn.Linear) for m in linear.modules()) == 1
    cnn = networks.build_cnn(3, [4, 4], 2)
    assert cnn(th.zeros(2, 3, 8, 8)).shape == (2, 2)
    with pytest.raises(ValueError, match="out_size"):
        networks.build_mlp(4, [8], 2, squeeze_output=True)
    with pytest.raises(ValueError, match="last dimension"):
        networks.SqueezeLayer()(th.zeros(2, 3))


def test_training_mode_restores():
    m = nn.Linear(2, 2)
    m.eval()
    with networks.training(m):
        assert m.training
    assert not m.training


def test_tensorboard_and_json_formats(tmp_path):
    log = logger.configure(tmp_path, format_strs=["tensorboard", "json"])
    log.record("value", 1.5)
    log.dump(0)
    log.close()
    assert list(tmp_path.glob("events.out.tfevents.*"))
    assert '"value": 1.5' in (tmp_path / "progress.json").read_text()
