"""End to end: a person (played by Selenium in headless Chromium) teaches a reward.

The run is ``examples/human_preferences.py`` on Pendulum, started as a
subprocess. The "person" watches the page and clicks (or presses arrow keys)
for the clip with the higher true return; it reads which pair is on screen
from the page's ``data-pair-id`` and looks that pair's true returns up in the
run's answer log, standing in for judging by eye. Half-way through the first
round the run is killed with SIGKILL; a restarted run must ask exactly the
pairs left unanswered, and the reward learned from all the clicks must
correlate with Pendulum's true reward.

Set ``IMITATION_UPDATE_SCREENSHOT=1`` to refresh ``docs/img/human_preferences.png``.
"""

from __future__ import annotations

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

from imitation.algorithms import preference_comparisons as pc
from imitation.data import rollout
from imitation.rewards import serialize as reward_serialize
from imitation.util.util import make_vec_env

pytestmark = pytest.mark.browser

REPO = pathlib.Path(__file__).parents[2]
EXAMPLE = REPO / "examples" / "human_preferences.py"
SCREENSHOT = REPO / "docs" / "img" / "human_preferences.png"
# 16 comparisons in rounds of 4, 8 and 4 pairs, of 20-step fragments.
RUN_ARGS = [
    "--comparisons=16",
    "--iterations=2",
    "--timesteps=512",
    "--fragment-length=20",
]
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1000,700",
]


class Run:
    """The example running in a subprocess, its stdout read by a thread."""

    def __init__(self, cwd: pathlib.Path, *extra: str) -> None:
        # TMPDIR: the clips of the run killed with SIGKILL stay in cwd.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(cwd)}
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLE), *RUN_ARGS, *extra],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=open(cwd / f"stderr-{time.monotonic_ns()}.txt", "w"),  # noqa: SIM115
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

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, "".join(self.output)
                continue
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}: {''.join(self.output)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


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


def _true_choice(log_path: pathlib.Path, pair_id: int) -> str:
    left, right = pc.AnswerLog.read(log_path).pairs[pair_id]
    diff = left.rews.sum() - right.rews.sum()
    return "left" if diff > 0 else "right" if diff < 0 else "equal"


def _shown_pair(driver, timeout: float = 30, previous: int | None = None) -> int:
    """Wait for the page to show a pair (other than ``previous``); its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = driver.find_element("id", "pair").get_attribute("data-pair-id")
        if shown and int(shown) != previous:
            return int(shown)
        time.sleep(0.02)
    raise AssertionError(f"no new pair shown within {timeout} s")


def _answer(driver, log_path: pathlib.Path, count: int, run: Run) -> list[int]:
    """Answer ``count`` pairs (or until the run ends) like the person would."""
    from selenium.webdriver.common.keys import Keys

    keys = {"left": Keys.ARROW_LEFT, "right": Keys.ARROW_RIGHT, "equal": "="}
    answered: list[int] = []
    previous = None
    while len(answered) < count and run.proc.poll() is None:
        try:
            pair_id = _shown_pair(driver, timeout=2, previous=previous)
        except AssertionError:
            continue
        choice = _true_choice(log_path, pair_id)
        if len(answered) % 2:
            driver.find_element("tag name", "body").send_keys(keys[choice])
        else:
            driver.find_element("id", f"answer-{choice}").click()
        answered.append(pair_id)
        previous = pair_id
        _wait_until_saved(log_path, pair_id, driver)
    return answered


def _refused_page(driver, url: str) -> str:
    """The page the browser shows for ``url`` (a request the server refuses).

    Read until the refusal's text is there (at most 10 s, one more navigation
    after 5 s): right after a page with requests in flight, a navigation can
    report an empty document before the response is rendered.
    """
    driver.get(url)
    deadline = time.monotonic() + 10
    renavigated = False
    while "wrong session token" not in driver.page_source:
        if time.monotonic() > deadline:
            break
        if not renavigated and time.monotonic() > deadline - 5:
            driver.get(url)
            renavigated = True
        time.sleep(0.1)
    return driver.page_source


def _wait_for_text(driver, element_id: str, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in (shown := driver.find_element("id", element_id).text):
        assert time.monotonic() < deadline, (
            f"{element_id} shows {shown!r}, not {text!r}"
        )
        time.sleep(0.02)


def _wait_until_saved(log_path: pathlib.Path, pair_id: int, driver) -> None:
    deadline = time.monotonic() + 10
    while pair_id not in pc.AnswerLog.read(log_path).answers:
        if time.monotonic() > deadline:
            page = driver.execute_script(
                "return [document.getElementById('pair').dataset.pairId,"
                " document.getElementById('progress').textContent,"
                " document.getElementById('message').textContent,"
                " Array.from(document.querySelectorAll('button')).map(b => b.disabled)]"
            )
            raise AssertionError(f"answer to pair {pair_id} not logged; page: {page}")
        time.sleep(0.02)


def _reward_correlation(reward_path: pathlib.Path) -> float:
    """Correlation of the saved reward with the true one, on fresh transitions."""
    net = reward_serialize.load_reward_net(reward_path)
    rng = np.random.default_rng(1)
    venv = make_vec_env("Pendulum-v1", rng=rng, n_envs=1)
    trajs = rollout.generate_trajectories(
        None, venv, rollout.make_sample_until(min_timesteps=2000), rng=rng
    )
    venv.close()
    held_out = rollout.flatten_trajectories_with_rew(trajs)
    learned = net.predict(
        held_out.obs, held_out.acts, held_out.next_obs, held_out.dones
    )
    return float(np.corrcoef(learned, held_out.rews)[0, 1])


def test_person_in_browser_teaches_reward_and_survives_kill(driver, tmp_path):
    log_path = tmp_path / "answers.jsonl"
    reward_path = tmp_path / "reward_net.pt"

    # First run: answer two of round 0's four pairs, then kill -9 it.
    first = Run(tmp_path, f"--answer-log={log_path}")
    try:
        url = first.wait_for_line(r"(http://127\.0\.0\.1:\d+/\?token=\S+)").group(1)
        driver.get(url)
        first_answers = _answer(driver, log_path, 2, first)
        _wait_for_text(driver, "progress", "2 / 4 answered")
        # A request without the session token is refused.
        refused = _refused_page(driver, url.split("?")[0])
        assert "wrong session token" in refused, refused
        driver.get(url)
        _shown_pair(driver)
        if os.environ.get("IMITATION_UPDATE_SCREENSHOT"):
            time.sleep(1.0)  # Let the clips play a little.
            SCREENSHOT.parent.mkdir(exist_ok=True)
            driver.save_screenshot(str(SCREENSHOT))
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    finally:
        first.stop()
    log = pc.AnswerLog.read(log_path)
    assert list(log.answers) == first_answers
    unanswered = log.unanswered()
    assert len(unanswered) == 2

    # Restarted run: first the two unanswered pairs (and no answered one).
    second = Run(tmp_path, f"--answer-log={log_path}", f"--save-reward={reward_path}")
    try:
        url = second.wait_for_line(r"(http://127\.0\.0\.1:\d+/\?token=\S+)").group(1)
        before = float(second.wait_for_line(r"before training: correlation (\S+)")[1])
        driver.get(url)
        second_answers = _answer(driver, log_path, 100, second)
        assert second_answers[:2] == unanswered
        assert second.proc.wait(60) == 0, "".join(second.output)
    finally:
        second.stop()

    log = pc.AnswerLog.read(log_path)
    assert len(log.answers) == len(log.pairs) == 16
    assert set(log.answers) == set(first_answers) | set(second_answers)
    dataset = log.to_preference_dataset()
    assert len(dataset) == 16
    # Untrained nets of this architecture correlate with Pendulum's reward
    # anywhere from -0.62 to +0.81 (30 seeds); this run's starts near -0.14.
    # Learning from the 16 clicks must lift it by at least 0.5, to >= 0.6.
    after = _reward_correlation(reward_path)
    assert after >= 0.6, (before, after)
    assert after - before >= 0.5, (before, after)
