"""DAgger with a person: the label log, the labelling page, and learning from it.

A scripted person answers over real HTTP (``httpx``) against the real server,
like the page does; it looks the state on screen up in the label log and asks
a held-out expert, answering wrongly one time in ten.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from imitation.algorithms import bc, dagger
from imitation.algorithms.preference_comparisons import human
from imitation.data import rollout
from imitation.policies.serialize import load_policy
from imitation.util import logger
from imitation.util.util import make_vec_env

ENV = "seals:seals/CartPole-v0"
JSON = {"Content-Type": "application/json"}


def _obs(seed: int, n: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.1, 0.1, size=(n, 4)).astype(np.float32)


def _client(labeller: human.HumanLabeller) -> httpx.Client:
    return httpx.Client(
        base_url=labeller.address.rstrip("/"),
        params={"token": labeller.token},
        timeout=10,
    )


def _next_state(client: httpx.Client, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while (state := client.get("/api/next").json()["state"]) is None:
        assert time.monotonic() < deadline, "no state was offered"
        time.sleep(0.01)
    return state


@pytest.fixture
def labeller(tmp_path) -> Iterator[human.HumanLabeller]:
    with human.HumanLabeller(
        "CartPole-v1",
        tmp_path / "labels.jsonl",
        spaces.Discrete(2),
        action_names=["push left", "push right"],
        custom_logger=logger.configure(format_strs=[]),
    ) as labeller:
        yield labeller


class ScriptedPerson:
    """Labels over HTTP with a held-out expert's action, wrong 10% of the time."""

    def __init__(self, labeller: human.HumanLabeller, expert, seed: int) -> None:
        self.labeller = labeller
        self.expert = expert
        self.rng = np.random.default_rng(seed)
        self.client = _client(labeller)
        self.labelled: list[int] = []
        self.wrong = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                state = self.client.get("/api/next").json()["state"]
            except httpx.HTTPError:
                return  # The server was stopped.
            if state is None:
                time.sleep(0.005)
                continue
            assert self.client.get(state["picture"]).status_code == 200
            obs = self.labeller.log.states[state["id"]][0]
            action, _ = self.expert.predict(obs[None], deterministic=True)
            action = int(action[0])
            if self.rng.uniform() < 0.1:
                action, self.wrong = 1 - action, self.wrong + 1
            body = {"state_id": state["id"], "action": action}
            if self.client.post("/api/label", json=body).status_code == 200:
                self.labelled.append(state["id"])

    def __enter__(self) -> ScriptedPerson:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()


# -- The label log --------------------------------------------------------------


def test_label_log_round_trip_and_torn_tail(tmp_path):
    path = tmp_path / "labels.jsonl"
    log = human.LabelLog(path)
    ids = [log.add_state(o, _obs(9, 2)) for o in _obs(0, 3)]
    log.add_label(ids[1], 1)
    with pytest.raises(ValueError, match="labelled already"):
        log.add_label(ids[1], 0)
    with pytest.raises(KeyError):
        log.add_label(7, 0)
    log.close()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"type":"label","state_id":0,"act')
    again = human.LabelLog(path)
    assert again.unlabelled() == [0, 2] and again.labels == {1: 1}
    np.testing.assert_array_equal(again.states[1][0], _obs(0, 3)[1])
    np.testing.assert_array_equal(again.states[1][1], _obs(9, 2))
    transitions = again.to_transitions()
    assert transitions.acts.tolist() == [1] and transitions.obs.shape == (1, 4)
    again.close()
    assert path.read_bytes() == whole
    preference_log = tmp_path / "preferences.jsonl"
    human.AnswerLog(preference_log).close()
    with pytest.raises(ValueError, match="not a imitation-human-labels log"):
        human.LabelLog(preference_log)


# -- The labelling page ----------------------------------------------------------


def test_every_route_needs_the_token(labeller):
    labeller.ask(_obs(0)[0])
    with httpx.Client(base_url=labeller.address.rstrip("/")) as client:
        for params in ({}, {"token": "wrong"}, {"token": labeller.token[:-1]}):
            assert client.get("/", params=params).status_code == 403
            assert client.get("/api/next", params=params).status_code == 403
            assert client.get("/state/0.jpg", params=params).status_code == 403
            body = {"state_id": 0, "action": 0}
            response = client.post("/api/label", params=params, json=body)
            assert response.status_code == 403
        page = client.get("/", params={"token": labeller.token})
    assert page.status_code == 200 and "Which action" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert labeller.log.labels == {}


def test_labels_are_validated_and_nothing_refused_is_written(labeller):
    context = _obs(1, 3)
    labeller.ask(_obs(0)[0], context)
    labeller.ask(_obs(2)[0])
    with _client(labeller) as client:
        state = _next_state(client)
        assert state["id"] == 0
        picture = client.get(state["picture"])
        assert picture.headers["content-type"] == "image/jpeg"
        assert picture.content.startswith(b"\xff\xd8\xff")

        def post(body: object) -> httpx.Response:
            return client.post("/api/label", json=body)

        for bad in (2, -1, True, "1", 1.0, None):
            response = post({"state_id": 0, "action": bad})
            assert response.status_code == 422, bad
        assert (
            "outside the action space: 0 to 1"
            in post({"state_id": 0, "action": 5}).json()["error"]
        )
        # State 1 was queued but never served; state 9 does not exist.
        assert post({"state_id": 1, "action": 0}).status_code == 404
        assert post({"state_id": 9, "action": 0}).status_code == 404
        assert post({"state_id": "0", "action": 0}).status_code == 422
        plain = {"Content-Type": "text/plain"}
        body = b'{"state_id": 0, "action": 1}'
        response = client.post("/api/label", content=body, headers=plain)
        assert response.status_code == 415
        assert client.post("/api/label", content=b"[" * 1000, headers=JSON).is_error
        assert client.get("/state/" + "9" * 5000 + ".jpg").status_code == 404
        assert labeller.log.labels == {}

        assert post({"state_id": 0, "action": 1}).status_code == 200
        # A replayed (or stale) request changes nothing.
        assert post({"state_id": 0, "action": 0}).status_code == 409
        assert client.get("/state/0.jpg").status_code == 404
        assert _next_state(client)["id"] == 1
    assert labeller.log.labels == {0: 1}
    assert human.LabelLog.read(labeller.log.path).labels == {0: 1}


def test_labeller_validates_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="discrete actions only"):
        human.HumanLabeller(
            "CartPole-v1", tmp_path / "a.jsonl", spaces.Box(-1, 1, (1,))
        )
    with pytest.raises(ValueError, match="1 action_names for 2 actions"):
        human.HumanLabeller(
            "CartPole-v1", tmp_path / "b.jsonl", spaces.Discrete(2), action_names=["x"]
        )


def test_picture_shows_the_motion_before_the_state(labeller):
    still = labeller.prepare(_obs(0)[0], np.zeros((0, 4), np.float32))
    moving = np.array([[-0.6, 0, 0, 0], [-0.3, 0, 0, 0]], np.float32)
    trail = labeller.prepare(_obs(0)[0], moving)
    assert still.startswith(b"\xff\xd8\xff") and trail != still


# -- Durability -------------------------------------------------------------------

_SERVE = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from gymnasium import spaces
    from imitation.algorithms.preference_comparisons import human
    from imitation.util import logger

    labeller = human.HumanLabeller(
        "CartPole-v1", sys.argv[1], spaces.Discrete(2),
        custom_logger=logger.configure(format_strs=[]),
    )
    if not labeller.log.states:
        rng = np.random.default_rng(0)
        for obs in rng.uniform(-0.1, 0.1, size=(10, 4)).astype(np.float32):
            labeller.ask(obs)
    print(labeller.url, flush=True)
    time.sleep(600)
    """
)


def _serve(log_path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(log_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_kill_9_loses_no_label_and_asks_only_the_unlabelled(tmp_path):
    path = tmp_path / "labels.jsonl"
    proc, url = _serve(path)
    try:
        base, token = url.split("/?token=")
        with httpx.Client(base_url=base, params={"token": token}) as client:
            acknowledged = {}
            for _ in range(4):
                state = _next_state(client)
                action = state["id"] % 2
                body = {"state_id": state["id"], "action": action}
                client.post("/api/label", json=body).raise_for_status()
                acknowledged[state["id"]] = action
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert human.LabelLog.read(path).labels == acknowledged

    proc, url = _serve(path)
    try:
        base, token = url.split("/?token=")
        with httpx.Client(base_url=base, params={"token": token}) as client:
            asked = []
            for _ in range(10 - len(acknowledged)):
                state = _next_state(client)
                asked.append(state["id"])
                body = {"state_id": state["id"], "action": 0}
                client.post("/api/label", json=body).raise_for_status()
            assert client.get("/api/next").json()["pending"] == 0
    finally:
        proc.kill()
        proc.wait(10)
    assert asked == [i for i in range(10) if i not in acknowledged]
    log = human.LabelLog.read(path)
    assert len(log.states) == 10 and len(log.labels) == 10
    assert all(log.labels[i] == a for i, a in acknowledged.items())


# -- Learning -----------------------------------------------------------------------


def _mean_return(policy, venv, n=20, seed=1):
    trajs = rollout.generate_trajectories(
        policy, venv, rollout.make_min_episodes(n), rng=np.random.default_rng(seed)
    )
    return float(np.mean([t.rews.sum() for t in trajs[:n]]))


def cart_on_screen(obs: np.ndarray) -> bool:
    """Whether the page shows the cart (seals' CartPole never ends, carts roam)."""
    return bool(abs(obs[0]) < 2.4)


def run_human_dagger(tmp_path, seed: int, total_labels: int = 500) -> dict:
    """DAgger on seals CartPole with the scripted person; returns the scores."""
    rng = np.random.default_rng(seed)
    th.manual_seed(seed)
    venv = make_vec_env(ENV, rng=rng, n_envs=4)
    quiet = logger.configure(format_strs=[])
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    learner = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        custom_logger=quiet,
    )
    try:
        with human.HumanLabeller(
            ENV.split(":")[1],
            tmp_path / f"labels-{seed}.jsonl",
            venv.action_space,
            custom_logger=quiet,
        ) as labeller:
            trainer = dagger.HumanDAggerTrainer(
                venv=venv,
                labeller=labeller,
                bc_trainer=learner,
                rng=rng,
                state_filter=cart_on_screen,
                custom_logger=quiet,
            )
            with ScriptedPerson(labeller, expert, seed) as person:
                trainer.train(total_labels, timeout=60)
            labels = labeller.n_labels
        random_return = _mean_return(None, venv)
        expert_return = _mean_return(expert, venv)
        score = _mean_return(trainer.policy, venv)
    finally:
        venv.close()
    return {
        "labels": labels,
        "wrong": person.wrong,
        "score": score,
        "normalised": (score - random_return) / (expert_return - random_return),
    }


def _trainer(venv, labeller, rng, quiet):
    learner = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=rng,
        batch_size=16,
        custom_logger=quiet,
    )
    return dagger.HumanDAggerTrainer(
        venv=venv,
        labeller=labeller,
        bc_trainer=learner,
        rng=rng,
        states_per_rollout=10,
        max_pending=10,
        custom_logger=quiet,
    )


def test_only_labels_are_trained_on_and_a_restart_keeps_them(tmp_path, rng):
    venv = make_vec_env(ENV, rng=rng, n_envs=2)
    quiet = logger.configure(format_strs=[])
    expert = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    path = tmp_path / "labels.jsonl"
    kwargs = {"bc_train_kwargs": {"n_batches": 5}, "retrain_every": 10, "timeout": 60}
    try:
        with human.HumanLabeller(
            "seals/CartPole-v0", path, venv.action_space, custom_logger=quiet
        ) as labeller:
            trainer = _trainer(venv, labeller, rng, quiet)
            with ScriptedPerson(labeller, expert, seed=0):
                trainer.train(30, **kwargs)
            # States were asked ahead of the person; only the labelled count.
            assert labeller.n_labels == trainer.trained_on == 30
            assert len(labeller.log.states) > 30
            left = labeller.log.unlabelled()
        with human.HumanLabeller(
            "seals/CartPole-v0", path, venv.action_space, custom_logger=quiet
        ) as labeller:
            trainer = _trainer(venv, labeller, rng, quiet)
            with ScriptedPerson(labeller, expert, seed=1) as person:
                trainer.train(40, **kwargs)
            assert trainer.trained_on == labeller.n_labels == 40
            # The states left unlabelled were asked first.
            assert person.labelled[: len(left)] == left[:10]
            with pytest.raises(TimeoutError, match="No label within timeout"):
                trainer.train(41, timeout=0.5)
    finally:
        venv.close()


@pytest.mark.expensive
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_human_dagger_learns_cartpole_from_500_labels(tmp_path, seed):
    """The issue's goal: >= 0.95 normalised with at most 500 labels (10% wrong)."""
    result = run_human_dagger(tmp_path, seed=seed)
    print(f"seed {seed}: {result}")
    assert result["labels"] <= 500 and result["wrong"] > 0
    assert result["normalised"] >= 0.95, result


def test_a_cart_far_off_screen_still_renders(labeller):
    far = np.array([1e6, 0, 0, 0], np.float32)
    assert labeller.prepare(far, far[None]).startswith(b"\xff\xd8\xff")


# -- Load ----------------------------------------------------------------------------


def _crowd(labeller: human.HumanLabeller, seconds: float, clients: int = 20) -> dict:
    """``clients`` threads label as fast as they can for ``seconds``."""
    acknowledged: dict[int, list[int]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def feed() -> None:
        rng = np.random.default_rng(0)
        while not stop.is_set():
            if labeller.n_pending < 60:
                obs = rng.uniform(-0.1, 0.1, size=(2, 4)).astype(np.float32)
                labeller.ask(obs[1], obs[:1])
            else:
                time.sleep(0.005)

    def answer(index: int) -> None:
        try:
            with _client(labeller) as client:
                while not stop.is_set():
                    state = client.get("/api/next").json()["state"]
                    if state is None:
                        time.sleep(0.005)
                        continue
                    action = (state["id"] + index) % 2
                    body = {"state_id": state["id"], "action": action}
                    response = client.post("/api/label", json=body)
                    assert response.status_code in (200, 404, 409), response.text
                    if response.status_code == 200:
                        with lock:
                            acknowledged.setdefault(state["id"], []).append(action)
        except BaseException as exc:  # Reported by the main thread.
            errors.append(exc)

    threads = [threading.Thread(target=feed, daemon=True)]
    threads += [
        threading.Thread(target=answer, args=(i,), daemon=True) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors[0]
    return acknowledged


@pytest.mark.parametrize("seconds", [3, pytest.param(30, marks=pytest.mark.expensive)])
def test_a_crowd_of_20_clients_loses_and_duplicates_nothing(labeller, seconds):
    acknowledged = _crowd(labeller, seconds)
    # Every state was acknowledged to exactly one client ...
    assert all(len(actions) == 1 for actions in acknowledged.values())
    # ... and the log holds exactly the acknowledged labels, durably.
    logged = human.LabelLog.read(labeller.log.path).labels
    assert logged == {i: actions[0] for i, actions in acknowledged.items()}
    print(f"{len(logged)} labels from 20 clients in {seconds} s")
    assert len(logged) >= 10  # The crowd did label.


def test_the_page_stops_asking_at_the_budget(labeller):
    for seed in range(3):
        labeller.ask(_obs(seed)[0])
    with _client(labeller) as client:
        assert _next_state(client)["id"] == 0
        reply = client.post("/api/label", json={"state_id": 0, "action": 0}).json()
        # The reply offers state 1, but then the run has all it asked for.
        deadline = time.monotonic() + 20
        while reply["state"] is None:
            assert time.monotonic() < deadline
            reply = client.get("/api/next").json()
        assert reply["state"]["id"] == 1
        labeller.budget = 1
        late = client.post("/api/label", json={"state_id": 1, "action": 1})
        assert late.status_code == 409 and "not asking" in late.json()["error"]
        status = client.get("/api/next").json()
        assert status["enough"] and status["state"] is None
    assert human.LabelLog.read(labeller.log.path).labels == {0: 0}
