"""Gathering preferences between fragments, and the dataset that holds them."""

from __future__ import annotations

import abc
import collections
import json
import pathlib
from collections.abc import Sequence
from typing import overload

import numpy as np
from scipy import special

from imitation.algorithms.preference_comparisons.preference_model import (
    TrajectoryWithRewPair,
    discounted_returns_np,
)
from imitation.data import serialize, types
from imitation.util import logger as imit_logger
from imitation.util import util

_FORMAT_VERSION = 1


class PreferenceGatherer(abc.ABC):
    """Gives, for each pair of fragments, the probability that the first is better."""

    def __init__(
        self,
        rng: np.random.Generator | None = None,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Set up the gatherer.

        Args:
            rng: Randomness, for gatherers that need it.
            custom_logger: Where to log to; if None, a new logger is created.
        """
        self.rng = None if rng is None else util.check_rng(rng)
        self.logger = custom_logger or imit_logger.configure()

    @abc.abstractmethod
    def __call__(self, fragment_pairs: Sequence[TrajectoryWithRewPair]) -> np.ndarray:
        """Preferences: for each pair, how much the first fragment is preferred.

        Args:
            fragment_pairs: The pairs.

        Returns:
            Shape ``(n_pairs,)``, values in [0, 1]: 1 means the first fragment
            is better, 0 the second, 0.5 a tie.
        """

    def gather(
        self, fragment_pairs: Sequence[TrajectoryWithRewPair]
    ) -> tuple[list[TrajectoryWithRewPair], np.ndarray]:
        """The comparisons a round adds to the dataset (what the algorithm calls).

        By default every pair, with its preference from ``__call__``.
        Gatherers that may drop pairs or hand in answers to pairs of earlier
        rounds (``HumanGatherer``) override this.

        Args:
            fragment_pairs: The round's pairs.

        Returns:
            The pairs to add and one preference per pair.
        """
        return list(fragment_pairs), self(fragment_pairs)


class SyntheticGatherer(PreferenceGatherer):
    """Preferences of a Boltzmann-rational oracle that knows the true rewards.

    The first fragment is preferred with probability
    ``sigmoid((R1 - R2) / temperature)`` (the difference clipped to
    ``[-threshold, threshold]`` first), ``R`` being true discounted returns.
    With ``sample`` the preference is drawn from that probability (0 or 1);
    otherwise the probability itself is the preference. ``temperature=0``
    prefers the higher return outright (0.5 for equal returns).
    """

    def __init__(
        self,
        temperature: float = 1.0,
        discount_factor: float = 1.0,
        sample: bool = True,
        rng: np.random.Generator | None = None,
        threshold: float = 50.0,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Set up the oracle.

        Args:
            temperature: Noise of the choice (0: none).
            discount_factor: Discount applied within a fragment.
            sample: Draw 0/1 preferences rather than return probabilities.
            rng: Draws the preferences; required if ``sample``.
            threshold: Clip for the scaled return difference.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``temperature`` is negative, ``discount_factor`` is
                outside (0, 1], ``threshold`` is not positive, or ``sample``
                is set without an ``rng``.
        """
        super().__init__(rng=rng, custom_logger=custom_logger)
        if temperature < 0:
            raise ValueError(f"temperature={temperature} must not be negative.")
        if not 0.0 < discount_factor <= 1.0:
            raise ValueError(f"discount_factor={discount_factor} must be in (0, 1].")
        if not threshold > 0:
            raise ValueError(f"threshold={threshold} must be positive.")
        if sample and rng is None:
            raise ValueError("SyntheticGatherer(sample=True) needs an rng.")
        self.temperature = temperature
        self.discount_factor = discount_factor
        self.sample = sample
        self.threshold = threshold

    def __call__(self, fragment_pairs: Sequence[TrajectoryWithRewPair]) -> np.ndarray:
        """Preferences from the true returns (see the class docstring).

        Raises:
            ValueError: If ``fragment_pairs`` is empty.
            TypeError: If a fragment has no rewards.
        """
        if len(fragment_pairs) == 0:
            raise ValueError("No fragment pairs to gather preferences for.")
        fragments = [f for pair in fragment_pairs for f in pair]
        returns = discounted_returns_np(fragments, self.discount_factor).reshape(-1, 2)
        diff = returns[:, 0] - returns[:, 1]
        if self.temperature == 0:
            probs = 0.5 * (np.sign(diff) + 1)
        else:
            scaled = np.clip(diff / self.temperature, -self.threshold, self.threshold)
            probs = special.expit(scaled)
        entropy = -(special.xlogy(probs, probs) + special.xlogy(1 - probs, 1 - probs))
        self.logger.record("entropy", float(entropy.mean()))
        if self.sample:
            assert self.rng is not None
            return (self.rng.random(len(probs)) < probs).astype(np.float32)
        return probs.astype(np.float32)


def _check_preferences(preferences: np.ndarray, n_pairs: int) -> np.ndarray:
    preferences = np.asarray(preferences)
    if preferences.shape != (n_pairs,):
        raise ValueError(
            f"preferences has shape {preferences.shape}; expected ({n_pairs},), "
            "one per fragment pair.",
        )
    if preferences.dtype.kind not in "fiub":
        raise TypeError(f"preferences must be numbers, got dtype {preferences.dtype}.")
    preferences = preferences.astype(np.float32)
    if np.isnan(preferences).any():
        raise ValueError("preferences contains NaN: each must be a number in [0, 1].")
    if ((preferences < 0) | (preferences > 1)).any():
        raise ValueError(
            "preferences must lie in [0, 1] (1: first fragment better, 0: second, "
            f"0.5: tie); got values from {preferences.min()} to {preferences.max()}.",
        )
    return preferences


def preference_collate_fn(
    batch: Sequence[tuple[TrajectoryWithRewPair, float]],
) -> tuple[list[TrajectoryWithRewPair], np.ndarray]:
    """Collate ``PreferenceDataset`` items into fragment pairs and preferences.

    Use as ``collate_fn`` of a ``torch.utils.data.DataLoader`` over a
    :class:`PreferenceDataset`: fragments are not tensors, so torch's default
    collation cannot batch them.

    Args:
        batch: Items ``((fragment1, fragment2), preference)``.

    Returns:
        The list of fragment pairs, and the preferences as a float32 array of
        the same length.

    Raises:
        ValueError: If a preference is NaN or outside [0, 1].
        TypeError: If a preference is not a number.
    """
    pairs = [pair for pair, _ in batch]
    preferences = np.asarray([pref for _, pref in batch])
    return pairs, _check_preferences(preferences, len(pairs))


class PreferenceDataset(Sequence[tuple[TrajectoryWithRewPair, float]]):
    """Fragment pairs and their preferences; optionally a queue of bounded size.

    Item ``i`` is ``((fragment1, fragment2), preference)``. Saved files hold
    only plain arrays and JSON (no pickles), so a dataset from anyone can be
    loaded safely.
    """

    def __init__(self, max_size: int | None = None) -> None:
        """Make an empty dataset.

        Args:
            max_size: Keep at most this many comparisons, dropping the oldest
                first; None: unbounded.

        Raises:
            ValueError: If ``max_size`` is not positive.
        """
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size={max_size} must be positive (or None).")
        self.max_size = max_size
        self.fragments1: collections.deque[types.TrajectoryWithRew] = collections.deque(
            maxlen=max_size
        )
        self.fragments2: collections.deque[types.TrajectoryWithRew] = collections.deque(
            maxlen=max_size
        )
        self._preferences: collections.deque[float] = collections.deque(maxlen=max_size)

    @property
    def preferences(self) -> np.ndarray:
        """All preferences, oldest first, shape ``(len(self),)``."""
        return np.array(self._preferences, dtype=np.float32)

    def push(
        self,
        fragments: Sequence[TrajectoryWithRewPair],
        preferences: np.ndarray,
    ) -> None:
        """Add comparisons (dropping the oldest beyond ``max_size``).

        Args:
            fragments: The pairs.
            preferences: One preference in [0, 1] per pair.

        Raises:
            ValueError: If the counts differ, or a preference is NaN or
                outside [0, 1].
            TypeError: If ``preferences`` is not numeric.
        """
        prefs = _check_preferences(preferences, len(fragments))
        for (f1, f2), pref in zip(fragments, prefs.tolist()):
            self.fragments1.append(f1)
            self.fragments2.append(f2)
            self._preferences.append(pref)

    def __len__(self) -> int:
        return len(self._preferences)

    @overload
    def __getitem__(self, index: int) -> tuple[TrajectoryWithRewPair, float]: ...

    @overload
    def __getitem__(
        self, index: slice
    ) -> list[tuple[TrajectoryWithRewPair, float]]: ...

    def __getitem__(
        self, index: int | slice
    ) -> (
        tuple[TrajectoryWithRewPair, float] | list[tuple[TrajectoryWithRewPair, float]]
    ):
        """Item ``index`` (an int), or a list of items (a slice)."""
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        pair = (self.fragments1[index], self.fragments2[index])
        return pair, self._preferences[index]

    def pairs(self, indices: Sequence[int] | np.ndarray) -> list[TrajectoryWithRewPair]:
        """The fragment pairs at ``indices``."""
        return [(self.fragments1[i], self.fragments2[i]) for i in indices]

    def save(self, path: types.AnyPath) -> None:
        """Save to the directory ``path`` (replaced atomically if it exists).

        Fragments go to ``fragments1.npz`` and ``fragments2.npz`` (the
        ``serialize.save_npz`` layout; infos are not kept), preferences to
        ``preferences.npy``, and ``max_size`` to ``metadata.json``.

        Raises:
            ValueError: If the dataset is empty.
        """
        if len(self) == 0:
            raise ValueError("Cannot save an empty PreferenceDataset.")
        with util.atomic_write_path(path) as tmp:
            tmp.mkdir()
            for name, frags in (
                ("fragments1", self.fragments1),
                ("fragments2", self.fragments2),
            ):
                stripped = [f.without_infos() for f in frags]
                serialize.save_npz(tmp / f"{name}.npz", stripped)
            np.save(tmp / "preferences.npy", self.preferences, allow_pickle=False)
            metadata = {"format_version": _FORMAT_VERSION, "max_size": self.max_size}
            (tmp / "metadata.json").write_text(json.dumps(metadata))

    @staticmethod
    def load(path: types.AnyPath) -> PreferenceDataset:
        """Load a dataset written by :meth:`save`, without unpickling anything.

        A save that was killed half-way through replacing ``path`` is completed
        first (see :func:`imitation.util.util.recover_interrupted_write`).

        Raises:
            FileNotFoundError: If ``path`` or one of its files is missing.
            ValueError: If a file is truncated or corrupt, or the files are
                inconsistent or not a saved dataset.
        """
        root = util.parse_path(path)
        util.recover_interrupted_write(root)
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is not a saved PreferenceDataset.")
        metadata = _read_metadata(root / "metadata.json")
        frags1 = _load_fragments(root / "fragments1.npz")
        frags2 = _load_fragments(root / "fragments2.npz")
        prefs = _load_preferences(root / "preferences.npy")
        if not len(frags1) == len(frags2) == len(prefs):
            raise ValueError(
                f"{root}: {len(frags1)} first fragments, {len(frags2)} second "
                f"fragments and {len(prefs)} preferences; the counts must match.",
            )
        dataset = PreferenceDataset(max_size=metadata["max_size"])
        dataset.push(list(zip(frags1, frags2)), prefs)
        return dataset


_DAMAGED_HELP = (
    "{path} is truncated or corrupt ({error}), so the PreferenceDataset in "
    "{root} cannot be loaded. Restore the directory from a copy, or gather the "
    "preferences again and save them with PreferenceDataset.save."
)


def _load_fragments(path: pathlib.Path) -> Sequence[types.TrajectoryWithRew]:
    try:
        return serialize.load_with_rewards(path)
    except serialize.TrajectoryFormatError as exc:
        raise ValueError(
            _DAMAGED_HELP.format(path=path, error=exc, root=path.parent),
        ) from exc


def _load_preferences(path: pathlib.Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, EOFError, OSError) as exc:
        raise ValueError(
            _DAMAGED_HELP.format(path=path, error=exc, root=path.parent),
        ) from exc


def _read_metadata(path: pathlib.Path) -> dict:
    try:
        metadata = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            _DAMAGED_HELP.format(path=path, error=exc, root=path.parent),
        ) from exc
    if (
        not isinstance(metadata, dict)
        or metadata.get("format_version") != _FORMAT_VERSION
    ):
        raise ValueError(
            f"{path}: not a PreferenceDataset (format_version {_FORMAT_VERSION})."
        )
    max_size = metadata.get("max_size")
    if max_size is not None and (not isinstance(max_size, int) or max_size < 1):
        raise ValueError(f"{path}: invalid max_size {max_size!r}.")
    return metadata
