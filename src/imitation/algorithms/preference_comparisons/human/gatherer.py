"""``HumanGatherer``: preferences from a person watching clips in a browser."""

from __future__ import annotations

import abc
import concurrent.futures
import contextlib
import pathlib
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, Self

import numpy as np

from imitation.algorithms.preference_comparisons.human import rendering
from imitation.algorithms.preference_comparisons.human.answer_log import (
    SIDES,
    AnswerLog,
)
from imitation.algorithms.preference_comparisons.preference_model import (
    TrajectoryWithRewPair,
)
from imitation.algorithms.preference_comparisons.preferences import PreferenceGatherer
from imitation.data import types
from imitation.util import logger as imit_logger
from imitation.util import util

MODES = ("sync", "async")


def import_webapp() -> Any:
    """The web app module; Starlette and uvicorn come with the ``human`` extra."""
    try:
        from imitation.algorithms.preference_comparisons.human import webapp
    except ImportError as error:
        raise ImportError(
            f"The human pages are served with Starlette and uvicorn, which are "
            f"not installed ({error}); install them with "
            f"`pip install 'imitation[human]'`.",
        ) from error
    return webapp


class WebPageSession(abc.ABC):
    """A session with a person on a local web page, guarded by a session token.

    A subclass has a ``logger``, a condition ``_cond`` that its waits use and
    a flag ``_closed`` (False at first), and starts its page's server.
    """

    _server: Any = None
    """The page's ``webapp.PageServer`` once started."""
    _cond: threading.Condition
    _closed: bool
    logger: imit_logger.HierarchicalLogger
    _render_error: BaseException | None = None
    """What stopped the session's background rendering, if anything did."""

    @property
    def token(self) -> str:
        """The session token every request must carry: a password."""
        return self._server.token

    @property
    def address(self) -> str:
        """The page's address without the session token: safe to log."""
        return self._server.address

    @property
    def url(self) -> str:
        """The page's address, session token included: open it in a browser."""
        return self._server.url

    def _announce(self, title: str, summary: str) -> None:
        """Print the page's URL to the terminal; log its address and ``summary``.

        The token is a password: it goes to the terminal once, never to the
        logger, whose files (and Sacred's captured output) others may read.
        """
        terminal = sys.__stderr__ or sys.stderr
        print(f"{title}: open {self.url}", file=terminal, flush=True)
        self.logger.log(
            f"{title}: serving {self.address} (the URL with its session token is "
            f"on the terminal); {summary}"
        )

    def close(self) -> None:
        """Wake every waiting thread, stop the page's server, then :meth:`_release`.

        Only the first call does anything.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.stop()
        self._release()

    @abc.abstractmethod
    def _release(self) -> None:
        """Release what the session holds besides its page (once, on closing)."""

    @contextlib.contextmanager
    def _closing_on_error(self) -> Iterator[None]:
        """Close the session if the block raises (and re-raise): for setting up."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    def _check_open(self) -> None:
        """Raise ``RuntimeError`` if the session is closed or its rendering failed."""
        if self._closed:
            raise RuntimeError(f"The {type(self).__name__} is closed.")
        if self._render_error is not None:
            raise RuntimeError(
                f"Rendering failed: {self._render_error!r}"
            ) from self._render_error

    @contextlib.contextmanager
    def _keeping_render_errors(self) -> Iterator[None]:
        """Keep an error the block raises (and re-raise it) for :meth:`_check_open`."""
        try:
            yield
        except BaseException as exc:
            with self._cond:
                self._render_error = exc
                self._cond.notify_all()
            raise

    def wait_until(
        self, condition: Callable[[], bool], timeout: float | None = None
    ) -> bool:
        """Wait (waking whenever the session changes) until ``condition()``.

        Args:
            condition: Checked with the session's lock held.
            timeout: Seconds to wait at most; None waits for ever.

        Returns:
            True once ``condition()`` holds; False if ``timeout`` passed first.

        Raises:
            RuntimeError: If the session is closed or its rendering failed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not condition():
                self._check_open()
                if deadline is not None and time.monotonic() > deadline:
                    return False
                # Wake up regularly so Ctrl-C and close() are noticed.
                self._cond.wait(0.2)
            return True

    def __enter__(self) -> Self:
        """The session itself; :meth:`close` on leaving the block."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the session."""
        self.close()


class HumanGatherer(PreferenceGatherer, WebPageSession):
    """Asks a person, on a local web page, which of two fragments is better.

    Each round (each :meth:`gather` call by ``PreferenceComparisons``) puts
    pairs to the person: first pairs left unanswered by an earlier round or
    an earlier run, then new ones, as many as make up the round's quota less
    the answers already waiting to be handed over. A background thread renders
    every pair of the round to two clips as soon as the round starts, so the
    page only ever offers pairs whose clips are ready.

    The person answers left (preference 1), right (0), equal (0.5) or skip
    (the pair is dropped). Every pair and answer is appended to the answer
    log (see :mod:`~imitation.algorithms.preference_comparisons.human.answer_log`)
    before it is acknowledged; a new gatherer on the same log hands over the
    answers not yet used by this process and asks again what was left
    unanswered.

    In ``"sync"`` mode a round returns once every pair of it is answered or
    skipped. In ``"async"`` mode it returns at once with the answers given so
    far (waiting only while no answer exists at all, since the reward model
    needs one); unanswered pairs stay on the page and their answers join the
    next round.
    """

    def __init__(
        self,
        renderer: rendering.Renderer | str,
        answer_log: types.AnyPath,
        *,
        mode: Literal["sync", "async"] = "sync",
        host: str = "127.0.0.1",
        port: int = 0,
        fps: float = 30.0,
        video_dir: types.AnyPath | None = None,
        timeout: float | None = None,
        rng: np.random.Generator | None = None,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Open the answer log and start the web server.

        Args:
            renderer: Turns an observation into an RGB frame; or a Gymnasium
                id, for a :class:`~.rendering.StateRenderer` of that env.
            answer_log: The JSON-lines file of pairs and answers (created if
                missing; an existing one is resumed).
            mode: ``"sync"`` or ``"async"`` (see the class docstring).
            host: Interface to serve on. The default, loopback, is reachable
                from this machine only; see ``docs/human-preferences.md``
                before choosing another.
            port: Port to serve on; 0 picks a free one.
            fps: Frame rate of the clips.
            video_dir: Where to write the clips; default: a temporary
                directory removed by :meth:`close`.
            timeout: Seconds a round may wait for answers before raising
                ``TimeoutError``; None waits for ever.
            rng: Unused (preferences come from the person); accepted so the
                gatherer is built like the others.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``mode``, ``fps`` or ``timeout`` is invalid, or the
                renderer is a Gymnasium id with no built-in renderer.
            RuntimeError: If the server cannot listen on ``host:port`` or the
                answer log is open in another process.
        """
        super().__init__(rng=rng, custom_logger=custom_logger)
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} must be one of {list(MODES)}.")
        if not fps > 0:
            raise ValueError(f"fps={fps} must be positive.")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout={timeout} must be positive (or None).")
        self.mode = mode
        self.fps = fps
        self.timeout = timeout
        self._rendering = rendering.BackgroundRenderer(renderer, "preference-render")
        self.renderer = self._rendering.renderer
        self.log = AnswerLog(answer_log)
        self._use_video = rendering.has_video_codec()
        self._suffix = rendering.video_suffix(self._use_video)
        self._owned_dir = video_dir is None
        self.video_dir = (
            pathlib.Path(tempfile.mkdtemp(prefix="imitation-human-"))
            if video_dir is None
            else util.parse_path(video_dir)
        )
        self._cond = threading.Condition()
        self._closed = False
        self._round: int | None = None
        self._asked: list[int] = []  # This round's pairs, in order.
        self._ready: set[int] = set()  # Pairs whose clips are written.
        self._shown: set[int] = set()  # Pairs status() put on the page.
        self._renders: dict[int, concurrent.futures.Future] = {}
        # Answers in the log that no gather() call has returned yet: on
        # resume, all of them (this process's dataset starts empty).
        self._undelivered: list[int] = [
            i for i in self.log.answers if self.log.preference(i) is not None
        ]
        self._delivered = 0
        self._pending: list[int] = self.log.unanswered()
        with self._closing_on_error():
            self.video_dir.mkdir(parents=True, exist_ok=True)
            webapp = import_webapp()
            self._server = webapp.PageServer(webapp.make_app, self, host, port)
        self._announce(
            "Human preferences",
            f"{len(self.log.answers)} answers and {len(self._pending)} unanswered "
            f"pairs in {self.log.path}",
        )

    # -- The PreferenceComparisons side -------------------------------------

    def gather(
        self, fragment_pairs: Sequence[TrajectoryWithRewPair]
    ) -> tuple[list[TrajectoryWithRewPair], np.ndarray]:
        """Run a round asking for up to ``len(fragment_pairs)`` preferences.

        Returns:
            The answered pairs (not necessarily those passed in: skipped
            pairs are dropped, and answers from earlier rounds or runs are
            included) and their preferences for the first fragment.

        Raises:
            RuntimeError: If the gatherer is closed (e.g. from another thread),
                rendering a clip failed, or every pair so far was skipped.
            TimeoutError: If ``timeout`` passes while waiting for answers.
        """
        with self._cond:
            self._check_open()
            quota = max(0, len(fragment_pairs) - len(self._undelivered))
            carried = self._pending[:quota]
            new_ids = [
                self.log.add_pair(pair)
                for pair in fragment_pairs[: quota - len(carried)]
            ]
            self._pending.extend(new_ids)
            self._round = 0 if self._round is None else self._round + 1
            self._asked = [*carried, *new_ids]
            for pair_id in self._asked:
                if pair_id not in self._renders:
                    self._renders[pair_id] = self._rendering.submit(
                        self._render, pair_id
                    )
            self._cond.notify_all()
            self.logger.log(
                f"Round {self._round}: asking {len(self._asked)} pairs "
                f"({len(carried)} left from before), {len(self._undelivered)} "
                f"answers waiting; answer at {self.address} (token on the terminal)"
            )
            if self.mode == "sync":
                self._wait(lambda: all(i in self.log.answers for i in self._asked))
            else:
                # Only the first round waits: the reward model needs an answer.
                self._wait(lambda: self._delivered + len(self._undelivered) > 0)
            ids, self._undelivered = self._undelivered, []
            self._delivered += len(ids)
            if self._delivered == 0:
                raise RuntimeError(
                    f"All {len(self._asked)} pairs of the first round were skipped, "
                    "so there is nothing to learn a reward from. Answer at least "
                    "one pair (equal counts), or use longer fragments if they are "
                    "too short to judge."
                )
        pairs = [self.log.pairs[i] for i in ids]
        prefs = np.array([self.log.preference(i) for i in ids], dtype=np.float32)
        skipped = sum(self.log.answers.get(i) == "skip" for i in self._asked)
        self.logger.record("answers", len(ids))
        self.logger.record("skipped", skipped)
        return pairs, prefs

    def __call__(self, fragment_pairs: Sequence[TrajectoryWithRewPair]) -> np.ndarray:
        """Preferences for exactly ``fragment_pairs``, in order.

        Only possible when the round's answers are those pairs' answers: in
        ``"sync"`` mode, with nothing skipped and nothing left from before.
        ``PreferenceComparisons`` calls :meth:`gather` instead.

        Raises:
            ValueError: If the answered pairs are not ``fragment_pairs``.
        """
        pairs, prefs = self.gather(fragment_pairs)
        if len(pairs) != len(fragment_pairs) or any(
            a is not b for pa, pb in zip(pairs, fragment_pairs) for a, b in zip(pa, pb)
        ):
            raise ValueError(
                f"{len(pairs)} answers do not match the {len(fragment_pairs)} pairs "
                "asked (pairs were skipped, or answers came from an earlier round); "
                "use gather(), which returns the answered pairs with their "
                "preferences."
            )
        return prefs

    def _wait(self, done: Callable[[], bool]) -> None:
        if not self.wait_until(done, self.timeout):
            raise TimeoutError(
                f"No complete answers within timeout={self.timeout} s; answer "
                f"at {self.address} (URL with token on the terminal), or raise "
                "the timeout."
            )

    # -- Rendering (on the executor's thread) --------------------------------

    def _video_file(self, pair_id: int, side: str) -> pathlib.Path:
        return self.video_dir / f"pair{pair_id:06d}-{side}{self._suffix}"

    def _render(self, pair_id: int) -> None:
        with self._keeping_render_errors():
            rendering.write_clips(
                self.log.pairs[pair_id],
                self.renderer,
                [self._video_file(pair_id, side) for side in SIDES],
                self.fps,
                self._use_video,
            )
        with self._cond:
            self._ready.add(pair_id)
            self._cond.notify_all()

    # -- The web page's side (called from the server thread) ----------------

    def status(self) -> dict[str, Any]:
        """Progress of the round and the next pair whose clips are ready."""
        with self._cond:
            answered = sum(i in self.log.answers for i in self._asked)
            ready = [i for i in self._pending if i in self._ready]
            pair = None
            if ready:
                pair_id = ready[0]
                self._shown.add(pair_id)
                pair = {
                    "id": pair_id,
                    "kind": "video" if self._use_video else "image",
                    "left": f"/video/{pair_id}/left",
                    "right": f"/video/{pair_id}/right",
                }
            return {
                "round": self._round,
                "asked": len(self._asked),
                "answered": answered,
                "pending": len(self._pending),
                "ready": len(ready),
                "pair": pair,
            }

    def video_path(self, pair_id: int, side: str) -> pathlib.Path | None:
        """The clip of an unanswered pair, once rendered (else None)."""
        with self._cond:
            if (
                side not in SIDES
                or pair_id not in self._ready
                or pair_id not in self._pending
            ):
                return None
            return self._video_file(pair_id, side)

    def submit(self, pair_id: int, choice: str) -> dict[str, Any]:
        """Record an answer to a pair on the page (durably) and wake the round.

        Only a pair the page was offered (by :meth:`status`) in this run can be
        answered: never one whose clips were not rendered, nor one of an
        earlier run that no round of this run asked again.

        Raises:
            KeyError: If the pair was never shown in this run.
            ValueError: If it is answered already, or ``choice`` is invalid.
        """
        with self._cond:
            if pair_id in self.log.answers:
                raise ValueError(f"Pair {pair_id} is answered already.")
            if pair_id not in self._shown or pair_id not in self._pending:
                raise KeyError(pair_id)
            self.log.add_answer(pair_id, choice)
            self._pending.remove(pair_id)
            if self.log.preference(pair_id) is not None:
                self._undelivered.append(pair_id)
            self._cond.notify_all()
        return self.status()

    # -- Lifetime -----------------------------------------------------------

    def _release(self) -> None:
        """Stop the renderer, close the log, remove temporary clips."""
        self._rendering.close()
        self.log.close()
        if self._owned_dir:
            shutil.rmtree(self.video_dir, ignore_errors=True)
