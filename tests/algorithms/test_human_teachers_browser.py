"""End to end: a person (Selenium in headless Chromium) labels for DAgger and plays.

The runs are the commands of ``docs/human-teachers.md``, verbatim, then
overrides (budgets, log folder), as subprocesses: ``train_imitation dagger
with seals_cartpole expert.policy_type=human ...`` (the labelling page),
``eval_policy with seals_cartpole expert.policy_type=human ...`` and
``eval_policy with pendulum ... human.controls=...`` (the playing page,
discrete and continuous control). The "person" reads which state is on
screen from the page (``data-state-id``, ``data-episode``/``data-t``), looks
its observation up in the run's log, standing in for judging the picture by
eye, and answers by clicking the buttons or pressing the keys: for CartPole
with a held-out expert's action (the bundled seals CartPole expert), wrong
one time in ten; for Pendulum with a torque that swings the pendulum up.

Set ``IMITATION_UPDATE_SCREENSHOT=1`` to refresh ``docs/img/human_labels.png``
and ``docs/img/human_play.png``.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from imitation.algorithms import bc
from imitation.algorithms.preference_comparisons import human
from imitation.algorithms.preference_comparisons.human.answer_log import decode_array
from imitation.data import rollout, serialize
from imitation.policies.serialize import load_policy
from imitation.testing.documented_commands import documented_commands
from imitation.util import logger
from imitation.util.util import make_vec_env

pytestmark = pytest.mark.browser

REPO = pathlib.Path(__file__).parents[2]
SCREENSHOTS = REPO / "docs" / "img"
ENV = "seals:seals/CartPole-v0"
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=900,800",
]


def documented(module: str, *words: str) -> list[str]:
    """The command of ``docs/human-teachers.md`` running ``module`` with ``words``.

    Returns:
        Its arguments after ``python -m``.
    """
    page = REPO / "docs" / "human-teachers.md"
    (command,) = [c for c in documented_commands(page, module) if set(words) <= set(c)]
    return command


class Run:
    """A command running in a subprocess, its merged output read by a thread.

    Local Minari datasets (``human.minari_id``) go to ``cwd``.
    """

    def __init__(self, cwd: pathlib.Path, *command: str) -> None:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "MINARI_DATASETS_PATH": str(cwd / "minari"),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def url(self, timeout: float = 120) -> str:
        pattern = r"open (http://127\.0\.0\.1:\d+/\?token=\S+)"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, "".join(self.output)
                continue
            match = re.search(pattern, line)
            if match:
                return match.group(1)
        raise AssertionError(f"no URL printed: {''.join(self.output)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def driver() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    chrome = webdriver.Chrome(
        service=Service(executable_path="/usr/bin/chromedriver"), options=options
    )
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def expert():
    venv = make_vec_env(ENV, rng=np.random.default_rng(0), n_envs=1)
    policy = load_policy("bundled", venv, env_name="seals/CartPole-v0")
    venv.close()
    return policy


class Person:
    """Answers with the expert's action, wrong with probability 0.1."""

    def __init__(self, expert, seed: int) -> None:
        self.expert = expert
        self.rng = np.random.default_rng(seed)
        self.answers = 0
        self.wrong = 0

    def action(self, obs: np.ndarray) -> int:
        action, _ = self.expert.predict(obs[None], deterministic=True)
        action = int(action[0])
        self.answers += 1
        if self.rng.uniform() < 0.1:
            self.wrong += 1
            return 1 - action
        return action

    keys = ("ArrowLeft", "ArrowRight")
    """The key of each action (a ``KeyboardEvent.key`` value)."""

    def press(self, driver, action: int, element_prefix: str) -> None:
        """Half the answers by key, half by clicking the button."""
        from selenium.webdriver.common.keys import Keys

        if self.answers % 2:
            key = {
                "ArrowLeft": Keys.ARROW_LEFT,
                "ArrowRight": Keys.ARROW_RIGHT,
                "ArrowDown": Keys.ARROW_DOWN,
            }[self.keys[action]]
            driver.find_element("tag name", "body").send_keys(key)
        else:
            driver.find_element("id", f"{element_prefix}-{action}").click()


class SwingPerson(Person):
    """Plays Pendulum with three torques: it tries each push once, then pushes
    the way the pendulum swings, to pump energy into it, and every fourth
    step lets it be. (Swinging alone may push one way only over a short run
    from a random start.)"""

    keys = ("ArrowLeft", "ArrowDown", "ArrowRight")
    torques = (-2.0, 0.0, 2.0)

    def __init__(self) -> None:
        super().__init__(expert=None, seed=0)
        self.chosen: list[int] = []

    def action(self, obs: np.ndarray) -> int:
        self.answers += 1
        if self.answers <= 2:
            control = (0, 2)[self.answers - 1]
        else:
            control = 1 if self.answers % 4 == 0 else (2 if obs[2] > 0 else 0)
        self.chosen.append(control)
        return control


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def _label(driver, person: Person, log_path: pathlib.Path, count: int, run: Run):
    """Label ``count`` states (or until the run ends); their ids, in order."""
    labelled: list[int] = []
    previous = None
    while len(labelled) < count and run.proc.poll() is None:
        shown = driver.find_element("id", "state").get_attribute("data-state-id")
        if not shown or int(shown) == previous:
            time.sleep(0.01)
            continue
        state_id = int(shown)
        obs = human.LabelLog.read(log_path).states[state_id][0]
        person.press(driver, person.action(obs), "action")
        labelled.append(state_id)
        previous = state_id
        _wait(
            lambda state_id=state_id: (
                run.proc.poll() is not None
                or state_id in human.LabelLog.read(log_path).labels
            ),
            10,
            f"label of state {state_id} not logged",
        )
    return labelled


def _dagger_command(
    log_dir: pathlib.Path, total_labels: int, seed: int, *extra: str
) -> list[str]:
    command = documented(
        "imitation.scripts.train_imitation", "dagger", "expert.policy_type=human"
    )
    assert "dagger.human.obs_bounds={0: [-2.4, 2.4]}" in command
    return [
        *command,
        f"dagger.human.total_labels={total_labels}",
        "dagger.human.timeout=120",
        "policy_evaluation.n_episodes_eval=2",
        f"seed={seed}",
        f"logging.log_dir={log_dir}",
        *extra,
    ]


# Short training and in-process envs: the default suite's test stays quick.
QUICK = ("bc.train_kwargs.n_batches=100", "environment.parallel=False")


def _score(policy_path: pathlib.Path, expert) -> float:
    """Normalised score (random 0, expert 1) on 20 episodes."""
    policy = bc.reconstruct_policy(str(policy_path), device="cpu")
    venv = make_vec_env(ENV, rng=np.random.default_rng(1), n_envs=4)
    scores = []
    for p in (None, expert, policy):
        trajs = rollout.generate_trajectories(
            p, venv, rollout.make_min_episodes(20), rng=np.random.default_rng(1)
        )
        scores.append(float(np.mean([t.rews.sum() for t in trajs[:20]])))
    venv.close()
    random_score, expert_score, score = scores
    return (score - random_score) / (expert_score - random_score)


def test_person_labels_for_dagger_and_a_kill_loses_no_label(driver, expert, tmp_path):
    log_dir = tmp_path / "run"
    log_path = log_dir / "human_labels.jsonl"
    person = Person(expert, seed=0)

    first = Run(tmp_path, *_dagger_command(log_dir, 40, 0, *QUICK))
    try:
        driver.get(first.url())
        first_labels = _label(driver, person, log_path, 10, first)
        if os.environ.get("IMITATION_UPDATE_SCREENSHOT"):
            SCREENSHOTS.mkdir(exist_ok=True)
            driver.save_screenshot(str(SCREENSHOTS / "human_labels.png"))
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    finally:
        first.stop()
    log = human.LabelLog.read(log_path)
    assert list(log.labels) == first_labels  # Every answered label was kept.
    unlabelled = log.unlabelled()

    # The same command again resumes the log: the old unlabelled states first.
    second = Run(tmp_path, *_dagger_command(log_dir, 40, 0, *QUICK))
    try:
        driver.get(second.url())
        second_labels = _label(driver, person, log_path, 100, second)
        assert second.proc.wait(120) == 0, "".join(second.output)
    finally:
        second.stop()
    n_first = min(len(unlabelled), len(second_labels))
    assert second_labels[:n_first] == unlabelled[:n_first]
    log = human.LabelLog.read(log_path)
    assert len(log.labels) == 40
    assert (log_dir / "final.th").is_file()


@pytest.mark.expensive
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dagger_from_500_browser_labels_reaches_095(driver, expert, tmp_path, seed):
    log_dir = tmp_path / "run"
    person = Person(expert, seed=seed)
    run = Run(tmp_path, *_dagger_command(log_dir, 500, seed=seed))
    try:
        driver.get(run.url())
        _label(driver, person, log_dir / "human_labels.jsonl", 1000, run)
        assert run.proc.wait(300) == 0, "".join(run.output)
    finally:
        run.stop()
    score = _score(log_dir / "final.th", expert)
    print(f"seed {seed}: {person.answers} answers, {person.wrong} wrong, {score:.3f}")
    assert person.answers <= 500 and score >= 0.95


def _shown_step(driver) -> tuple[str | None, str | None]:
    screen = driver.find_element("id", "screen")
    return screen.get_attribute("data-episode"), screen.get_attribute("data-t")


def _last_record(log_path: pathlib.Path) -> dict:
    """The play log's last line: reading the whole log each step would be slow."""
    with open(log_path, "rb") as file:
        file.seek(max(0, file.seek(0, os.SEEK_END) - 4096))
        return json.loads(file.read().rstrip(b"\n").rsplit(b"\n", 1)[-1])


def _play(driver, person: Person, log_path: pathlib.Path, episodes: int, run: Run):
    """Play until ``episodes`` episodes are finished (or the run ends)."""
    while run.proc.poll() is None:
        number, t = _shown_step(driver)
        if not number or t is None:
            time.sleep(0.01)
            continue
        if int(number) >= episodes:
            return  # Episodes 0 ... episodes - 1 are finished.
        record = _last_record(log_path)
        step = record["t"] + 1 if record["type"] == "step" else 0
        if (record["episode"], step) != (int(number), int(t)):
            time.sleep(0.01)  # The page and the log are a step apart.
            continue
        obs = decode_array(record["obs"])
        person.press(driver, person.action(obs), "control")
        before = (number, t)
        _wait(
            lambda before=before: (
                run.proc.poll() is not None or _shown_step(driver) != before
            ),
            10,
            f"step {t} of episode {number} not taken",
        )


def _play_command(log_dir: pathlib.Path, episodes: int, steps: int | None):
    command = [
        *documented("imitation.scripts.eval_policy", "seals_cartpole"),
        f"eval_n_episodes={episodes}",
        "human.controls=[['push left', 'ArrowLeft', 0], "
        "['push right', 'ArrowRight', 1]]",
        "human.timeout=1800",
        f"logging.log_dir={log_dir}",
    ]
    if steps is not None:
        command.append(f"environment.max_episode_steps={steps}")
    return command


def test_person_plays_demonstrations_in_the_browser(driver, expert, tmp_path):
    log_dir = tmp_path / "run"
    person = Person(expert, seed=0)
    run = Run(tmp_path, *_play_command(log_dir, 2, steps=15))
    try:
        driver.get(run.url())
        if os.environ.get("IMITATION_UPDATE_SCREENSHOT"):
            _wait(
                lambda: driver.find_element("id", "screen").get_attribute("data-t"),
                10,
                "no frame shown",
            )
            time.sleep(0.5)
            driver.save_screenshot(str(SCREENSHOTS / "human_play.png"))
        _play(driver, person, log_dir / "human_play.jsonl", 2, run)
        assert run.proc.wait(60) == 0, "".join(run.output)
    finally:
        run.stop()
    demos = serialize.load(log_dir / "demos")
    assert len(demos) == 2 and all(len(d.acts) == 15 for d in demos)
    assert person.answers == 30


def test_person_plays_continuous_control_with_keys(driver, tmp_path):
    """Pendulum: the documented key-to-action map; each key and button press
    is one step with its torque, in the saved demonstrations."""
    log_dir = tmp_path / "run"
    person = SwingPerson()
    command = documented("imitation.scripts.eval_policy", "pendulum")
    run = Run(
        tmp_path,
        *command,
        "environment.max_episode_steps=12",
        "human.timeout=600",
        f"logging.log_dir={log_dir}",
    )
    try:
        driver.get(run.url())
        _wait(
            lambda: len(driver.find_elements("css selector", "#buttons button")) == 3,
            30,
            "no control buttons",
        )
        labels = [
            b.text for b in driver.find_elements("css selector", "#buttons button")
        ]
        assert labels == ["push left \u2190", "none \u2193", "push right \u2192"]
        _play(driver, person, log_dir / "human_play.jsonl", 2, run)
        assert run.proc.wait(60) == 0, "".join(run.output)
    finally:
        run.stop()
    demos = serialize.load(log_dir / "demos")
    assert len(demos) == 2 and all(len(d.acts) == 12 for d in demos)
    played = np.concatenate([d.acts for d in demos])
    assert played.shape == (24, 1) and played.dtype == np.float32
    expected = [[person.torques[c]] for c in person.chosen]
    np.testing.assert_array_equal(played, expected)
    assert set(person.chosen) == {0, 1, 2}


@pytest.mark.expensive
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bc_on_5_episodes_played_in_the_browser_reaches_09(
    driver, expert, tmp_path, seed
):
    log_dir = tmp_path / "run"
    person = Person(expert, seed=seed)
    run = Run(tmp_path, *_play_command(log_dir, 5, steps=None), f"seed={seed}")
    try:
        driver.get(run.url())
        _play(driver, person, log_dir / "human_play.jsonl", 5, run)
        assert run.proc.wait(60) == 0, "".join(run.output)
    finally:
        run.stop()
    demos = serialize.load(log_dir / "demos")
    assert len(demos) == 5
    rng = np.random.default_rng(seed)
    venv = make_vec_env(ENV, rng=rng, n_envs=4)
    trainer = bc.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        demonstrations=demos,
        rng=rng,
        custom_logger=logger.configure(format_strs=[]),
    )
    trainer.train(n_batches=2000, progress_bar=False)
    venv.close()
    policy_path = tmp_path / "bc.th"
    from imitation.util import util

    util.save_policy(trainer.policy, policy_path)
    score = _score(policy_path, expert)
    print(f"seed {seed}: {person.answers} steps, {person.wrong} wrong, {score:.3f}")
    assert score >= 0.9
