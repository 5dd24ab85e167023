"""Tests for imitation.algorithms.base: the construction order of algorithms."""

from __future__ import annotations

import pytest

from imitation.algorithms import base


class _Recorder(base.DemonstrationAlgorithm):
    """Needs an attribute its constructor makes after calling the base's."""

    def __init__(self, demonstrations, fail: bool = False):
        super().__init__(demonstrations=demonstrations)
        if fail:
            raise RuntimeError("constructor failed")
        self.seen: list = []

    def set_demonstrations(self, demonstrations) -> None:
        self.seen.append(demonstrations)

    @property
    def policy(self):
        raise NotImplementedError


class _Child(_Recorder):
    def __init__(self, demonstrations):
        super().__init__(demonstrations)
        self.extra = "built"

    def set_demonstrations(self, demonstrations) -> None:
        assert self.extra == "built"  # the subclass finished first
        super().set_demonstrations(demonstrations)


def test_demonstrations_set_after_the_subclass_is_built():
    assert _Recorder(demonstrations="demos").seen == ["demos"]
    assert _Child(demonstrations="demos").seen == ["demos"]  # once, at the end
    assert _Recorder(demonstrations=None).seen == []


def test_failed_constructor_sets_nothing():
    with pytest.raises(RuntimeError, match="constructor failed"):
        _Recorder(demonstrations="demos", fail=True)
