"""Tests for imitation.util.plotting."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch as th  # noqa: E402

from imitation.util import plotting  # noqa: E402


def test_grid_values_layout():
    grid = plotting.grid_values(th.arange(6.0).reshape(6, 1), height=2, width=3)
    np.testing.assert_array_equal(grid, [[0, 1, 2], [3, 4, 5]])


def test_draw_value_vec_draws_the_grid():
    fig, ax = plt.subplots()
    try:
        image = plotting.draw_value_vec(
            np.arange(12.0), 3, 4, ax=ax, title="reward", colorbar=False
        )
        np.testing.assert_array_equal(image.get_array(), np.arange(12.0).reshape(3, 4))
        assert ax.get_title() == "reward"
    finally:
        plt.close(fig)


def test_save_value_comparison_writes_png(tmp_path):
    path = tmp_path / "sub" / "cmp.png"
    plotting.save_value_comparison(
        path,
        [("learned", np.arange(28.0)), ("true", th.ones(28))],
        height=4,
        width=7,
        suptitle="CliffWorld",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["cmp.png"]
    assert not plt.get_fignums()


def test_bad_values():
    with pytest.raises(ValueError, match="one value per state"):
        plotting.grid_values(np.zeros(5), height=2, width=3)
    with pytest.raises(ValueError, match="finite"):
        plotting.grid_values(np.full(6, np.nan), height=2, width=3)
    with pytest.raises(ValueError, match="at least one panel"):
        plotting.save_value_comparison("x.png", [], height=2, width=3)
