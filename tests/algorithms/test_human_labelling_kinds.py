"""A person labelling for DAgger: as ``SimpleDAggerTrainer``'s expert, and on
dict and image observations.

A scripted person answers over real HTTP (``httpx``) against the real server,
as the page does. For vector and dict observations it looks the state on
screen up in the label log and asks a rule or a held-out expert; for image
observations it reads the answer off the served picture itself.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from gymnasium import spaces
from PIL import Image

from imitation.algorithms import bc, dagger
from imitation.algorithms.preference_comparisons import human
from imitation.data import rollout, serialize, types
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.serialize import load_policy
from imitation.testing import envs
from imitation.testing.dict_obs import flat_obs_from_dict
from imitation.util import logger
from imitation.util.util import make_vec_env

CARTPOLE = "seals:seals/CartPole-v0"
DOT = f"imitation.testing.envs:{envs.DOT_TO_CENTRE_ID}"


def _quiet():
    return logger.configure(format_strs=[])


class Person:
    """Labels every state the page offers, over HTTP, with ``answer``.

    ``answer(labeller, state_id, picture)`` gets the state's id and the JPEG
    the page shows for it, and returns the action to send.
    """

    def __init__(
        self,
        labeller: human.HumanLabeller,
        answer: Callable[[human.HumanLabeller, int, bytes], int],
    ) -> None:
        self.labeller = labeller
        self.answer = answer
        self.client = httpx.Client(
            base_url=labeller.address.rstrip("/"),
            params={"token": labeller.token},
            timeout=10,
        )
        self.labelled: dict[int, int] = {}
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    state = self.client.get("/api/next").json()["state"]
                except httpx.HTTPError:
                    return  # The server was stopped.
                if state is None:
                    time.sleep(0.005)
                    continue
                picture = self.client.get(state["picture"])
                assert picture.status_code == 200
                assert picture.headers["content-type"] == "image/jpeg"
                action = self.answer(self.labeller, state["id"], picture.content)
                body = {"state_id": state["id"], "action": action}
                if self.client.post("/api/label", json=body).status_code == 200:
                    self.labelled[state["id"]] = action
        except BaseException as exc:  # Reported when the person leaves.
            self.errors.append(exc)

    def __enter__(self) -> Person:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()
        assert not self.errors, self.errors[0]


def _pole_leans_right(labeller: human.HumanLabeller, state_id: int, _: bytes) -> int:
    obs = labeller.log.states[state_id][0]
    flat = flat_obs_from_dict(obs) if isinstance(obs, dict) else obs
    return int(flat[2] > 0)


def _dict_cartpole(rng, n_envs: int, **kwargs: Any):
    return make_vec_env(
        CARTPOLE,
        rng=rng,
        n_envs=n_envs,
        post_wrappers=[
            lambda env, _: RolloutInfoWrapper(envs.DictObsWrapper(env)),
        ],
        **kwargs,
    )


def _cartpole_renderer(obs_kind: str) -> Any:
    """Draws CartPole; from a dict observation, once joined back into a flat one."""
    renderer = human.StateRenderer("seals/CartPole-v0")
    if obs_kind == "flat":
        return renderer
    return lambda obs: renderer(flat_obs_from_dict(obs))


def _bc(venv, rng, **kwargs: Any) -> bc.BC:
    return bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=_quiet(),
        **kwargs,
    )


def _mean_return(policy, venv, n: int = 20, seed: int = 1) -> float:
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(n), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


# -- A person as SimpleDAggerTrainer's expert ---------------------------------------


@pytest.mark.parametrize("obs_kind", ["flat", "dict"])
def test_a_person_is_simple_dagger_s_expert(tmp_path, rng, obs_kind):
    """Every visited state is asked, with its episode's last 3 before it; the
    round's demonstrations hold exactly the person's answers."""
    steps = 15
    venv = (
        make_vec_env(CARTPOLE, rng=rng, n_envs=2, max_episode_steps=steps)
        if obs_kind == "flat"
        else _dict_cartpole(rng, 2, max_episode_steps=steps)
    )
    try:
        with human.HumanLabeller(
            _cartpole_renderer(obs_kind),
            tmp_path / "labels.jsonl",
            venv.action_space,
            timeout=60,
            custom_logger=_quiet(),
        ) as labeller:
            trainer = dagger.SimpleDAggerTrainer(
                venv=venv,
                scratch_dir=tmp_path / "scratch",
                expert_policy=labeller,
                bc_trainer=_bc(venv, rng, batch_size=8),
                rng=rng,
                custom_logger=_quiet(),
            )
            with Person(labeller, _pole_leans_right) as person:
                trainer.train(
                    2 * steps,
                    rollout_round_min_episodes=2,
                    rollout_round_min_timesteps=2 * steps,
                    bc_train_kwargs={"n_batches": 5, "log_rollouts_venv": None},
                    progress_bar=False,
                )
            log = human.LabelLog.read(labeller.log.path)
    finally:
        venv.close()
    assert trainer.round_num == 1
    # One episode per env: every step of each was asked, and answered.
    assert len(log.states) == len(log.labels) == len(person.labelled) == 2 * steps
    assert log.labels == person.labelled
    demos: list[types.Trajectory] = []
    for path in sorted((tmp_path / "scratch" / "demos").rglob("*.npz")):
        demos.extend(serialize.load(path))
    assert len(demos) == 2
    for demo in demos:
        asked = []
        for t in range(len(demo.acts)):
            obs = demo.obs[t]
            (state_id,) = [i for i, s in log.states.items() if _same(s[0], obs)]
            asked.append(state_id)
            # What was saved is the person's answer for that very state ...
            assert demo.acts[t] == person.labelled[state_id]
            # ... which was shown with the episode's 3 states before it.
            context = log.states[state_id][1]
            assert len(context) == min(t, 3)
            for k in range(len(context)):
                assert _same(context[k], demo.obs[t - len(context) + k])
        assert asked == sorted(asked)
    if obs_kind == "dict":
        labelled = labeller.labelled()
        assert isinstance(labelled.obs, types.DictObs)
        assert set(labelled.obs.keys()) == {"pos", "vel"}


def test_a_person_who_does_not_answer_times_out(tmp_path, rng):
    venv = make_vec_env(CARTPOLE, rng=rng, n_envs=1, max_episode_steps=5)
    try:
        with human.HumanLabeller(
            "seals/CartPole-v0",
            tmp_path / "labels.jsonl",
            venv.action_space,
            timeout=0.5,
            custom_logger=_quiet(),
        ) as labeller:
            trainer = dagger.SimpleDAggerTrainer(
                venv=venv,
                scratch_dir=tmp_path / "scratch",
                expert_policy=labeller,
                bc_trainer=_bc(venv, rng),
                rng=rng,
                custom_logger=_quiet(),
            )
            with pytest.raises(TimeoutError, match=r"not all labelled within timeout"):
                trainer.train(5, progress_bar=False)
            assert labeller.n_pending == 1  # Asked, and kept in the log.
            labeller.budget = 0
            with pytest.raises(human.labelling.EnoughLabelsError):
                labeller(np.zeros((1, 4), np.float32), None, np.ones(1, bool))
    finally:
        venv.close()
    venv = make_vec_env(CARTPOLE, rng=rng, n_envs=1)
    try:
        with (
            human.HumanLabeller(
                "CartPole-v1",
                tmp_path / "other.jsonl",
                spaces.Discrete(3),
                custom_logger=_quiet(),
            ) as three_actions,
            pytest.raises(ValueError, match="differs from the venv's"),
        ):
            dagger.SimpleDAggerTrainer(
                venv=venv,
                scratch_dir=tmp_path / "scratch-3",
                expert_policy=three_actions,
                bc_trainer=_bc(venv, rng),
                rng=rng,
            )
    finally:
        venv.close()


# -- Dict observations ----------------------------------------------------------------


def test_dict_observations_are_logged_shown_and_learned_from(tmp_path, rng):
    """HumanDAggerTrainer on dict CartPole: the held-out expert's labels, given
    on the page, train BC's multi-input policy well above random."""
    venv = _dict_cartpole(rng, 4)
    flat_venv = make_vec_env(CARTPOLE, rng=rng, n_envs=1)
    expert = load_policy("bundled", flat_venv, env_name="seals/CartPole-v0")
    flat_venv.close()

    def expert_answer(labeller: human.HumanLabeller, state_id: int, _: bytes) -> int:
        obs = flat_obs_from_dict(labeller.log.states[state_id][0])
        action, _ = expert.predict(obs[None], deterministic=True)
        return int(action[0])

    path = tmp_path / "labels.jsonl"
    try:
        with human.HumanLabeller(
            _cartpole_renderer("dict"), path, venv.action_space, custom_logger=_quiet()
        ) as labeller:
            trainer = dagger.HumanDAggerTrainer(
                venv=venv,
                labeller=labeller,
                bc_trainer=_bc(venv, rng),
                rng=rng,
                state_filter=lambda obs: bool(abs(obs["pos"][0]) < 2.4),
                custom_logger=_quiet(),
            )
            with Person(labeller, expert_answer):
                trainer.train(150, timeout=60)
            random_return = _mean_return(None, venv)
            learned_return = _mean_return(trainer.policy, venv)
    finally:
        venv.close()
    log = human.LabelLog.read(path)
    assert len(log.labels) == 150
    obs, context = log.states[next(iter(log.labels))]
    assert set(obs) == {"pos", "vel"} and obs["pos"].dtype == np.float32
    assert isinstance(context, types.DictObs) and set(context.keys()) == set(obs)
    transitions = log.to_transitions()
    assert isinstance(transitions.obs, types.DictObs)
    assert len(transitions.obs) == len(transitions.acts) == 150
    print(f"dict CartPole: random {random_return:.1f}, learned {learned_return:.1f}")
    # The expert scores 500; random about 30.
    assert learned_return > 3 * random_return


def test_a_dict_state_and_its_context_must_fit(tmp_path):
    log = human.LabelLog(tmp_path / "labels.jsonl")
    obs = {"a": np.zeros(2, np.float32), "b": np.ones((2, 2), np.uint8)}
    with pytest.raises(ValueError, match="context has keys"):
        log.add_state(obs, {"a": np.zeros((1, 2), np.float32)})
    with pytest.raises(ValueError, match="context's 'b' has shape"):
        log.add_state(obs, {"a": np.zeros((1, 2)), "b": np.ones((1, 3), np.uint8)})
    with pytest.raises(ValueError, match="context is a dict"):
        log.add_state(np.zeros(2), {"a": np.zeros((1, 2))})
    with pytest.raises(TypeError, match="DictObs batch"):
        log.add_state(types.DictObs({"a": np.zeros((3, 2))}))
    state = log.add_state(obs)
    array_state = log.add_state(np.zeros(2))
    log.add_label(state, 0)
    log.add_label(array_state, 1)
    with pytest.raises(ValueError, match="differ"):
        log.to_transitions()
    log.close()
    again = human.LabelLog.read(log.path)
    assert _same(again.states[state][0], obs)
    assert len(again.states[state][1]) == 0


# -- Image observations ---------------------------------------------------------------


def _read_dot(_: human.HumanLabeller, __: int, picture: bytes) -> int:
    """The action for the dot in the sharp (newest) frame of the page's picture.

    Earlier frames are drawn faded (dim); the current dot is the white one.
    """
    image = np.asarray(Image.open(io.BytesIO(picture)).convert("L"))
    columns = np.flatnonzero((image > 200).any(axis=0))
    centre = (columns[0] + columns[-1] + 1) / 2
    return int(1 + np.sign(image.shape[1] / 2 - centre))


def test_image_observations_are_labelled_from_their_pictures(tmp_path, rng):
    """DotToCentre: the observation is the picture. The person answers by
    looking at the page's picture only; BC learns from pixels to act as well
    as the person's rule."""
    venv = make_vec_env(DOT, rng=rng, n_envs=4)
    path = tmp_path / "labels.jsonl"
    try:
        with human.HumanLabeller(
            human.ImageRenderer(),
            path,
            venv.action_space,
            action_names=["left", "keep", "right"],
            custom_logger=_quiet(),
        ) as labeller:
            trainer = dagger.HumanDAggerTrainer(
                venv=venv,
                labeller=labeller,
                bc_trainer=_bc(venv, rng, batch_size=16),
                rng=rng,
                states_per_rollout=8,
                custom_logger=_quiet(),
            )
            with Person(labeller, _read_dot) as person:
                trainer.train(80, retrain_every=20, timeout=60)
            picture = labeller.prepare(*labeller.log.states[0])
            rule = lambda obs, state, ep: (  # noqa: E731
                np.array([envs.dot_to_centre_action(o) for o in obs]),
                state,
            )
            scores = [_mean_return(p, venv) for p in (None, rule, trainer.policy)]
    finally:
        venv.close()
    log = human.LabelLog.read(path)
    assert len(log.labels) == 80
    # The answers read off the pictures are the right ones for the states.
    for state_id, action in person.labelled.items():
        assert action == envs.dot_to_centre_action(log.states[state_id][0])
    obs = log.states[0][0]
    assert isinstance(obs, np.ndarray) and obs.dtype == np.uint8
    assert obs.shape == (36, 36, 3)
    # The picture is the observation enlarged 9 times (36 -> 324 pixels).
    assert Image.open(io.BytesIO(picture)).size == (324, 324)
    random_score, rule_score, learned_score = scores
    print(f"DotToCentre: random {random_score}, rule {rule_score}, BC {learned_score}")
    assert learned_score >= random_score + 0.9 * (rule_score - random_score)


@pytest.mark.parametrize(
    ("shape", "key"),
    [
        ((36, 36, 3), None),  # RGB, channels last
        ((3, 36, 36), None),  # RGB, channels first
        ((36, 36), None),  # grey
        ((84, 84, 4), None),  # a stack of 4 grey frames: the last is shown
        ((4, 84, 84), "pixels"),  # the same, channels first, under a dict key
    ],
)
def test_image_renderer_layouts(shape, key):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    renderer = human.ImageRenderer(key=key, min_size=100)
    frame = renderer({"pixels": image} if key else image)
    assert frame.dtype == np.uint8 and frame.shape[2] == 3
    side = min(s for s in shape if s > 4)
    factor = -(-100 // side)
    assert frame.shape[:2] == (side * factor, side * factor)
    channels_last = image if shape[-1] <= 4 or len(shape) == 2 else None
    if channels_last is None:
        channels_last = np.moveaxis(image, 0, -1)
    if channels_last.ndim == 2:
        expected = np.repeat(channels_last[..., None], 3, axis=-1)
    elif channels_last.shape[-1] == 3:
        expected = channels_last
    else:
        expected = np.repeat(channels_last[..., -1:], 3, axis=-1)
    np.testing.assert_array_equal(frame[::factor, ::factor], expected)
    with pytest.raises(TypeError, match="uint8 images"):
        renderer({"pixels": image.astype(np.float32)} if key else image / 255)
    with pytest.raises(ValueError, match="min_size"):
        human.ImageRenderer(min_size=0)


@pytest.fixture
def dot_labeller(tmp_path) -> Iterator[human.HumanLabeller]:
    with human.HumanLabeller(
        human.ImageRenderer(),
        tmp_path / "labels.jsonl",
        spaces.Discrete(3),
        custom_logger=_quiet(),
    ) as labeller:
        yield labeller


def test_image_states_round_trip_and_leave_a_trail_on_a_dark_picture(dot_labeller):
    env = envs.DotToCentreEnv()
    frames = [env.reset(seed=1)[0]]
    start = env.position
    assert start <= env.cells - 4  # Room for three steps right.
    frames += [env.step(2)[0] for _ in range(3)]  # Right, right, right.
    state_id = dot_labeller.ask(frames[-1], np.stack(frames[:-1]))
    again = human.LabelLog.read(dot_labeller.log.path)
    obs, context = again.states[state_id]
    np.testing.assert_array_equal(obs, frames[-1])
    np.testing.assert_array_equal(context, np.stack(frames[:-1]))
    assert obs.dtype == context.dtype == np.uint8
    picture = np.asarray(
        Image.open(io.BytesIO(dot_labeller.prepare(obs, context))).convert("L")
    )
    # 9 cells of 4 pixels, enlarged 9 times: the middle of each cell's square.
    row = picture[picture.shape[0] // 2]
    cell = [int(row[(4 * c + 2) * 9]) for c in range(9)]
    assert cell[start + 3] > 200  # The dot now: sharp.
    # Where it was: dimmer the longer ago (the trail), on the black background.
    assert 200 > cell[start + 2] > cell[start + 1] > cell[start] > 40
    assert all(v < 20 for c, v in enumerate(cell) if not start <= c <= start + 3)
