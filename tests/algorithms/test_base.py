"""Tests for imitation.algorithms.base: the construction order of algorithms."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from imitation.algorithms import base, bc
from imitation.data import types
from imitation.util import logger


class _Recorder(base.DemonstrationAlgorithm):
    """A subclass as written against the original release.

    It builds what ``set_demonstrations`` needs before calling the base's
    constructor, passes the demonstrations up, and sets more attributes after.
    """

    def __init__(self, demonstrations, fail: bool = False):
        self.seen: list = []
        super().__init__(demonstrations=demonstrations)
        if fail:
            raise RuntimeError("constructor failed")
        self.extra = "built"

    def set_demonstrations(self, demonstrations) -> None:
        self.seen.append(demonstrations)

    @property
    def policy(self):
        raise NotImplementedError


class _SetsUpLast(base.DemonstrationAlgorithm):
    """The library's pattern: pass None up, set the demonstrations last."""

    def __init__(self, demonstrations, fail: bool = False):
        super().__init__(demonstrations=None)
        if fail:
            raise RuntimeError("constructor failed")
        self.seen: list = []
        if demonstrations is not None:
            self.set_demonstrations(demonstrations)

    def set_demonstrations(self, demonstrations) -> None:
        self.seen.append(demonstrations)

    @property
    def policy(self):
        raise NotImplementedError


def test_base_constructor_sets_demonstrations_passed_up():
    algo = _Recorder(demonstrations="demos")
    assert algo.seen == ["demos"]  # once, from the base's constructor
    assert algo.extra == "built"  # what the subclass set afterwards is kept
    assert _Recorder(demonstrations=None).seen == []


def test_subclass_sets_demonstrations_at_the_end_of_its_constructor():
    assert _SetsUpLast(demonstrations="demos").seen == ["demos"]
    assert _SetsUpLast(demonstrations=None).seen == []


def test_failed_constructor_sets_nothing():
    with pytest.raises(RuntimeError, match="constructor failed"):
        _SetsUpLast(demonstrations="demos", fail=True)


def _transitions(n: int = 64) -> types.Transitions:
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(n + 1, 4)).astype(np.float32)
    return types.Transitions(
        obs=obs[:-1],
        acts=(obs[:-1, 0] > 0).astype(np.int64),
        infos=np.array([{}] * n),
        next_obs=obs[1:],
        dones=np.zeros(n, dtype=bool),
    )


class _UserBC(bc.BC):
    """A user's BC: attributes after ``super().__init__``, an overriding setter."""

    def __init__(self, **kwargs):
        self.calls: list[int] = []
        super().__init__(**kwargs)
        self.label = "mine"

    def set_demonstrations(self, demonstrations) -> None:
        self.calls.append(len(demonstrations))
        super().set_demonstrations(demonstrations)


def test_user_subclass_of_bc_sets_demonstrations_once_and_trains():
    demos = _transitions()
    algo = _UserBC(
        observation_space=gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
        action_space=gym.spaces.Discrete(2),
        rng=np.random.default_rng(0),
        demonstrations=demos,
        batch_size=16,
        custom_logger=logger.configure(format_strs=[]),
    )
    # Set by BC's own constructor, inside the user's super().__init__, as in
    # the original release; the user's later attributes are kept.
    assert algo.calls == [len(demos)]
    assert algo.label == "mine"
    algo.train(n_batches=2)
    algo.set_demonstrations(demos)  # and later, as DAgger does between rounds
    assert algo.calls == [len(demos), len(demos)]
