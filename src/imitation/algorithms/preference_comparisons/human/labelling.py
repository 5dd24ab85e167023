"""A person as DAgger's expert: states the learner visited, labelled in a browser.

:class:`HumanLabeller` queues states (an observation and the few observations
before it in its episode), renders each to one picture on a background
thread, and serves them on the same local web app as
:class:`~.gatherer.HumanGatherer` (:mod:`.webapp`: loopback, a session token
on every route). The person picks the action for each state with a button or
a key. Every state and label is appended to a :class:`LabelLog` and
``fsync``-ed before the page gets its reply, so a run killed with ``kill -9``
keeps every label given and asks again only the states left unlabelled.

Only labelled states reach the dataset (:meth:`HumanLabeller.labelled`):
nothing is guessed for a state nobody labelled.

A labeller is also a policy in the library's ``PolicyCallable`` convention:
called on a batch of observations, it asks the person for each and returns
their actions once all are given, so it can stand as the expert of
:class:`~imitation.algorithms.dagger.SimpleDAggerTrainer` (or of any rollout).

Observations may be arrays (vectors, images) or dicts of arrays; the renderer
is given each observation as it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from imitation.algorithms.preference_comparisons.human import gatherer, rendering
from imitation.algorithms.preference_comparisons.human.answer_log import (
    JsonLinesLog,
    SingleObservation,
    decode_observation,
    encode_observation,
    record_id,
    single_observation,
    stack_observations,
)
from imitation.data import types
from imitation.util import logger as imit_logger

LABEL_FORMAT = "imitation-human-labels"

StateContext = np.ndarray | types.DictObs
"""The observations before a state, oldest first, stacked on a leading axis."""


def _as_context(obs: SingleObservation, context: Any) -> StateContext:
    """``context`` stacked like ``obs``'s batches: an array, or a ``DictObs``.

    Raises:
        ValueError: If the context's keys or shapes do not fit ``obs``.
    """
    if isinstance(obs, dict):
        if context is None:
            context = {k: np.zeros((0, *v.shape), v.dtype) for k, v in obs.items()}
        context = types.DictObs(
            context.unwrap() if isinstance(context, types.DictObs) else context
        )
        if set(context.keys()) != set(obs):
            raise ValueError(
                f"The context has keys {sorted(context.keys())}; the observation "
                f"{sorted(obs)}."
            )
        for key, value in obs.items():
            if context.get(key).shape[1:] != value.shape:
                raise ValueError(
                    f"The context's {key!r} has shape {context.get(key).shape}; "
                    f"the observation's is {value.shape}."
                )
        return context
    if context is None:
        return np.zeros((0, *obs.shape), obs.dtype)
    if isinstance(context, types.DictObs | Mapping):
        raise ValueError("The context is a dict; the observation is an array.")
    context = np.asarray(context)
    if context.shape[1:] != obs.shape:
        raise ValueError(
            f"The context has shape {context.shape}; the observation's is "
            f"{obs.shape} (the context stacks observations on a leading axis)."
        )
    return context


def _unstack(context: StateContext) -> list[SingleObservation]:
    """The context's observations, oldest first."""
    return [context[i] for i in range(len(context))]


class EnoughLabelsError(RuntimeError):
    """The run has all the labels it asked for (see ``HumanLabeller.budget``)."""


class LabelLog(JsonLinesLog):
    """The states put to a person and the actions they chose, in JSON lines.

    After the header, each line is one of

    * ``{"type": "state", "state_id": 3, "obs": A, "context": A, "created": t}``
      when a state is queued (``context``: the observations before it in its
      episode, oldest first, possibly none);
    * ``{"type": "label", "state_id": 3, "action": 1, "labelled": t}`` when the
      person labels it.

    ``A`` is a base64 ``.npy`` array, read back with ``allow_pickle=False``;
    for dict observations, ``{"key": A, ...}`` (the context's arrays stacked
    per key).
    """

    FORMAT = LABEL_FORMAT
    VERSION = 1

    def _start(self) -> None:
        self.states: dict[int, tuple[SingleObservation, StateContext]] = {}
        """Every state queued, by id: ``(obs, context)``, in the order queued."""
        self.labels: dict[int, int] = {}
        """The action chosen for each labelled state, in the order labelled."""

    def _load_record(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        state_id = record_id(record, "state_id")
        if kind == "state":
            if state_id in self.states:
                raise ValueError(f"state {state_id} is recorded twice")
            obs = decode_observation(record.get("obs"))
            context = _as_context(obs, decode_observation(record.get("context")))
            self.states[state_id] = (obs, context)
        elif kind == "label":
            action = record_id(record, "action")
            if state_id not in self.states or state_id in self.labels:
                raise ValueError(f"label of unknown or labelled state {state_id}")
            self.labels[state_id] = action
        else:
            raise ValueError(f"unknown record type {kind!r}")

    def add_state(self, obs: Any, context: Any = None) -> int:
        """Record (durably) a state about to be asked; returns its new id.

        Args:
            obs: One observation: an array, or a dict of arrays.
            context: The observations before it, oldest first, stacked on a
                leading axis (for dict observations, a ``DictObs`` or a dict
                of stacked arrays); None for none.

        Raises:
            TypeError: If ``obs`` is a ``DictObs`` batch.
            ValueError: If the context does not fit the observation.
        """
        obs = single_observation(obs)
        context = _as_context(obs, context)
        state_id = max(self.states, default=-1) + 1
        record = {
            "type": "state",
            "state_id": state_id,
            "created": time.time(),
            "obs": encode_observation(obs),
            "context": encode_observation(
                context.unwrap() if isinstance(context, types.DictObs) else context
            ),
        }
        self._append(record)
        self.states[state_id] = (obs, context)
        return state_id

    def add_label(self, state_id: int, action: int) -> None:
        """Record (durably, before returning) the action chosen for a state.

        Raises:
            KeyError: If no state has id ``state_id``.
            ValueError: If the state is labelled already.
        """
        if state_id not in self.states:
            raise KeyError(f"No state has id {state_id}.")
        if state_id in self.labels:
            raise ValueError(f"State {state_id} is labelled already.")
        record = {
            "type": "label",
            "state_id": state_id,
            "action": int(action),
            "labelled": time.time(),
        }
        self._append(record)
        self.labels[state_id] = int(action)

    def unlabelled(self) -> list[int]:
        """Ids of the states queued but not labelled, oldest first."""
        return [i for i in self.states if i not in self.labels]

    def to_transitions(self) -> types.TransitionsMinimal:
        """The labelled states and their actions, in the order labelled.

        Dict observations come as a ``DictObs``.

        Raises:
            ValueError: If nothing is labelled yet, or the labelled states
                differ in kind (array or dict), keys or shape.
        """
        ids = list(self.labels)
        if not ids:
            raise ValueError(f"{self.path} holds no labels yet.")
        try:
            obs = stack_observations([self.states[i][0] for i in ids])
        except ValueError as exc:
            raise ValueError(f"{self.path}: the labelled states differ: {exc}") from exc
        return types.TransitionsMinimal(
            obs=obs,
            acts=np.array([self.labels[i] for i in ids], dtype=np.int64),
            infos=np.array([{}] * len(ids)),
        )


class HumanLabeller(gatherer.WebPageSession):
    """Asks a person, on a local web page, which action to take in given states.

    Queue states with :meth:`ask`; a background
    thread renders each as soon as it is queued (the state's frame over the
    fading frames of the few states before it, so motion is visible), and the
    page offers the oldest rendered, unlabelled state. The person answers
    with a button or a key (``1`` ... ``9`` for the actions; with two actions
    also ``←`` for the first and ``→`` for the second).

    A new labeller on the same log keeps every label and queues again the
    states left unlabelled, first.

    Called as a policy, ``labeller(observations, state, episode_start)``
    (the library's ``PolicyCallable`` convention), it asks each env's
    observation, with the ``context`` observations before it in that env's
    episode, and waits until the person has labelled them all; the returned
    state carries those recent observations to the next call. So a person can
    be :class:`~imitation.algorithms.dagger.SimpleDAggerTrainer`'s expert,
    labelling every state the rollout visits while it waits.
    """

    def __init__(
        self,
        renderer: rendering.Renderer | str,
        label_log: types.AnyPath,
        action_space: spaces.Space,
        *,
        action_names: Sequence[str] | None = None,
        context: int = 3,
        timeout: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Open the label log and start the web server.

        Args:
            renderer: Turns an observation into an RGB frame; or a Gymnasium
                id, for a :class:`~.rendering.StateRenderer` of that env.
            label_log: The JSON-lines file of states and labels (created if
                missing; an existing one is resumed).
            action_space: The environment's action space; ``Discrete`` only.
            action_names: A name per action, shown on its button; default
                ``"action 0"``, ``"action 1"``, ...
            context: When called as a policy: how many observations before
                each state, in its episode, are shown fading behind it.
            timeout: When called as a policy: seconds to wait for the labels
                of one call before raising ``TimeoutError``; None waits for
                ever.
            host: Interface to serve on; loopback by default (see
                ``docs/human-preferences.md`` before choosing another).
            port: Port to serve on; 0 picks a free one.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If the action space is not ``Discrete`` (or has more
                than 9 actions), ``action_names`` has the wrong length, or
                ``context`` is negative.
            RuntimeError: If the server cannot listen on ``host:port`` or the
                label log is open in another process.
        """
        if not isinstance(action_space, spaces.Discrete) or action_space.start != 0:
            raise ValueError(
                f"A person labels discrete actions only (Discrete(n) from 0); the "
                f"action space is {action_space}."
            )
        n = int(action_space.n)
        if n > 9:
            raise ValueError(
                f"The page has keys 1-9 for actions; {n} actions are too many."
            )
        names = list(action_names or [f"action {i}" for i in range(n)])
        if len(names) != n:
            raise ValueError(f"{len(names)} action_names for {n} actions.")
        if context < 0:
            raise ValueError(f"context={context} must be at least 0.")
        self.action_space = action_space
        """The actions the person chooses from."""
        self.action_names = names
        self.context = context
        """Observations shown before each state asked when called as a policy."""
        self.timeout = timeout
        """Seconds a call as a policy waits for its labels (None: for ever)."""
        self.logger = custom_logger or imit_logger.configure()
        self._rendering = rendering.BackgroundRenderer(renderer, "label-render")
        self.renderer = self._rendering.renderer
        self.log = LabelLog(label_log)
        self._cond = threading.Condition()
        self._closed = False
        self._pictures: dict[int, bytes] = {}  # Rendered, unlabelled states.
        self._shown: set[int] = set()  # States status() put on the page.
        self._pending: list[int] = []  # Unlabelled states of this run, in order.
        self.budget: int | None = None
        """Labels (in the log) after which the page stops asking; None: no limit."""
        with self._closing_on_error():
            for state_id in self.log.unlabelled():
                self._queue(state_id)
            webapp = gatherer.import_webapp()
            self._server = webapp.PageServer(webapp.make_label_app, self, host, port)
        self._announce(
            "Human labels",
            f"{len(self.log.labels)} labels and {len(self._pending)} unlabelled "
            f"states in {self.log.path}",
        )

    # -- The learner's side -------------------------------------------------

    def ask(self, obs: Any, context: Any = None) -> int:
        """Queue one state for labelling; returns its id.

        Args:
            obs: The observation to label: an array, or a dict of arrays.
            context: The observations just before it in its episode, oldest
                first, stacked on a leading axis (for dict observations a
                ``DictObs`` or a dict of stacked arrays), shown fading behind
                it; None for none.

        Raises:
            TypeError: If ``obs`` is a ``DictObs`` batch, not one observation.
            ValueError: If the context does not fit the observation.
            RuntimeError: If the labeller is closed or rendering failed.
        """
        with self._cond:
            self._check_open()
            state_id = self.log.add_state(obs, context)
            self._queue(state_id)
        return state_id

    def __call__(
        self, observations: Any, state: Any, episode_start: np.ndarray
    ) -> tuple[np.ndarray, list[list[SingleObservation]]]:
        """Ask the person for each env's action; return them once all are given.

        The ``PolicyCallable`` convention: each env's observation is queued
        (with up to :attr:`context` observations before it in its episode),
        and the call waits until every one is labelled.

        Args:
            observations: A batch, one observation per env (an array, or a
                dict of arrays / ``DictObs`` for a ``Dict`` space).
            state: What the previous call returned (each env's recent
                observations), or None at the start.
            episode_start: Per env, whether its observation starts an
                episode (its recent observations are then forgotten).

        Returns:
            The labelled actions, one per env, and the new state.

        Raises:
            TimeoutError: If the labels do not all come within :attr:`timeout`.
            EnoughLabelsError: If the :attr:`budget` is reached.
            RuntimeError: If the labeller is closed or rendering failed.
        """
        batch = types.maybe_wrap_in_dictobs(observations)
        n_envs = len(batch)
        recent: list[list[SingleObservation]] = (
            [[] for _ in range(n_envs)] if state is None else state
        )
        with self._cond:
            if self._enough():
                raise EnoughLabelsError(f"{self.budget} labels are in already.")
        ids = []
        new_state = []
        for i in range(n_envs):
            obs = single_observation(batch[i])
            keep = not episode_start[i] and self.context > 0
            before = recent[i][-self.context :] if keep else []
            ids.append(self.ask(obs, stack_observations(before) if before else None))
            new_state.append([*before, obs])
        if not self.wait_until(
            lambda: all(i in self.log.labels for i in ids), timeout=self.timeout
        ):
            raise TimeoutError(
                f"States {ids} were not all labelled within timeout={self.timeout} "
                f"s; label at {self.address} (URL with token on the terminal), or "
                "raise the timeout."
            )
        with self._cond:
            actions = np.array([self.log.labels[i] for i in ids], dtype=np.int64)
        return actions, new_state

    def _queue(self, state_id: int) -> None:
        self._pending.append(state_id)
        self._rendering.submit(self._render, state_id)

    @property
    def n_labels(self) -> int:
        """Labels in the log (from earlier runs too)."""
        with self._cond:
            return len(self.log.labels)

    @property
    def n_pending(self) -> int:
        """States queued and not labelled yet."""
        with self._cond:
            return len(self._pending)

    def labelled(self) -> types.TransitionsMinimal:
        """Every labelled state with its label (see :meth:`LabelLog.to_transitions`).

        Raises:
            ValueError: If nothing is labelled yet.
        """
        with self._cond:
            return self.log.to_transitions()

    # -- Rendering (on the executor's thread) -------------------------------

    def prepare(self, obs: SingleObservation, context: StateContext) -> bytes:
        """The JPEG the page shows for a state (its frame over its context's)."""
        # Dict observations go to the renderer as they are.
        render: Callable[[Any], np.ndarray] = self.renderer
        frames = [rendering.check_frame(render(o)) for o in [*_unstack(context), obs]]
        if len({frame.shape for frame in frames}) != 1:
            raise ValueError("The renderer returned frames of different shapes.")
        return rendering.encode_jpeg(rendering.onion_skin(frames))

    def _render(self, state_id: int) -> None:
        with self._keeping_render_errors():
            picture = self.prepare(*self.log.states[state_id])
        with self._cond:
            if state_id in self._pending:
                self._pictures[state_id] = picture
            self._cond.notify_all()

    # -- The web page's side (called from the server thread) ----------------

    def _enough(self) -> bool:
        return self.budget is not None and len(self.log.labels) >= self.budget

    def status(self) -> dict[str, Any]:
        """Progress, the actions, and the next state whose picture is ready."""
        with self._cond:
            ready = [i for i in self._pending if i in self._pictures]
            state = None
            if ready and not self._enough():
                state_id = ready[0]
                self._shown.add(state_id)
                state = {"id": state_id, "picture": f"/state/{state_id}.jpg"}
            return {
                "labels": len(self.log.labels),
                "pending": len(self._pending),
                "ready": len(ready),
                "enough": self._enough(),
                "actions": self.action_names,
                "state": state,
            }

    def picture(self, state_id: int) -> bytes | None:
        """The JPEG of an unlabelled state, once rendered (else None)."""
        with self._cond:
            return self._pictures.get(state_id)

    def submit(self, state_id: int, action: int) -> dict[str, Any]:
        """Record (durably) the action chosen for a state on the page.

        Raises:
            KeyError: If the state was never shown in this run.
            ValueError: If it is labelled already.
            IndexError: If ``action`` is not one of the actions.
            EnoughLabelsError: If the :attr:`budget` is reached.
        """
        with self._cond:
            if state_id in self.log.labels:
                raise ValueError(f"State {state_id} is labelled already.")
            if self._enough():
                raise EnoughLabelsError(f"{self.budget} labels are in already.")
            if state_id not in self._shown or state_id not in self._pending:
                raise KeyError(state_id)
            if not 0 <= action < len(self.action_names):
                raise IndexError(action)
            self.log.add_label(state_id, action)
            self._pending.remove(state_id)
            self._pictures.pop(state_id, None)
            self._cond.notify_all()
        return self.status()

    # -- Lifetime -----------------------------------------------------------

    def _release(self) -> None:
        """Stop the renderer, close the log."""
        self._rendering.close()
        self.log.close()
