"""The durable record of human preferences: an append-only JSON-lines file.

Each line is one JSON object:

* ``{"type": "header", "format": "imitation-human-preferences", "version": 1}``
  first;
* ``{"type": "pair", "pair_id": 7, "fragments": [f1, f2], "created": ...}``
  when a pair is put to the person (before it is ever shown);
* ``{"type": "answer", "pair_id": 7, "choice": "left", "answered": ...}``
  when the person answers it (``left``, ``right``, ``equal`` or ``skip``).

Every line is flushed and ``fsync``-ed before the call that wrote it returns
(and so before the web page is told an answer was saved), so a ``kill -9``
loses nothing acknowledged: at worst the last line is cut short, and that
unacknowledged tail is dropped when the log is next opened. An answer's
fragments are in its pair's line, written earlier in the same file, so the
log alone is a complete dataset (:meth:`AnswerLog.to_preference_dataset`).

A fragment is stored as ``{"obs": A, "acts": A, "rews": A, "terminal": b}``,
each ``A`` a base64 ``.npy`` array read back with ``allow_pickle=False``:
nothing in a log is ever unpickled.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import pathlib
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any, Self

import numpy as np

from imitation.algorithms.preference_comparisons.preference_model import (
    TrajectoryWithRewPair,
)
from imitation.algorithms.preference_comparisons.preferences import PreferenceDataset
from imitation.data import types
from imitation.util import util

FORMAT = "imitation-human-preferences"
VERSION = 1

CHOICES: Mapping[str, float | None] = {
    "left": 1.0,
    "right": 0.0,
    "equal": 0.5,
    "skip": None,
}
"""Answer -> preference for the left (first) fragment; a skipped pair has none."""

SIDES = ("left", "right")
"""The two clips of a pair: the first fragment is shown left, the second right."""


def encode_array(array: np.ndarray) -> str:
    """An array as base64 ``.npy`` text (no pickles)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_array(text: Any) -> np.ndarray:
    """The array :func:`encode_array` encoded, read with ``allow_pickle=False``.

    Raises:
        ValueError: If ``text`` is not an encoded array.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a base64 array, got {type(text).__name__}")
    return np.load(
        io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False
    )


SingleObservation = np.ndarray | dict[str, np.ndarray]
"""One observation: an array, or a dict of arrays (for a ``Dict`` space)."""


def single_observation(obs: Any) -> SingleObservation:
    """One observation as an array, or a dict of arrays.

    Raises:
        TypeError: If ``obs`` is a batch of dict observations (``DictObs``).
    """
    if isinstance(obs, types.DictObs):
        raise TypeError(
            "A state is one observation; got a DictObs batch (index it, e.g. "
            "obs[t], for one dict observation)."
        )
    if isinstance(obs, Mapping):
        return {str(key): np.asarray(value) for key, value in obs.items()}
    return np.asarray(obs)


def stack_observations(
    states: Sequence[SingleObservation],
) -> np.ndarray | types.DictObs:
    """Observations stacked on a new leading axis (dicts into a ``DictObs``).

    Raises:
        ValueError: If some are dicts and some arrays, or keys or shapes differ.
    """
    dicts = [state for state in states if isinstance(state, dict)]
    arrays = [state for state in states if not isinstance(state, dict)]
    if dicts and arrays:
        raise ValueError("Dict and array observations cannot be stacked together.")
    return types.DictObs.from_obs_list(dicts) if dicts else np.stack(arrays)


def encode_observation(obs: np.ndarray | Mapping[str, np.ndarray]) -> Any:
    """An array observation as :func:`encode_array` text; a dict one key by key.

    Args:
        obs: An array, or a mapping from keys to arrays (one dict
            observation, or a ``DictObs`` unwrapped to its arrays).

    Returns:
        The text, or ``{key: text}`` for a mapping.
    """
    if isinstance(obs, Mapping):
        return {str(key): encode_array(value) for key, value in obs.items()}
    return encode_array(obs)


def decode_observation(value: Any) -> np.ndarray | dict[str, np.ndarray]:
    """The observation :func:`encode_observation` encoded.

    Raises:
        ValueError: If ``value`` is neither an encoded array nor a non-empty
            object of them.
    """
    if isinstance(value, dict):
        if not value:
            raise ValueError("a dict observation needs at least one key")
        return {key: decode_array(text) for key, text in value.items()}
    return decode_array(value)


def encode_fragment(fragment: types.TrajectoryWithRew) -> dict[str, Any]:
    """A fragment as a JSON-able dict (infos are not kept).

    Raises:
        TypeError: If the fragment has dict observations.
    """
    if isinstance(fragment.obs, types.DictObs):
        raise TypeError("The answer log cannot store dict observations.")
    return {
        "obs": encode_array(fragment.obs),
        "acts": encode_array(fragment.acts),
        "rews": encode_array(fragment.rews),
        "terminal": bool(fragment.terminal),
    }


def decode_fragment(record: Any) -> types.TrajectoryWithRew:
    """The fragment :func:`encode_fragment` encoded.

    Raises:
        ValueError: If ``record`` is not an encoded fragment.
    """
    if not isinstance(record, dict) or not isinstance(record.get("terminal"), bool):
        raise ValueError("not an encoded fragment")
    return types.TrajectoryWithRew(
        obs=decode_array(record.get("obs")),
        acts=decode_array(record.get("acts")),
        rews=decode_array(record.get("rews")),
        infos=None,
        terminal=record["terminal"],
    )


class JsonLinesLog:
    """An append-only JSON-lines file, every line ``fsync``-ed, one writer at a time.

    The first line is a header naming the format (:attr:`FORMAT`,
    :attr:`VERSION`); subclasses load every later line in
    :meth:`_load_record`. Opening a log reads back everything in it; one
    process at a time may have a log open (an exclusive ``flock``), so two
    runs cannot interleave their lines.
    """

    FORMAT: str = ""
    """The header's ``format``."""
    VERSION: int = 1
    """The header's ``version``."""

    def __init__(self, path: types.AnyPath) -> None:
        """Open (creating if needed) the log at ``path`` and read it back.

        Raises:
            ValueError: If the file is not a log of this format or a line
                other than an unfinished last one is damaged.
            RuntimeError: If another process has the log open.
        """
        self.path = util.parse_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] | None = None
        self._start()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        file = os.fdopen(fd, "r+b")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise RuntimeError(
                f"{self.path} is open in another process (a run using the same "
                "log); stop it or choose another path for the log."
            ) from None
        try:
            valid_end = self._read(file.read())
            file.truncate(valid_end)  # Drop an unacknowledged, torn last line.
            file.seek(valid_end)
            self._file = file
            if valid_end == 0:
                header = {"type": "header", "format": self.FORMAT}
                self._append({**header, "version": self.VERSION})
                _fsync_dir(self.path.parent)
        except BaseException:
            file.close()
            raise

    def _start(self) -> None:
        """Set up the empty in-memory state, before any line is loaded."""

    @classmethod
    def read(cls, path: types.AnyPath) -> Self:
        """Read a log without opening it for writing (e.g. while a run uses it).

        Raises:
            FileNotFoundError: If there is no log at ``path``.
            ValueError: If the file is not a log of this format or is damaged.
        """
        log = cls.__new__(cls)
        log.path = util.parse_path(path)
        log._file = None
        log._start()
        log._read(log.path.read_bytes())
        return log

    def _read(self, data: bytes) -> int:
        """Load the records in ``data``; the length of its complete lines."""
        end = 0
        lines = data.split(b"\n")
        for number, line in enumerate(lines[:-1], start=1):
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                if number == 1:
                    self._check_header(record)
                else:
                    self._load_record(record)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(
                    f"{self.path}, line {number}: {exc}. The log is damaged; "
                    "restore it from a copy, or move it aside to start afresh."
                ) from exc
            end += len(line) + 1
        return end

    def _check_header(self, record: dict[str, Any]) -> None:
        if (
            record.get("type") != "header"
            or record.get("format") != self.FORMAT
            or record.get("version") != self.VERSION
        ):
            raise ValueError(f"not a {self.FORMAT} log, version {self.VERSION}")

    def _load_record(self, record: dict[str, Any]) -> None:
        """Load one line after the header.

        Raises:
            ValueError: If the record is invalid.
        """
        raise NotImplementedError

    def _append(self, record: Mapping[str, Any]) -> None:
        if self._file is None:
            raise RuntimeError(f"{self.path} is closed (or was opened read-only).")
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        self._file.write(line)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file (and release its lock)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def record_id(record: Mapping[str, Any], key: str) -> int:
    """The integer ``record[key]``.

    Raises:
        ValueError: If it is missing or not an integer.
    """
    value = record.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
    return value


class AnswerLog(JsonLinesLog):
    """The pairs put to a person and their answers, kept in a JSON-lines file."""

    FORMAT = FORMAT
    VERSION = VERSION

    def _start(self) -> None:
        self.pairs: dict[int, TrajectoryWithRewPair] = {}
        """Every pair asked, by id, in the order asked."""
        self.answers: dict[int, str] = {}
        """The choice made for each answered pair, in the order answered."""

    def _load_record(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        pair_id = record_id(record, "pair_id")
        if kind == "pair":
            fragments = record.get("fragments")
            if not isinstance(fragments, list) or len(fragments) != 2:
                raise ValueError("a pair needs two fragments")
            if pair_id in self.pairs:
                raise ValueError(f"pair {pair_id} is recorded twice")
            self.pairs[pair_id] = (
                decode_fragment(fragments[0]),
                decode_fragment(fragments[1]),
            )
        elif kind == "answer":
            choice = record.get("choice")
            if not isinstance(choice, str) or choice not in CHOICES:
                raise ValueError(f"answer {choice!r} is not one of {list(CHOICES)}")
            if pair_id not in self.pairs or pair_id in self.answers:
                raise ValueError(f"answer to unknown or answered pair {pair_id}")
            self.answers[pair_id] = choice
        else:
            raise ValueError(f"unknown record type {kind!r}")

    def add_pair(self, pair: TrajectoryWithRewPair) -> int:
        """Record a pair about to be asked; returns its new id."""
        pair_id = max(self.pairs, default=-1) + 1
        record = {
            "type": "pair",
            "pair_id": pair_id,
            "created": time.time(),
            "fragments": [encode_fragment(pair[0]), encode_fragment(pair[1])],
        }
        self._append(record)
        self.pairs[pair_id] = pair
        return pair_id

    def add_answer(self, pair_id: int, choice: str) -> None:
        """Record (durably, before returning) the answer to a pair.

        Raises:
            KeyError: If no pair has id ``pair_id``.
            ValueError: If the pair is answered already or ``choice`` is not
                one of :data:`CHOICES`.
        """
        if choice not in CHOICES:
            raise ValueError(f"choice {choice!r} is not one of {list(CHOICES)}.")
        if pair_id not in self.pairs:
            raise KeyError(f"No pair has id {pair_id}.")
        if pair_id in self.answers:
            raise ValueError(f"Pair {pair_id} is answered already.")
        record = {
            "type": "answer",
            "pair_id": pair_id,
            "choice": choice,
            "answered": time.time(),
        }
        self._append(record)
        self.answers[pair_id] = choice

    def unanswered(self) -> list[int]:
        """Ids of the pairs asked but not answered, oldest first."""
        return [i for i in self.pairs if i not in self.answers]

    def preference(self, pair_id: int) -> float | None:
        """The preference for the left fragment of an answered pair (None: skipped)."""
        return CHOICES[self.answers[pair_id]]

    def to_preference_dataset(self, max_size: int | None = None) -> PreferenceDataset:
        """The answered pairs (skipped ones left out), in the order answered.

        Args:
            max_size: The dataset's ``max_size``.
        """
        dataset = PreferenceDataset(max_size=max_size)
        ids = [i for i in self.answers if self.preference(i) is not None]
        if ids:
            prefs = np.array([self.preference(i) for i in ids], dtype=np.float32)
            dataset.push([self.pairs[i] for i in ids], prefs)
        return dataset


def _fsync_dir(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
