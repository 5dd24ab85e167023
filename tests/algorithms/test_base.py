"""Tests for imitation.algorithms.base: construction order, demonstration forms."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from seals import base_envs
from seals.diagnostics.cliff_world import CliffWorldEnv
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.algorithms import base, bc, density, mce_irl, sqil
from imitation.algorithms.adversarial import gail
from imitation.data import rollout, types
from imitation.rewards import reward_nets
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


# One normaliser of demonstrations, used by all five algorithms that take them.

_HORIZON = 8
_BATCH = 8


def _cliff() -> CliffWorldEnv:
    return CliffWorldEnv(height=3, width=4, horizon=_HORIZON, use_xy_obs=False)


@pytest.fixture(scope="module")
def tabular():
    """A venv observing states, and random trajectories of 4 whole episodes.

    Every algorithm taking demonstrations can run on it: MCE IRL on the
    tabular env itself, the others on the venv.
    """
    venv = DummyVecEnv([lambda: base_envs.ExposePOMDPStateWrapper(_cliff())])
    venv.seed(0)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_min_episodes(4), rng=np.random.default_rng(0)
    )
    yield venv, list(trajs[:4])
    venv.close()


def _sorted_rows(*columns) -> np.ndarray:
    """The rows of the columns side by side, sorted: a multiset of samples."""
    rows = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    return rows[np.lexsort(rows.T[::-1])]


def _batch_rows(batches) -> np.ndarray:
    batches = list(batches)
    return _sorted_rows(
        np.concatenate([np.asarray(b["obs"]) for b in batches]),
        np.concatenate([np.asarray(b["acts"]) for b in batches]),
    )


def _make_bc(venv, demos):
    return bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=np.random.default_rng(0),
        demonstrations=demos,
        batch_size=_BATCH,
        custom_logger=logger.configure(format_strs=[]),
    )


def _make_gail(venv, demos):
    return gail.GAIL(
        demonstrations=demos,
        demo_batch_size=_BATCH,
        venv=venv,
        gen_algo=PPO("MlpPolicy", venv, n_steps=16, batch_size=16, seed=0),
        reward_net=reward_nets.BasicRewardNet(
            venv.observation_space, venv.action_space
        ),
        custom_logger=logger.configure(format_strs=[]),
    )


def _make_density(venv, demos):
    return density.DensityAlgorithm(
        demonstrations=demos,
        venv=venv,
        rng=np.random.default_rng(0),
        custom_logger=logger.configure(format_strs=[]),
    )


def _make_mce(venv, demos):
    env = _cliff()
    net = reward_nets.BasicRewardNet(
        env.observation_space,
        env.action_space,
        use_action=False,
        use_next_state=False,
        use_done=False,
    )
    return mce_irl.MCEIRL(
        demos,
        env,
        net,
        rng=np.random.default_rng(0),
        custom_logger=logger.configure(format_strs=[]),
    )


def _make_sqil(venv, demos):
    return sqil.SQIL(
        venv=venv,
        demonstrations=demos,
        policy="MlpPolicy",
        rl_kwargs={"buffer_size": 100},
        custom_logger=logger.configure(format_strs=[]),
    )


def _bc_result(algo):
    return _batch_rows(algo._demo_data_loader)


def _gail_result(algo):
    return _batch_rows(algo._next_expert_batch() for _ in range(4 * _HORIZON // _BATCH))


def _sqil_result(algo):
    buffer = algo.expert_buffer
    return _sorted_rows(
        buffer.observations[:, 0],
        buffer.actions[:, 0],
        buffer.next_observations[:, 0],
        buffer.dones,
    )


_ALGORITHMS = {
    "BC": (_make_bc, _bc_result),
    "GAIL": (_make_gail, _gail_result),
    "density": (_make_density, lambda algo: _sorted_rows(algo.transitions[None])),
    "MCE IRL": (_make_mce, lambda algo: algo.demo_state_om),
    "SQIL": (_make_sqil, _sqil_result),
}


def _forms(trajs):
    """The demonstrations in every accepted form."""
    flat = rollout.flatten_trajectories(trajs)
    fields = types.dataclass_quick_asdict(flat)
    del fields["infos"]
    return {
        "trajectories": trajs,
        "trajectory iterator": iter(trajs),
        "transitions": flat,
        "batches": [
            {k: v[i : i + _BATCH] for k, v in fields.items()}
            for i in range(0, len(flat), _BATCH)
        ],
        "DataLoader": base.make_data_loader(
            flat, _BATCH, data_loader_kwargs={"shuffle": False}
        ),
    }


@pytest.mark.parametrize("name", list(_ALGORITHMS))
def test_every_algorithm_accepts_every_form_alike(name, tabular):
    venv, trajs = tabular
    make, result = _ALGORITHMS[name]
    expected = result(make(venv, trajs))
    for form, demos in _forms(trajs).items():
        np.testing.assert_allclose(
            result(make(venv, demos)), expected, err_msg=f"{name} from {form}"
        )


def _wrong_obs_shape(trajs):
    return [
        types.Trajectory(
            obs=np.zeros((len(t) + 1, 3), np.float32),
            acts=t.acts,
            infos=None,
            terminal=True,
        )
        for t in trajs
    ]


_ACCEPTED = r"Demonstrations must be a sequence of Trajectory.*Transitions.*batches"


@pytest.mark.parametrize("name", list(_ALGORITHMS))
@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (lambda _: [], ValueError, "The demonstrations are empty: got an empty list"),
        (
            lambda _: types.TransitionsMinimal(
                obs=np.zeros(0, np.int64), acts=np.zeros(0, np.int64), infos=[]
            ),
            ValueError,
            "The demonstrations are empty: the TransitionsMinimal object holds no",
        ),
        (lambda _: [1, 2, 3], TypeError, f"{_ACCEPTED}.*first element has type int"),
        (lambda _: 5, TypeError, f"{_ACCEPTED}.*got int, which is not iterable"),
        (
            lambda trajs: [trajs[0], {"obs": trajs[0].obs}],
            TypeError,
            f"{_ACCEPTED}.*list of Trajectory whose element 1 has type dict",
        ),
        (
            _wrong_obs_shape,
            ValueError,
            r"Demonstration observations have shape \(3,\) but the observation "
            r"space Discrete\(12\) needs \(\)",
        ),
    ],
    ids=["empty list", "empty transitions", "ints", "int", "mixed", "obs shape"],
)
def test_every_algorithm_refuses_bad_demonstrations_alike(
    name, bad, error, match, tabular
):
    venv, trajs = tabular
    if name == "MCE IRL" and bad is _wrong_obs_shape:
        # MCE IRL takes state indices or one-hot states, whatever the env's
        # observation space: it checks the observations itself.
        error, match = ValueError, "must observe states"
    make, _ = _ALGORITHMS[name]
    with pytest.raises(error, match=match):
        make(venv, bad(trajs))


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("BC", False),
        ("GAIL", True),
        ("density", True),
        ("MCE IRL", True),
        ("SQIL", False),
    ],
)
def test_variable_horizon_refused_where_episode_lengths_matter(name, refused, tabular):
    venv, trajs = tabular
    short = types.Trajectory(
        obs=trajs[0].obs[:5], acts=trajs[0].acts[:4], infos=None, terminal=True
    )
    make, _ = _ALGORITHMS[name]
    if refused:
        with pytest.raises(
            ValueError, match=r"Episodes of different lengths.*\[4, 8\]"
        ):
            make(venv, [*trajs, short])
    else:
        make(venv, [*trajs, short])
