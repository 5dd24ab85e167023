"""Tests for imitation.util.progress."""

from __future__ import annotations

import io

import pytest

from imitation.util import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "enabled", "shown"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_shown_only_in_a_terminal_and_when_enabled(monkeypatch, tty, enabled, shown):
    stream = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    with progress.progress_bar(3, desc="train", unit="round", enabled=enabled) as bar:
        bar.update(3)
    assert ("train" in stream.getvalue()) is shown
