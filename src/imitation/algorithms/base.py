"""Base classes of the imitation algorithms and their demonstration loading."""

from __future__ import annotations

import abc
import dataclasses
import functools
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
import torch.utils.data as th_data
from stable_baselines3.common.policies import BasePolicy

from imitation.data import rollout, types
from imitation.util import logger as imit_logger
from imitation.util import util

TransitionMapping = Mapping[str, np.ndarray | th.Tensor]
"""A batch of transitions: field name (``obs``, ``acts``, ...) to array or tensor."""

TransitionKind = TypeVar("TransitionKind", bound=types.TransitionsMinimal)
"""The kind of transitions a :class:`DemonstrationAlgorithm` trains on."""

AnyTransitions = (
    Iterable[types.Trajectory] | Iterable[TransitionMapping] | types.TransitionsMinimal
)
"""Demonstrations in any accepted form: trajectories, transitions or batches."""

DEMONSTRATIONS_ACCEPTED = (
    "a sequence of Trajectory (e.g. from imitation.data.serialize.load or "
    "imitation.data.rollout.rollout), a Transitions object (e.g. "
    "rollout.flatten_trajectories(trajectories)), or an iterable of batches "
    "such as a torch DataLoader, each batch a mapping from field names ('obs', "
    "'acts', ...) to arrays or tensors"
)
"""The forms of demonstrations that :class:`DemonstrationAlgorithm` accepts."""

VARIABLE_HORIZON_HELP = (
    "Episodes of different lengths detected: {lengths}. Variable-horizon "
    "environments leak information about the reward through their termination "
    "condition and can badly confound evaluation; see docs/variable-horizon.md "
    "('Limitations on Horizon Length'). Use fixed-horizon environments (e.g. "
    "the seals/ versions), or pass allow_variable_horizon=True if you are sure."
)


class BaseImitationAlgorithm(imit_logger.LoggingComponent, abc.ABC):
    """Base class for all imitation learning algorithms: logging and horizon checks.

    Subclasses that own logging components name them in ``_logger_shared_with``
    (see :class:`~imitation.util.logger.LoggingComponent`).
    """

    allow_variable_horizon: bool
    """If True, allow variable-horizon trajectories; otherwise raise on seeing them."""

    def __init__(
        self,
        *,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        allow_variable_horizon: bool = False,
    ) -> None:
        """Set up logging and the horizon check.

        Args:
            custom_logger: Where to log to; if None, a new logger is created.
            allow_variable_horizon: If False (default), raise ``ValueError`` on
                trajectories of different lengths. Only override this if you
                know what you are doing (see ``docs/variable-horizon.md``).
        """
        self._logger = custom_logger or imit_logger.configure()
        self.allow_variable_horizon = allow_variable_horizon
        if allow_variable_horizon:
            logging.warning(
                "allow_variable_horizon=True: episodes of different lengths are "
                "accepted. This can leak reward information through episode "
                "termination and confound evaluation.",
            )
        self._horizon: int | None = None

    def _check_fixed_horizon(self, horizons: Iterable[int]) -> None:
        """Raise if the episode lengths seen so far (and ``horizons``) differ.

        Args:
            horizons: Lengths of newly seen complete episodes.

        Raises:
            ValueError: If lengths differ and ``allow_variable_horizon`` is False.
        """
        if self.allow_variable_horizon:
            return
        lengths = set(horizons)
        if self._horizon is not None:
            lengths.add(self._horizon)
        if len(lengths) > 1:
            raise ValueError(VARIABLE_HORIZON_HELP.format(lengths=sorted(lengths)))
        if lengths:
            self._horizon = lengths.pop()


class DemonstrationAlgorithm(BaseImitationAlgorithm, Generic[TransitionKind]):
    """An algorithm that learns from demonstrations: BC, IRL, etc.

    Construction follows SB3's explicit pattern. The base constructor calls
    :meth:`set_demonstrations` when given demonstrations (as the original
    release did), so a subclass whose ``set_demonstrations`` needs only what
    exists before it calls ``super().__init__`` may pass them up. A subclass
    whose ``set_demonstrations`` uses what its own constructor builds (every
    algorithm of this library) passes ``demonstrations=None`` up and calls
    ``set_demonstrations`` itself as the last step of its constructor, so
    subclasses of it see their demonstrations set when its constructor returns.
    """

    def __init__(
        self,
        *,
        demonstrations: AnyTransitions | None,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        allow_variable_horizon: bool = False,
    ) -> None:
        """Set up the algorithm and (optionally) its demonstrations.

        Args:
            demonstrations: Demonstrations from an expert (optional): a
                ``TransitionsMinimal`` object, a sequence of trajectories, or an
                iterable of transition batches (mappings to arrays/tensors).
                If given, :meth:`set_demonstrations` is called with them here.
            custom_logger: Where to log to; if None, a new logger is created.
            allow_variable_horizon: See :class:`BaseImitationAlgorithm`.
        """
        super().__init__(
            custom_logger=custom_logger,
            allow_variable_horizon=allow_variable_horizon,
        )
        if demonstrations is not None:
            self.set_demonstrations(demonstrations)

    @abc.abstractmethod
    def set_demonstrations(self, demonstrations: AnyTransitions) -> None:
        """Set the demonstration data (DAgger changes it between rounds)."""

    def _normalize_demonstrations(
        self,
        demonstrations: AnyTransitions,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
    ) -> Demonstrations:
        """:func:`normalize_demonstrations`, then the fixed-horizon check.

        For algorithms whose reward or evaluation depends on episode lengths:
        trajectories of different lengths are refused unless
        ``allow_variable_horizon`` (see :meth:`_check_fixed_horizon`).
        """
        demos = normalize_demonstrations(
            demonstrations, observation_space, action_space
        )
        self._check_fixed_horizon(demos.episode_lengths)
        return demos

    @property
    @abc.abstractmethod
    def policy(self) -> BasePolicy:
        """A policy imitating the demonstration data."""


def _leading_shape(value: Any) -> tuple[int, ...]:
    """The shape of an array or tensor without its leading (batch) axis."""
    shape = getattr(value, "shape", None)
    return tuple(np.shape(value) if shape is None else shape)[1:]


def check_observations_fit_space(
    obs: Any,
    observation_space: gym.Space,
    what: str = "Demonstration observations",
) -> None:
    """Raise ``ValueError`` if a batch of observations does not fit the space.

    Only the structure is checked: dict or array, the keys of a dict, and the
    shape of each observation (of each key's, for dicts) without the leading
    batch axis. The values themselves are not looked at.

    Args:
        obs: A batch of observations: an array or tensor, a ``DictObs``, or a
            mapping from keys to arrays or tensors.
        observation_space: The space they should come from.
        what: How the observations are named in the error message.

    Raises:
        ValueError: Naming the mismatch: dict against array observations, a
            key missing from the observations or absent from a ``Dict``
            space, or the shape of the observations (under which key).
    """
    obs = types.maybe_unwrap_dictobs(obs)
    is_dict_space = isinstance(observation_space, gym.spaces.Dict)
    if is_dict_space != isinstance(obs, Mapping):
        kind = "a dict" if isinstance(obs, Mapping) else "an array"
        raise ValueError(
            f"{what} are {kind}, which does not match the observation space "
            f"{observation_space}: one is a dict and the other is not, so they "
            "are from a different environment.",
        )
    if not isinstance(observation_space, gym.spaces.Dict):
        shape = _leading_shape(obs)
        if shape != observation_space.shape:
            raise ValueError(
                f"{what} have shape {shape} but the observation space "
                f"{observation_space} needs {observation_space.shape}: they are "
                "from a different environment.",
            )
        return
    expected_keys = list(observation_space.spaces)
    missing = [k for k in expected_keys if k not in obs]
    extra = [k for k in obs if k not in observation_space.spaces]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lack the key(s) {missing}")
        if extra:
            parts.append(f"have the key(s) {extra} that the space does not")
        raise ValueError(
            f"{what} {' and '.join(parts)}: the observation space has the keys "
            f"{expected_keys}, so they are from a different environment.",
        )
    for key, space in observation_space.spaces.items():
        shape = _leading_shape(obs[key])
        if shape != space.shape:
            raise ValueError(
                f"{what} under the key {key!r} have shape {shape} but the "
                f"observation space needs {space.shape} there ({key!r}: "
                f"{space}): they are from a different environment.",
            )


def check_demonstration_spaces(
    demos: types.TransitionsMinimal,
    observation_space: gym.Space,
    action_space: gym.Space,
) -> None:
    """Raise ``ValueError`` if demonstrations do not fit the spaces.

    Args:
        demos: The demonstrations, as transitions.
        observation_space: The learner's observation space.
        action_space: The learner's action space.

    Raises:
        ValueError: Naming the mismatch (dict vs array observations, a
            missing or unexpected key of dict observations, observation shapes
            (per key for dicts), action shape, dtype or range).
    """
    check_observations_fit_space(demos.obs, observation_space)
    acts = demos.acts
    if isinstance(action_space, gym.spaces.Discrete):
        bad = acts.ndim != 1 or acts.dtype.kind not in "iu"
        if not bad and len(acts):
            bad = acts.min() < action_space.start or acts.max() >= (
                action_space.start + action_space.n
            )
    else:
        bad = acts.shape[1:] != (action_space.shape or ())
    if bad:
        raise ValueError(
            f"Demonstration actions (shape {acts.shape}, dtype {acts.dtype}) do not "
            f"fit the action space {action_space}: the demonstrations are from a "
            "different environment.",
        )


def check_demonstrations_type(demonstrations: object) -> None:
    """Raise ``TypeError`` unless ``demonstrations`` has an accepted form.

    Only the container is checked (its elements are not iterated over); see
    :data:`DEMONSTRATIONS_ACCEPTED` for the accepted forms.

    Args:
        demonstrations: The value given as demonstrations.

    Raises:
        TypeError: For None, a path (demonstrations must be loaded first), a
            single batch (a mapping, which must be wrapped in a list), or
            anything that is not iterable.
    """
    if isinstance(demonstrations, types.TransitionsMinimal | th_data.DataLoader):
        return
    if demonstrations is None:
        hint = "demonstrations are required here, but got None"
    elif isinstance(demonstrations, str | bytes | os.PathLike):
        hint = (
            f"got the path {demonstrations!r}: load it first, with "
            "imitation.data.serialize.load(path)"
        )
    elif isinstance(demonstrations, Mapping):
        hint = "got a single batch (a mapping): wrap it in a list, [batch]"
    else:
        try:
            iter(demonstrations)  # type: ignore[call-overload]
        except TypeError:
            hint = f"got {type(demonstrations).__name__}, which is not iterable"
        else:
            return
    raise TypeError(f"Demonstrations must be {DEMONSTRATIONS_ACCEPTED}; {hint}.")


class ShuffledBatches(Iterable[dict[str, Any]]):
    """Minibatches of a transitions object, reshuffled on every pass.

    One pass yields ``len(transitions) // batch_size`` batches (the remainder is
    dropped so every batch has the same size). Each batch is a dict of tensors
    made by slicing whole arrays with one index array: no per-sample Python.
    ``infos`` are not included (training never uses them).
    """

    def __init__(
        self,
        transitions: types.TransitionsMinimal,
        batch_size: int,
        rng: np.random.Generator,
    ) -> None:
        """Prepare batching.

        Args:
            transitions: The samples.
            batch_size: Samples per batch.
            rng: Generator for the shuffling.

        Raises:
            ValueError: If there are fewer samples than ``batch_size``, or it
                is not positive.
            TypeError: If ``batch_size`` is not an int or ``rng`` not a numpy
                ``Generator``.
        """
        batch_size = util.check_positive_int(batch_size, "batch_size")
        util.check_rng(rng)
        if len(transitions) < batch_size:
            raise ValueError(
                f"Need at least batch_size={batch_size} transitions, got "
                f"{len(transitions)}: collect more demonstrations or use a "
                "smaller batch_size.",
            )
        self.batch_size = batch_size
        self.rng = rng
        fields = types.dataclass_quick_asdict(transitions)
        fields.pop("infos")
        self._tensors: dict[str, Any] = {
            name: types.to_tensor_maybe_dict(value) for name, value in fields.items()
        }
        self._n = len(transitions)

    def __len__(self) -> int:
        return self._n // self.batch_size

    def __iter__(self) -> Iterator[dict[str, Any]]:
        order = th.from_numpy(self.rng.permutation(self._n))
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            yield {
                name: types.index_maybe_dict(value, idx)
                for name, value in self._tensors.items()
            }


def _empty_demonstrations(what: str) -> ValueError:
    return ValueError(
        f"The demonstrations are empty: {what}. Give at least one trajectory, "
        "transition or batch.",
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Demonstrations:
    """Demonstrations classified by :func:`normalize_demonstrations`.

    The demonstrations as given are in exactly one of :attr:`trajectories`,
    :attr:`given_transitions` and :attr:`batches`; :attr:`transitions` and
    :meth:`data_loader` give them in the form an algorithm trains on.
    """

    trajectories: Sequence[types.Trajectory] | None = None
    """The trajectories, if the demonstrations are trajectories."""

    given_transitions: types.TransitionsMinimal | None = None
    """The transitions object, if the demonstrations are one."""

    batches: Iterable[TransitionMapping] | None = None
    """The iterable of batches (e.g. a ``DataLoader``), if they are batches."""

    observation_space: gym.Space | None = dataclasses.field(default=None, repr=False)
    """The space :attr:`transitions` are checked against (None: unchecked)."""

    action_space: gym.Space | None = dataclasses.field(default=None, repr=False)
    """The space :attr:`transitions` are checked against (None: unchecked)."""

    @property
    def episode_lengths(self) -> list[int]:
        """The lengths of the trajectories (none for other forms)."""
        return [len(t) for t in self.trajectories or ()]

    @functools.cached_property
    def transitions(self) -> types.TransitionsMinimal:
        """All the demonstrations as one transitions object, made once.

        Trajectories are flattened (to ``Transitions``); batches are iterated
        over once and concatenated (to ``Transitions`` if they all have
        ``next_obs`` and ``dones``, else to ``TransitionsMinimal``).

        Raises:
            ValueError: If batches yield no samples or lack ``obs`` or
                ``acts``, or the transitions do not fit the spaces.
        """
        if self.given_transitions is not None:
            transitions = self.given_transitions
        elif self.trajectories is not None:
            transitions = rollout.flatten_trajectories(self.trajectories)
        else:
            assert self.batches is not None
            batches = list(self.batches)
            if not batches:
                raise _empty_demonstrations("the iterable of batches yielded none")
            transitions = types.transitions_from_batches(batches)
            if len(transitions) == 0:
                raise _empty_demonstrations("the batches hold no samples")
        if self.observation_space is not None and self.action_space is not None:
            check_demonstration_spaces(
                transitions, self.observation_space, self.action_space
            )
        return transitions

    def data_loader(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        data_loader_kwargs: Mapping[str, Any] | None = None,
    ) -> Iterable[TransitionMapping]:
        """The demonstrations as a re-iterable of batches.

        Batches are returned as given (assumed to hold ``batch_size`` samples
        each). :attr:`transitions` are batched by :class:`ShuffledBatches`
        (fast, reshuffled each pass), or by a torch ``DataLoader`` when
        ``data_loader_kwargs`` are given.

        Args:
            batch_size: Samples per batch.
            rng: Generator for shuffling (default: seeded from fresh entropy).
            data_loader_kwargs: Arguments for a torch ``DataLoader``
                (``shuffle``, ``drop_last``, ...); they select that path.

        Returns:
            Batches: dicts of tensors, or whatever given batches hold.

        Raises:
            ValueError: If ``batch_size`` is not positive, or there are fewer
                transitions than ``batch_size``.
            TypeError: If ``batch_size`` is not an int, or ``rng`` is not a
                numpy ``Generator`` (or None).
        """
        batch_size = util.check_positive_int(batch_size, "batch_size")
        if rng is not None:
            util.check_rng(rng)
        if self.batches is not None:
            return self.batches
        if data_loader_kwargs is not None:
            kwargs = {"shuffle": True, "drop_last": True, **data_loader_kwargs}
            return th_data.DataLoader(
                self.transitions,  # type: ignore[arg-type]
                batch_size=batch_size,
                collate_fn=types.transitions_collate_fn,
                **kwargs,
            )
        return ShuffledBatches(
            self.transitions, batch_size, rng or np.random.default_rng()
        )


def normalize_demonstrations(
    demonstrations: AnyTransitions,
    observation_space: gym.Space | None = None,
    action_space: gym.Space | None = None,
) -> Demonstrations:
    """Classify demonstrations by their form, once, and check them.

    This is where the accepted forms (:data:`DEMONSTRATIONS_ACCEPTED`) are
    told apart and refused with one set of messages; every algorithm loads
    its demonstrations through it. A ``DataLoader`` is not iterated over
    here; any other iterable is classified by its first element (a re-chained
    iterator still yields it). Trajectories and transitions are checked
    against the spaces here; batches when :attr:`Demonstrations.transitions`
    concatenates them, and not at all if they are only iterated over.

    Args:
        demonstrations: Demonstrations in any accepted form.
        observation_space: The space the observations must fit (None: no
            check; give both spaces or neither).
        action_space: The space the actions must fit.

    Returns:
        The classified demonstrations.

    Raises:
        TypeError: If they are none of the accepted forms, naming what was
            given (see :func:`check_demonstrations_type`), or a sequence of
            trajectories holds something else too.
        ValueError: If they are empty, or do not fit the spaces (naming the
            field and the space).
    """
    check_demonstrations_type(demonstrations)
    trajectories: tuple[types.Trajectory, ...] | None = None
    given_transitions: types.TransitionsMinimal | None = None
    batches: Iterable[TransitionMapping] | None = None
    if isinstance(demonstrations, types.TransitionsMinimal):
        if len(demonstrations) == 0:
            name = type(demonstrations).__name__
            raise _empty_demonstrations(f"the {name} object holds no transitions")
        given_transitions = demonstrations
    elif isinstance(demonstrations, th_data.DataLoader):
        batches = demonstrations
    else:
        kind = type(demonstrations).__name__
        try:
            first, items = util.get_first_iter_element(demonstrations)  # type: ignore[arg-type]
        except ValueError:
            raise _empty_demonstrations(f"got an empty {kind}") from None
        if isinstance(first, Mapping):
            batches = items  # type: ignore[assignment]
        elif not isinstance(first, types.Trajectory):
            raise TypeError(
                f"Demonstrations must be {DEMONSTRATIONS_ACCEPTED}; got a {kind} "
                f"whose first element has type {type(first).__name__}.",
            )
        else:
            trajectories = tuple(items)  # type: ignore[arg-type]
            for i, traj in enumerate(trajectories):
                if not isinstance(traj, types.Trajectory):
                    raise TypeError(
                        f"Demonstrations must be {DEMONSTRATIONS_ACCEPTED}; got a "
                        f"{kind} of Trajectory whose element {i} has type "
                        f"{type(traj).__name__}.",
                    )
    demos = Demonstrations(
        trajectories, given_transitions, batches, observation_space, action_space
    )
    if batches is None and observation_space is not None:
        _ = demos.transitions  # flattened and checked against the spaces now
    return demos


def make_data_loader(
    transitions: AnyTransitions,
    batch_size: int,
    data_loader_kwargs: Mapping[str, Any] | None = None,
    rng: np.random.Generator | None = None,
) -> Iterable[TransitionMapping]:
    """Turn demonstrations in any accepted form into an iterable of batches.

    ``normalize_demonstrations(transitions).data_loader(...)``: see
    :meth:`Demonstrations.data_loader`.

    Args:
        transitions: The demonstrations.
        batch_size: Samples per batch.
        data_loader_kwargs: Arguments for a torch ``DataLoader`` (``shuffle``,
            ``drop_last``, ...); they select the ``DataLoader`` path.
        rng: Generator for shuffling (default: seeded from fresh entropy).

    Returns:
        A re-iterable of batches (dicts of tensors).

    Raises:
        ValueError: If ``batch_size`` is not positive, the demonstrations are
            empty, or there are fewer transitions than ``batch_size``.
        TypeError: If ``batch_size`` is not an int, ``rng`` is not a numpy
            ``Generator`` (or None), or the demonstrations are none of the
            accepted forms (see :data:`DEMONSTRATIONS_ACCEPTED`).
    """
    demos = normalize_demonstrations(transitions)
    return demos.data_loader(batch_size, rng, data_loader_kwargs)
