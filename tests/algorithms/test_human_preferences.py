"""HumanGatherer: answer log, rendering, web app security, sync/async rounds, resume.

The browser end-to-end test is in ``test_human_preferences_browser.py``; here
a scripted person answers over real HTTP (``httpx``) against the real server.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from imitation.algorithms import preference_comparisons as pc
from imitation.algorithms.preference_comparisons.human import rendering
from imitation.data import types


def _fragment(
    seed: int, length: int = 4, env: str = "CartPole"
) -> types.TrajectoryWithRew:
    rng = np.random.default_rng(seed)
    if env == "CartPole":
        obs = rng.uniform(-0.1, 0.1, size=(length + 1, 4)).astype(np.float32)
    else:
        theta = rng.uniform(-np.pi, np.pi, size=length + 1)
        obs = np.stack([np.cos(theta), np.sin(theta), rng.normal(size=length + 1)], 1)
    return types.TrajectoryWithRew(
        obs=obs,
        acts=rng.integers(0, 2, size=length),
        rews=rng.normal(size=length),
        infos=None,
        terminal=False,
    )


def _pairs(n: int, start: int = 0) -> list[pc.TrajectoryWithRewPair]:
    return [(_fragment(2 * i), _fragment(2 * i + 1)) for i in range(start, start + n)]


JSON = {"Content-Type": "application/json"}


def _same(a: types.TrajectoryWithRew, b: types.TrajectoryWithRew) -> bool:
    return np.array_equal(a.obs, b.obs) and np.array_equal(a.rews, b.rews)


class Person:
    """Answers over HTTP, like the page: ``choose(pair_id) -> choice``."""

    def __init__(self, gatherer: pc.HumanGatherer, choose: Callable[[int], str]):
        self.client = httpx.Client(
            base_url=gatherer.url.split("/?")[0],
            params={"token": gatherer.token},
            timeout=10,
        )
        self.choose = choose
        self.answered: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                pair = self.client.get("/api/next").json()["pair"]
            except httpx.HTTPError:
                return  # The server was stopped.
            if pair is None:
                time.sleep(0.01)
                continue
            assert self.client.get(pair["left"]).status_code == 200
            body = {"pair_id": pair["id"], "choice": self.choose(pair["id"])}
            if self.client.post("/api/answer", json=body).status_code == 200:
                self.answered.append(pair["id"])

    def __enter__(self) -> Person:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()


@pytest.fixture
def gatherer(tmp_path) -> Iterator[pc.HumanGatherer]:
    with pc.HumanGatherer("CartPole-v1", tmp_path / "log.jsonl", timeout=30) as g:
        yield g


# -- Answer log --------------------------------------------------------------


def test_answer_log_round_trip_and_dataset(tmp_path):
    path = tmp_path / "log.jsonl"
    log = pc.AnswerLog(path)
    pairs = _pairs(4)
    ids = [log.add_pair(p) for p in pairs]
    for pair_id, choice in zip(ids, ["left", "right", "equal", "skip"]):
        log.add_answer(pair_id, choice)
    with pytest.raises(ValueError, match="answered already"):
        log.add_answer(ids[0], "left")
    with pytest.raises(KeyError):
        log.add_answer(99, "left")
    with pytest.raises(ValueError, match="not one of"):
        log.add_answer(log.add_pair(pairs[0]), "maybe")
    log.close()

    again = pc.AnswerLog(path)
    assert again.unanswered() == [4]
    assert list(again.answers.values()) == ["left", "right", "equal", "skip"]
    dataset = again.to_preference_dataset()
    np.testing.assert_array_equal(dataset.preferences, [1.0, 0.0, 0.5])
    for (pair, _), original in zip(dataset, pairs):
        assert _same(pair[0], original[0]) and _same(pair[1], original[1])
    again.close()


def test_answer_log_torn_tail_is_dropped_and_damage_is_reported(tmp_path):
    path = tmp_path / "log.jsonl"
    log = pc.AnswerLog(path)
    log.add_answer(log.add_pair(_pairs(1)[0]), "left")
    log.close()
    whole = path.read_bytes()
    # A kill -9 in the middle of writing a line leaves it without "\n".
    path.write_bytes(whole + b'{"type":"answer","pair_id":0,"cho')
    log = pc.AnswerLog(path)
    assert log.answers == {0: "left"}
    log.close()
    assert path.read_bytes() == whole

    lines = whole.split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]))
    with pytest.raises(ValueError, match="line 2.*damaged"):
        pc.AnswerLog(path)
    path.write_text('{"type": "something else"}\n')
    with pytest.raises(ValueError, match="not a imitation-human-preferences log"):
        pc.AnswerLog.read(path)


def test_answer_log_is_locked_to_one_process(tmp_path):
    log = pc.AnswerLog(tmp_path / "log.jsonl")
    try:
        with pytest.raises(RuntimeError, match="open in another process"):
            pc.AnswerLog(tmp_path / "log.jsonl")
        assert pc.AnswerLog.read(tmp_path / "log.jsonl").pairs == {}
    finally:
        log.close()


# -- Rendering ---------------------------------------------------------------


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_state_renderer_draws_the_observed_state(env_id):
    renderer = pc.StateRenderer(env_id)
    kind = "CartPole" if env_id.startswith("Cart") else "Pendulum"
    frames = rendering.render_fragment(_fragment(0, 3, kind), renderer)
    renderer.close()
    assert len(frames) == 4 and frames[0].dtype == np.uint8 and frames[0].ndim == 3
    # Different states give different pictures.
    assert not np.array_equal(frames[0], frames[1])


def test_state_renderer_needs_known_env_or_mapping():
    with pytest.raises(ValueError, match="No built-in renderer for AcrobotEnv"):
        pc.StateRenderer("Acrobot-v1")
    import gymnasium as gym

    with pytest.raises(ValueError, match='render_mode="rgb_array"'):
        pc.StateRenderer(gym.make("CartPole-v1"))


@pytest.mark.parametrize("use_video", [True, False])
def test_write_clips_mp4_and_gif(tmp_path, use_video):
    suffix = rendering.video_suffix(use_video)
    paths = [tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"]
    pair = (_fragment(0, 5), _fragment(1, 3))
    renderer = pc.StateRenderer("CartPole-v1")
    rendering.write_clips(pair, renderer, paths, fps=10, use_video=use_video)
    renderer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]
    if use_video:
        assert paths[0].read_bytes()[4:8] == b"ftyp"
    else:
        with Image.open(paths[0]) as gif:
            assert gif.n_frames == 6


def test_write_clips_rejects_bad_frames(tmp_path):
    with pytest.raises(TypeError, match="uint8 RGB frames"):
        rendering.write_clips(
            [_fragment(0)], lambda obs: np.zeros((4, 4)), [tmp_path / "x.mp4"], 10
        )
    assert list(tmp_path.iterdir()) == []


# -- Web app security ----------------------------------------------------------


def test_every_request_needs_the_token(gatherer):
    assert gatherer.url.startswith("http://127.0.0.1:")
    base = gatherer.url.split("/?")[0]
    with httpx.Client(base_url=base) as client:
        for params in ({}, {"token": "wrong"}, {"token": gatherer.token[:-1]}):
            assert client.get("/", params=params).status_code == 403
            assert client.get("/api/next", params=params).status_code == 403
            assert client.get("/video/0/left", params=params).status_code == 403
            response = client.post(
                "/api/answer", params=params, json={"pair_id": 0, "choice": "left"}
            )
            assert response.status_code == 403
        page = client.get("/", params={"token": gatherer.token})
    assert page.status_code == 200 and 'id="answer-left"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_answers_are_validated(gatherer):
    thread = threading.Thread(target=gatherer.gather, args=(_pairs(1),), daemon=True)
    thread.start()
    base = gatherer.url.split("/?")[0]
    with httpx.Client(base_url=base, params={"token": gatherer.token}) as client:
        while client.get("/api/next").json()["pair"] is None:
            time.sleep(0.01)

        def post(body: object) -> int:
            return client.post("/api/answer", json=body).status_code

        assert post([0, "left"]) == 400
        assert (
            client.post("/api/answer", content=b"{oops", headers=JSON).status_code
            == 400
        )
        assert post({"pair_id": "0", "choice": "left"}) == 422
        assert post({"pair_id": True, "choice": "left"}) == 422
        assert post({"pair_id": 0, "choice": "LEFT"}) == 422
        assert post({"pair_id": 0, "choice": ["left"]}) == 422
        assert post({"pair_id": 7, "choice": "left"}) == 404
        assert post({"pair_id": 0, "choice": "left", "x": "y" * 2000}) == 413
        # Videos are found by pair id, never by a path from the request.
        assert client.get("/video/0/up").status_code == 404
        assert client.get("/video/7/left").status_code == 404
        assert client.get("/video/..%2F..%2Fetc%2Fpasswd/left").status_code == 404
        assert client.get("/video/0/left").headers["content-type"] == "video/mp4"
        assert post({"pair_id": 0, "choice": "left"}) == 200
        assert post({"pair_id": 0, "choice": "right"}) == 409
        # An answered pair's clips are no longer served.
        assert client.get("/video/0/left").status_code == 404
    thread.join(10)
    assert gatherer.log.answers == {0: "left"}


def _shown_pair(client: httpx.Client) -> dict:
    deadline = time.monotonic() + 20
    while (pair := client.get("/api/next").json()["pair"]) is None:
        assert time.monotonic() < deadline, "no pair was offered"
        time.sleep(0.01)
    return pair


@pytest.fixture
def round_client(gatherer) -> Iterator[httpx.Client]:
    """A client of ``gatherer`` while a round of one pair is on the page."""
    thread = threading.Thread(target=gatherer.gather, args=(_pairs(1),), daemon=True)
    thread.start()
    base = gatherer.url.split("/?")[0]
    with httpx.Client(base_url=base, params={"token": gatherer.token}) as client:
        _shown_pair(client)
        yield client
        client.post("/api/answer", json={"pair_id": 0, "choice": "left"})
    thread.join(10)


def test_deeply_nested_json_is_refused_cleanly(gatherer, round_client):
    response = round_client.post("/api/answer", content=b"[" * 1000, headers=JSON)
    assert response.status_code == 400 and "JSON object" in response.json()["error"]
    assert gatherer.log.answers == {}


def test_huge_or_negative_pair_id_in_a_video_url_is_not_found(round_client):
    for pair_id in ["9" * 4301, "-1", "0x1", "1e3"]:
        response = round_client.get(f"/video/{pair_id}/left")
        assert response.status_code == 404, pair_id
    assert round_client.get("/video/0/left").status_code == 200


@pytest.mark.parametrize(
    "headers, content",
    [
        ({"Content-Type": "text/plain"}, b'{"pair_id": 0, "choice": "left"}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"pair_id=0"),
        ({}, b'{"pair_id": 0, "choice": "left"}'),
    ],
)
def test_answers_must_be_declared_json(gatherer, round_client, headers, content):
    response = round_client.post("/api/answer", content=content, headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert gatherer.log.answers == {}
    charset = {"Content-Type": "application/json; charset=utf-8"}
    body = b'{"pair_id": 0, "choice": "left"}'
    assert round_client.post("/api/answer", content=body, headers=charset).is_success


def test_only_pairs_shown_this_run_can_be_answered(tmp_path):
    path = tmp_path / "log.jsonl"
    earlier = pc.AnswerLog(path)
    for pair in _pairs(3):
        earlier.add_pair(pair)
    earlier.close()
    release = threading.Event()
    renderer = pc.StateRenderer("CartPole-v1")

    def slow_renderer(obs: np.ndarray) -> np.ndarray:
        release.wait(20)
        return renderer(obs)

    with pc.HumanGatherer(slow_renderer, path, timeout=30) as gatherer:
        # The round asks one pair again (pair 0) and nothing else.
        thread = threading.Thread(
            target=gatherer.gather, args=(_pairs(1, start=3),), daemon=True
        )
        thread.start()
        base = gatherer.url.split("/?")[0]
        with httpx.Client(base_url=base, params={"token": gatherer.token}) as client:
            # Pair 0's clips are not rendered yet: not on the page.
            time.sleep(0.2)
            assert client.get("/api/next").json()["pair"] is None
            answer = {"pair_id": 0, "choice": "left"}
            response = client.post("/api/answer", json=answer)
            assert response.status_code == 404
            assert "never shown" in response.json()["error"]
            release.set()
            assert _shown_pair(client)["id"] == 0
            # Pair 2 is in the log from an earlier run, but this run never asked it.
            assert (
                client.post(
                    "/api/answer", json={"pair_id": 2, "choice": "left"}
                ).status_code
                == 404
            )
            assert gatherer.log.answers == {}
            assert client.post("/api/answer", json=answer).status_code == 200
        thread.join(10)
    renderer.close()
    assert pc.AnswerLog.read(path).answers == {0: "left"}


def test_the_session_token_is_never_logged(tmp_path, capfd):
    from imitation.util import logger as imit_logger

    folder = tmp_path / "logs"
    custom_logger = imit_logger.configure(folder, ["stdout", "log"])
    with pc.HumanGatherer(
        "CartPole-v1", tmp_path / "log.jsonl", timeout=30, custom_logger=custom_logger
    ) as gatherer:
        with Person(gatherer, lambda i: "left"):
            gatherer.gather(_pairs(2))
        token = gatherer.token
    custom_logger.close()
    written = [p.read_text() for p in folder.rglob("*") if p.is_file()]
    assert written and all(token not in text for text in written)
    assert any(gatherer.address in text for text in written)
    out, err = capfd.readouterr()
    assert token not in out
    assert err.count(token) == 1 and f"open {gatherer.url}" in err


def _raw_request(gatherer: pc.HumanGatherer, head: str, body: bytes) -> socket.socket:
    port = int(gatherer.address.rsplit(":", 1)[1].strip("/"))
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request = (
        f"POST /api/answer?token={gatherer.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{head}\r\n"
    )
    sock.sendall(request.encode() + body)
    return sock


def test_an_over_long_chunked_body_is_refused_before_it_ends(gatherer, round_client):
    chunk = b"x" * 800
    sock = _raw_request(
        gatherer,
        "Transfer-Encoding: chunked\r\n",
        b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2,
    )
    try:
        # The body has no final chunk: the server answers without waiting for it.
        reply = sock.recv(4096)
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 413")
    assert gatherer.log.answers == {}


def test_a_client_leaving_mid_body_leaves_no_error_in_the_log(gatherer, round_client):
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    server_logger = logging.getLogger("uvicorn.error")
    server_logger.addHandler(handler)
    try:
        sock = _raw_request(gatherer, "Content-Length: 500\r\n", b'{"pair_id": 0')
        time.sleep(0.2)
        sock.close()
        time.sleep(0.5)
        assert round_client.get("/api/next").status_code == 200
    finally:
        server_logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == []
    assert gatherer.log.answers == {}


# -- Rounds ----------------------------------------------------------------------


def test_sync_round_waits_for_all_answers_and_drops_skips(gatherer):
    choices = {0: "left", 1: "equal", 2: "skip", 3: "right"}
    pairs = _pairs(4)
    with Person(gatherer, choices.__getitem__) as person:
        answered, prefs = gatherer.gather(pairs)
    assert sorted(person.answered) == [0, 1, 2, 3]
    np.testing.assert_array_equal(prefs, [1.0, 0.5, 0.0])
    expected = [pairs[0], pairs[1], pairs[3]]
    assert all(a[0] is e[0] and a[1] is e[1] for a, e in zip(answered, expected))
    assert gatherer.status()["answered"] == gatherer.status()["asked"] == 4
    with Person(gatherer, lambda i: "skip"), pytest.raises(ValueError, match="gather"):
        gatherer(_pairs(1, start=4))


def test_async_round_returns_early_and_late_answers_join_next_round(tmp_path):
    log = tmp_path / "log.jsonl"
    with pc.HumanGatherer("CartPole-v1", log, mode="async", timeout=30) as gatherer:
        release = threading.Event()

        def choose(pair_id: int) -> str:
            if pair_id > 0:
                release.wait(10)  # The person is slow after the first answer.
            return "left"

        with Person(gatherer, choose):
            pairs, prefs = gatherer.gather(_pairs(3))
            assert len(pairs) == 1 and prefs.tolist() == [1.0]
            release.set()
            deadline = time.monotonic() + 20
            while len(gatherer.log.answers) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            # The two late answers fill this round's quota of 2 itself.
            pairs, prefs = gatherer.gather(_pairs(2, start=3))
        assert len(pairs) == 2 and len(gatherer.log.pairs) == 3


def test_resume_asks_only_unanswered_pairs(tmp_path):
    log = tmp_path / "log.jsonl"
    first = pc.HumanGatherer("CartPole-v1", log, mode="async", timeout=30)
    with Person(first, lambda i: "right"):
        first.gather(_pairs(3))  # Returns after the first answer.
    first.close()
    answered = set(pc.AnswerLog.read(log).answers)
    assert len(answered) >= 1

    with pc.HumanGatherer("CartPole-v1", log, timeout=30) as second:
        with Person(second, lambda i: "left") as person:
            pairs, prefs = second.gather(_pairs(3, start=3))
        # Earlier answers come back; only the unanswered pairs are asked.
        assert sorted(person.answered) == sorted(set(range(3)) - answered)
        assert len(pairs) == 3 and len(second.log.pairs) == 3
        assert prefs.tolist() == [0.0] * len(answered) + [1.0] * (3 - len(answered))


def test_first_round_all_skipped_is_an_error(gatherer):
    with Person(gatherer, lambda i: "skip"), pytest.raises(RuntimeError, match="skip"):
        gatherer.gather(_pairs(2))


def test_timeout_and_closed_gatherer(tmp_path):
    gatherer = pc.HumanGatherer("CartPole-v1", tmp_path / "log.jsonl", timeout=0.3)
    with pytest.raises(TimeoutError, match="answer at http://127.0.0.1:[0-9]+/ "):
        gatherer.gather(_pairs(1))
    gatherer.close()
    with pytest.raises(RuntimeError, match="closed"):
        gatherer.gather(_pairs(1))
    with pytest.raises(ValueError, match="mode='later'"):
        pc.HumanGatherer("CartPole-v1", tmp_path / "b.jsonl", mode="later")  # type: ignore[arg-type]


def test_preference_comparisons_learns_from_http_answers(tmp_path, rng):
    """The unchanged algorithm, with answers from the true returns over HTTP."""
    from imitation.data import rollout
    from imitation.rewards.reward_nets import BasicRewardNet
    from imitation.util.util import make_vec_env

    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_sample_until(min_episodes=4), rng=rng
    )
    reward_net = BasicRewardNet(venv.observation_space, venv.action_space)
    with pc.HumanGatherer("Pendulum-v1", tmp_path / "log.jsonl", timeout=60) as g:

        def by_return(pair_id: int) -> str:
            left, right = g.log.pairs[pair_id]
            return "left" if left.rews.sum() > right.rews.sum() else "right"

        trainer = pc.PreferenceComparisons(
            pc.TrajectoryDataset(trajs, rng=rng),
            reward_net,
            num_iterations=1,
            preference_gatherer=g,
            fragment_length=5,
            initial_comparison_frac=0.5,
            initial_epoch_multiplier=1,
            rng=rng,
        )
        with Person(g, by_return):
            trainer.train(total_timesteps=0, total_comparisons=6, progress_bar=False)
    assert len(trainer.dataset) == 6
    assert len(pc.AnswerLog.read(tmp_path / "log.jsonl").answers) == 6
