"""Progress bars for long training loops.

One convention for every ``train`` that can take more than a few seconds:
a ``progress_bar`` argument, True by default, and the bar is shown only when
standard error is a terminal, so logs and CI output stay clean. Pass
``progress_bar=False`` to hide it in a terminal too.
"""

from __future__ import annotations

import sys

import tqdm

__all__ = ["progress_bar", "shown"]


def shown(enabled: bool) -> bool:
    """Whether a bar should show: ``enabled`` and standard error is a terminal.

    For code that passes the decision on (e.g. to SB3's ``learn(progress_bar=...)``).
    """
    return enabled and sys.stderr.isatty()


def progress_bar(
    total: int | None, *, desc: str, unit: str = "it", enabled: bool = True
) -> tqdm.tqdm:
    """A ``tqdm`` bar, shown if ``enabled`` and standard error is a terminal.

    Args:
        total: The number of units the loop will do (None if unknown).
        desc: What the loop does, shown before the bar.
        unit: The name of one unit (``"round"``, ``"step"``, ...).
        enabled: False hides the bar even in a terminal.

    Returns:
        The bar; call ``update(n)`` as units complete and ``close()`` (or use
        it as a context manager) at the end. A hidden bar costs nothing.
    """
    return tqdm.tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not shown(enabled),
        dynamic_ncols=True,
        leave=False,
    )
