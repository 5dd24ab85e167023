"""Demonstrations played by a person in the browser (``HumanPlayer``).

A scripted player presses keys over real HTTP (``httpx``) against the real
server, like the page does; it looks at the current observation in the play
log, standing in for looking at the frame.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest

from imitation.algorithms.preference_comparisons import human
from imitation.data import serialize, types
from imitation.testing import envs
from imitation.util import logger

JSON = {"Content-Type": "application/json"}


def _quiet():
    return logger.configure(format_strs=[])


@pytest.fixture
def player(tmp_path) -> Iterator[human.HumanPlayer]:
    with human.HumanPlayer(
        "CartPole-v1", tmp_path / "play.jsonl", seed=3, custom_logger=_quiet()
    ) as player:
        yield player


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, params={"token": token}, timeout=10)


def play(
    client: httpx.Client, choose: Callable[[dict], int], episodes: int
) -> list[dict]:
    """Press keys until ``episodes`` more episodes are finished; the replies."""
    status = client.get("/api/next").json()
    goal = status["finished"] + episodes
    replies = []
    while status["finished"] < goal:
        assert client.get(status["frame"]).headers["content-type"] == "image/jpeg"
        body = {"episode": status["episode"], "t": status["t"]}
        body["control"] = choose(status)
        response = client.post("/api/act", json=body)
        response.raise_for_status()
        status = response.json()
        replies.append(status)
    return replies


def test_play_log_round_trip_and_torn_tail(tmp_path):
    path = tmp_path / "play.jsonl"
    log = human.PlayLog(path)
    number = log.add_reset(7, np.zeros(4, np.float32))
    log.add_step(number, np.array(1), np.ones(4, np.float32), 1.0, False, False)
    log.add_step(number, np.array(0), np.full(4, 2, np.float32), 1.0, True, False)
    log.add_reset(8, np.zeros(4, np.float32))
    log.close()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"type":"step","episode":1,"t":0,"act')
    again = human.PlayLog(path)
    (trajectory,) = again.trajectories()
    assert trajectory.terminal and trajectory.acts.tolist() == [1, 0]
    assert trajectory.obs.shape == (3, 4) and trajectory.rews.tolist() == [1.0, 1.0]
    assert not again.episodes[1].done
    again.close()
    assert path.read_bytes() == whole


def test_turn_based_play_records_each_step(player, tmp_path):
    with _client(player.address.rstrip("/"), player.token) as client:
        page = client.get("/")
        assert page.status_code == 200 and "each key press is one step" in page.text
        first = client.get("/api/next").json()
        assert first["controls"] == [
            ["action 0", "ArrowLeft"],
            ["action 1", "ArrowRight"],
        ]
        assert (first["episode"], first["t"]) == (0, 0)
        replies = play(client, lambda status: 0, episodes=2)
    trajectories = player.trajectories()
    assert len(trajectories) == 2 and all(t.terminal for t in trajectories)
    assert all(np.all(t.acts == 0) for t in trajectories)
    assert sum(len(t.acts) for t in trajectories) == len(replies)
    # Episode k resets with seed 3 + k: the first observation says so.
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    np.testing.assert_allclose(trajectories[1].obs[0], env.reset(seed=4)[0])
    env.close()

    saved = tmp_path / "demos"
    assert player.save(saved) == 2
    loaded = serialize.load(saved)
    np.testing.assert_array_equal(loaded[0].obs, trajectories[0].obs)


def test_bad_steps_are_refused_and_nothing_is_written(player):
    path = player.log.path
    with _client(player.address.rstrip("/"), player.token) as client:

        def post(body: object, headers: dict | None = None) -> httpx.Response:
            if headers is None:
                return client.post("/api/act", json=body)
            return client.post("/api/act", content=str(body).encode(), headers=headers)

        size = path.stat().st_size
        assert post({"episode": 0, "t": 0, "control": 2}).status_code == 422
        assert post({"episode": 0, "t": 0, "control": True}).status_code == 422
        assert post({"episode": 0, "t": 5, "control": 0}).status_code == 409
        assert post({"episode": 1, "t": 0, "control": 0}).status_code == 409
        assert post({"episode": 0, "t": "0", "control": 0}).status_code == 422
        body = '{"episode": 0, "t": 0, "control": 0}'
        assert post(body, {"Content-Type": "text/plain"}).status_code == 415
        assert client.post("/api/act", content=b"[" * 1000, headers=JSON).is_error
        assert client.get("/frame/0/1.jpg").status_code == 404
        assert client.get("/frame/" + "9" * 5000 + "/0.jpg").status_code == 404
        with httpx.Client(base_url=player.address.rstrip("/")) as stranger:
            for route in ("/", "/api/next", "/frame/0/0.jpg"):
                assert stranger.get(route, params={"token": "x"}).status_code == 403
            response = stranger.post(
                "/api/act", json={"episode": 0, "t": 0, "control": 0}
            )
            assert response.status_code == 403
        assert path.stat().st_size == size
        assert post({"episode": 0, "t": 0, "control": 1}).status_code == 200
        # Replaying the same request is stale now.
        assert post({"episode": 0, "t": 0, "control": 1}).status_code == 409
    assert len(player.log.episodes[0].acts) == 1


def test_continuous_control_needs_a_key_map(tmp_path):
    with pytest.raises(ValueError, match="pass controls"):
        human.HumanPlayer("Pendulum-v1", tmp_path / "a.jsonl")
    controls = [
        ("push left", "ArrowLeft", np.array([-2.0])),
        ("none", "ArrowDown", np.array([0.0])),
        ("push right", "ArrowRight", np.array([2.0])),
    ]
    with pytest.raises(ValueError, match="outside the action space"):
        human.HumanPlayer(
            "Pendulum-v1", tmp_path / "b.jsonl", controls=[("x", "x", np.array([5.0]))]
        )
    with human.HumanPlayer(
        "Pendulum-v1", tmp_path / "c.jsonl", controls=controls, custom_logger=_quiet()
    ) as player:
        with _client(player.address.rstrip("/"), player.token) as client:
            for control in (0, 2, 1):
                status = client.get("/api/next").json()
                body = {"episode": 0, "t": status["t"], "control": control}
                client.post("/api/act", json=body).raise_for_status()
        acts = player.log.episodes[0].acts
    np.testing.assert_allclose(np.stack(acts), [[-2.0], [2.0], [0.0]])


def test_episodes_are_saved_as_a_minari_dataset(player, tmp_path, monkeypatch):
    pytest.importorskip("minari")
    from imitation.data import minari as imitation_minari

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    with _client(player.address.rstrip("/"), player.token) as client:
        play(client, lambda status: status["t"] % 2, episodes=1)
    player.save(tmp_path / "demos", minari_id="human/cartpole-v0")
    (loaded,) = imitation_minari.load_trajectories("human/cartpole-v0")
    (played,) = player.trajectories()
    np.testing.assert_allclose(loaded.obs, played.obs)
    np.testing.assert_array_equal(loaded.acts, played.acts)


_SERVE = textwrap.dedent(
    """
    import sys, time
    from imitation.algorithms.preference_comparisons import human
    from imitation.util import logger

    player = human.HumanPlayer(
        "CartPole-v1", sys.argv[1], seed=11,
        custom_logger=logger.configure(format_strs=[]),
    )
    print(player.url, flush=True)
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


def test_kill_9_mid_episode_keeps_every_step(tmp_path):
    path = tmp_path / "play.jsonl"
    proc, url = _serve(path)
    try:
        with _client(*url.split("/?token=")) as client:
            for t in range(5):
                body = {"episode": 0, "t": t, "control": t % 2}
                client.post("/api/act", json=body).raise_for_status()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log = human.PlayLog.read(path)
    assert len(log.episodes[0].acts) == 5
    logged_obs = log.episodes[0].obs[-1]

    proc, url = _serve(path)
    try:
        with _client(*url.split("/?token=")) as client:
            status = client.get("/api/next").json()
            # The unfinished episode was replayed to where it stopped.
            assert (status["episode"], status["t"]) == (0, 5)
            assert client.get(status["frame"]).status_code == 200
            body = {"episode": 0, "t": 5, "control": 0}
            client.post("/api/act", json=body).raise_for_status()
    finally:
        proc.kill()
        proc.wait(10)
    log = human.PlayLog.read(path)
    episode = log.episodes[0]
    assert len(episode.acts) == 6 and [int(a) for a in episode.acts] == [
        0,
        1,
        0,
        1,
        0,
        0,
    ]
    np.testing.assert_array_equal(episode.obs[5], logged_obs)
    assert not any(e.abandoned for e in log.episodes.values())


def test_a_replay_that_differs_is_abandoned_not_mixed_up(tmp_path):
    path = tmp_path / "play.jsonl"
    log = human.PlayLog(path)
    log.add_reset(0, np.full(4, 9.0, np.float32))  # Not what reset(seed=0) gives.
    log.close()
    with human.HumanPlayer("CartPole-v1", path, custom_logger=_quiet()) as player:
        assert player.log.episodes[0].abandoned
        assert player.status()["episode"] == 1
    assert human.PlayLog.read(path).episodes[0].abandoned


def test_a_step_arriving_while_the_run_stops_is_refused_cleanly(player):
    from starlette.testclient import TestClient

    from imitation.algorithms.preference_comparisons.human import webapp

    player.close()
    app = webapp.make_play_app(player, "secret")
    with TestClient(app) as client:
        body = {"episode": 0, "t": 0, "control": 0}
        response = client.post("/api/act?token=secret", json=body)
    assert response.status_code == 503
    assert "stopped" in response.json()["error"]


@pytest.mark.parametrize("env_id", [envs.DICT_CARTPOLE_ID, envs.DOT_TO_CENTRE_ID])
def test_dict_and_image_observations_are_played_saved_and_resumed(tmp_path, env_id):
    """Dict CartPole and the DotToCentre pictures: two episodes, then a third
    cut short by closing the run; a new player replays it from the log."""
    import gymnasium as gym

    def make_player() -> human.HumanPlayer:
        env = gym.make(env_id, render_mode="rgb_array", max_episode_steps=6)
        return human.HumanPlayer(env, tmp_path / "play.jsonl", custom_logger=_quiet())

    with make_player() as player:
        with _client(player.address.rstrip("/"), player.token) as client:
            play(client, lambda status: status["t"] % 2, episodes=2)
            for t in range(3):
                body = {"episode": 2, "t": t, "control": 0}
                client.post("/api/act", json=body).raise_for_status()
        trajectories = player.trajectories()
        assert player.save(tmp_path / "demos") == 2
    dict_obs = env_id == envs.DICT_CARTPOLE_ID
    for trajectory in trajectories:
        assert len(trajectory.acts) == 6 and len(trajectory.obs) == 7
        assert isinstance(trajectory.obs, types.DictObs) == dict_obs
    if dict_obs:
        assert set(trajectories[0].obs.keys()) == {"pos", "vel"}
    else:
        assert trajectories[0].obs.shape == (7, 36, 36, 3)
        assert trajectories[0].obs.dtype == np.uint8
    loaded = serialize.load(tmp_path / "demos")
    for saved, played in zip(loaded, trajectories):
        if dict_obs:
            assert saved.obs == played.obs
        else:
            np.testing.assert_array_equal(saved.obs, played.obs)
    with make_player() as player:
        # The cut episode was replayed to where it stopped, not abandoned.
        assert (player.status()["episode"], player.status()["t"]) == (2, 3)
        assert not any(e.abandoned for e in player.log.episodes.values())
