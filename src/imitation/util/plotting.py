"""Plots of per-state values (rewards, occupancy measures) over a gridworld.

:func:`draw_value_vec` draws one vector of per-state values as a heatmap laid
out like the grid (state ``row * width + col``, as in seals' gridworlds such
as ``CliffWorldEnv``). :func:`save_value_comparison` writes a PNG with two such
heatmaps side by side, e.g. learned vs true reward. Matplotlib is imported
lazily, so importing this module does not require it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th

from imitation.util import util
from imitation.util.paths import AnyPath

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.image import AxesImage


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError(
            "Plotting needs matplotlib: pip install matplotlib.",
        ) from exc
    return plt


def grid_values(values: np.ndarray | th.Tensor, height: int, width: int) -> np.ndarray:
    """Per-state values as a ``(height, width)`` grid.

    Args:
        values: One value per state, ``height * width`` of them (any shape with
            that many elements, e.g. ``(n,)`` or ``(n, 1)``); numpy or torch.
        height: Number of grid rows.
        width: Number of grid columns.

    Returns:
        The values, row ``r`` and column ``c`` holding state ``r * width + c``.

    Raises:
        ValueError: If the number of values is not ``height * width``, or a
            value is not finite.
    """
    arr = np.asarray(util.safe_to_numpy(values), dtype=np.float64)
    if height <= 0 or width <= 0 or arr.size != height * width:
        raise ValueError(
            f"Got {arr.size} values (shape {arr.shape}) for a {height}x{width} "
            f"grid: need exactly one value per state ({height * width}).",
        )
    if not np.isfinite(arr).all():
        raise ValueError("Values to plot must be finite.")
    return arr.reshape(height, width)


def draw_value_vec(
    values: np.ndarray | th.Tensor,
    height: int,
    width: int,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    colorbar: bool = True,
) -> AxesImage:
    """Draw per-state values as a heatmap over the grid.

    Args:
        values: One value per state (see :func:`grid_values`).
        height: Number of grid rows.
        width: Number of grid columns.
        ax: Axes to draw on; default: the current axes.
        title: Axes title.
        colorbar: Add a colour bar next to the axes.

    Returns:
        The image.

    Raises:
        ValueError: See :func:`grid_values`.
    """
    grid = grid_values(values, height, width)
    plt = _pyplot()
    ax = ax if ax is not None else plt.gca()
    image = ax.imshow(grid, cmap="viridis")
    ax.grid(False)
    ax.set_xlabel("Gridworld x-coordinate")
    ax.set_ylabel("Gridworld y-coordinate")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    return image


def save_value_comparison(
    path: AnyPath,
    panels: Sequence[tuple[str, np.ndarray | th.Tensor]],
    height: int,
    width: int,
    *,
    suptitle: str | None = None,
) -> None:
    """Write a PNG of several per-state value vectors side by side.

    The file is written atomically: readers never see half an image.

    Args:
        path: Destination file (PNG).
        panels: ``(title, values)`` for each heatmap, left to right.
        height: Number of grid rows.
        width: Number of grid columns.
        suptitle: Title of the whole figure.

    Raises:
        ValueError: If ``panels`` is empty or any values do not fit the grid.
    """
    if not panels:
        raise ValueError("save_value_comparison needs at least one panel.")
    grids = [(title, grid_values(v, height, width)) for title, v in panels]
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(grids), figsize=(5 * len(grids), 4), squeeze=False)
    try:
        for ax, (title, grid) in zip(axes[0], grids):
            draw_value_vec(grid, height, width, ax=ax, title=title)
        if suptitle is not None:
            fig.suptitle(suptitle)
        fig.tight_layout()
        with util.atomic_write_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
