"""Miscellaneous helpers: vectorised environments, seeding, tensors, paths."""

from __future__ import annotations

import datetime
import functools
import itertools
import os
import pathlib
import sys
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import monitor, policies, preprocessing
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecEnv,
    VecTransposeImage,
)

from imitation.data.types import AnyPath
from imitation.util import sb3_compat
from imitation.util.atomic import (
    atomic_write_path,
    exchange_paths,
    recover_interrupted_write,
)

__all__ = [
    "atomic_write_path",
    "check_positive_int",
    "check_rng",
    "check_vec_env",
    "clear_screen",
    "docstring_parameter",
    "endless_iter",
    "exchange_paths",
    "get_first_iter_element",
    "make_seeds",
    "make_unique_timestamp",
    "make_vec_env",
    "oric",
    "parse_optional_path",
    "parse_path",
    "path_to_str",
    "policy_to_dict",
    "recover_interrupted_write",
    "safe_to_numpy",
    "scale_to_unit_box",
    "safe_to_tensor",
    "save_policy",
    "split_in_half",
    "tensor_iter_norm",
    "unscale_from_unit_box",
]

T = TypeVar("T")


def oric(x: np.ndarray) -> np.ndarray:
    """Optimal rounding under integer constraint.

    Rounds the entries of ``x`` so that they stay non-negative integers whose
    sum equals ``round(sum(x))``, with the smallest total rounding error.

    Args:
        x: Non-negative real numbers.

    Returns:
        Integer array of the same shape as ``x``.
    """
    floors = np.floor(x).astype(np.int64)
    remainder = int(round(float(np.sum(x)))) - int(floors.sum())
    if remainder > 0:
        order = np.argsort(-(x - floors), kind="stable")
        floors[order[:remainder]] += 1
    return floors


def scale_to_unit_box(actions: np.ndarray, space: gym.spaces.Box) -> np.ndarray:
    """Map actions from ``[space.low, space.high]`` to ``[-1, 1]``.

    How SB3's off-policy learners store Box actions in their replay buffers
    (their policies' ``scale_action``, without needing a policy).
    """
    low, high = space.low, space.high
    return 2.0 * (actions - low) / (high - low) - 1.0


def unscale_from_unit_box(actions: np.ndarray, space: gym.spaces.Box) -> np.ndarray:
    """Map actions from ``[-1, 1]`` back to ``[space.low, space.high]``.

    The inverse of :func:`scale_to_unit_box` (SB3's ``unscale_action``).
    """
    low, high = space.low, space.high
    return low + 0.5 * (actions + 1.0) * (high - low)


def make_unique_timestamp() -> str:
    """A timestamp (``YYYYmmdd_HHMMSS``) with a random suffix, unique per call."""
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    return f"{stamp}_{uuid.uuid4().hex[:6]}"


def make_seeds(
    rng: np.random.Generator,
    n: int | None = None,
) -> int | list[int]:
    """Draw seeds from ``rng``: one ``int`` if ``n`` is None, else a list of ``n``."""
    check_rng(rng)
    if n is None:
        return int(rng.integers(0, (1 << 31) - 1))
    return [int(s) for s in rng.integers(0, (1 << 31) - 1, size=(n,))]


def _make_one_env(
    env_name: str,
    index: int,
    seed: int,
    log_dir: str | None,
    max_episode_steps: int | None,
    post_wrappers: Sequence[Callable[[gym.Env, int], gym.Env]],
    env_make_kwargs: Mapping[str, Any],
) -> gym.Env:
    env = gym.make(env_name, max_episode_steps=max_episode_steps, **env_make_kwargs)
    # Seeding with reset() fixes the episode stream: later resets with seed=None
    # continue the env's own generator, so the whole run is reproducible.
    env.reset(seed=seed)
    env.action_space.seed(seed)
    if log_dir is not None:
        monitor_dir = os.path.join(log_dir, "monitor")
        os.makedirs(monitor_dir, exist_ok=True)
        env = monitor.Monitor(env, os.path.join(monitor_dir, f"mon{index:03d}"))
    for wrapper in post_wrappers:
        env = wrapper(env, index)
    return env


def make_vec_env(
    env_name: str,
    *,
    rng: np.random.Generator,
    n_envs: int = 8,
    parallel: bool = False,
    log_dir: str | None = None,
    max_episode_steps: int | None = None,
    post_wrappers: Sequence[Callable[[gym.Env, int], gym.Env]] | None = None,
    env_make_kwargs: Mapping[str, Any] | None = None,
) -> VecEnv:
    """Make a seeded vectorised environment.

    Args:
        env_name: A Gymnasium environment id, optionally ``module:EnvId`` to import
            the module that registers it first (e.g. ``"seals:seals/CartPole-v0"``).
        rng: Generator that the per-env seeds are drawn from.
        n_envs: Number of environments.
        parallel: Run each env in its own process (``SubprocVecEnv``) instead of
            in this one (``DummyVecEnv``).
        log_dir: If given, wrap each env in an SB3 ``Monitor`` writing
            ``{log_dir}/monitor/mon{i:03d}.monitor.csv``.
        max_episode_steps: Override the env's time limit (None keeps its own).
        post_wrappers: Callables ``(env, env_index) -> env`` applied in order
            after the ``Monitor``.
        env_make_kwargs: Extra keyword arguments for ``gymnasium.make``.

    Returns:
        The vectorised environment.

    Raises:
        ValueError: If ``n_envs`` is not positive.
    """
    check_rng(rng)
    if n_envs < 1:
        raise ValueError(f"n_envs must be at least 1, got {n_envs}.")
    seeds = make_seeds(rng, n_envs)
    assert isinstance(seeds, list)
    env_fns: list[Callable[[], gym.Env]] = [
        functools.partial(
            _make_one_env,
            env_name,
            i,
            seed,
            log_dir,
            max_episode_steps,
            list(post_wrappers or []),
            dict(env_make_kwargs or {}),
        )
        for i, seed in enumerate(seeds)
    ]
    if parallel:
        try:
            return SubprocVecEnv(env_fns, start_method="forkserver")
        except (EOFError, ConnectionError):
            # A worker failed to make its env; its error only reaches this
            # process as a closed pipe. Make one env here to raise the error.
            env_fns[0]().close()
            raise
    return DummyVecEnv(env_fns)


def safe_to_tensor(array: Any, **kwargs: Any) -> th.Tensor:
    """Convert ``array`` to a tensor, sharing memory when it is safe to.

    A tensor is returned as is (moved or cast if ``kwargs`` ask). A read-only
    numpy array is copied first: torch cannot share memory with it safely.

    Args:
        array: A numpy array, tensor, or anything ``th.as_tensor`` accepts.
        kwargs: Passed to ``th.as_tensor`` (e.g. ``device``, ``dtype``).

    Returns:
        A tensor holding the data of ``array``.
    """
    if isinstance(array, th.Tensor):
        return _to(array, kwargs)
    if isinstance(array, np.ndarray):
        if not array.flags.writeable:
            array = array.copy()
        try:
            # Several times cheaper than ``as_tensor`` on the small batches of
            # the per-step reward path; ``to`` is free when nothing changes.
            tensor = th.from_numpy(array)
        except TypeError:  # a dtype torch has no counterpart for
            return th.as_tensor(array, **kwargs)
        return _to(tensor, kwargs)
    return th.as_tensor(array, **kwargs)


def _to(tensor: th.Tensor, kwargs: dict[str, Any]) -> th.Tensor:
    """``tensor.to(**kwargs)``, skipping the call when it would change nothing."""
    if kwargs.keys() <= {"device", "dtype"}:
        device, dtype = kwargs.get("device"), kwargs.get("dtype")
        if (device is None or device == tensor.device) and (
            dtype is None or dtype == tensor.dtype
        ):
            return tensor
    return tensor.to(**kwargs)


def safe_to_numpy(obj: Any, warn: bool = False) -> Any:
    """Convert a tensor to a numpy array; pass arrays and None through.

    Args:
        obj: A tensor, array, or None.
        warn: Warn when a tensor is converted (to flag needless round trips).

    Returns:
        The numpy array (or None).
    """
    if obj is None or isinstance(obj, np.ndarray):
        return obj
    if isinstance(obj, th.Tensor):
        if warn:
            warnings.warn(
                "Converted a tensor to numpy; pass arrays directly to avoid it.",
                stacklevel=2,
            )
        return obj.detach().cpu().numpy()
    return np.asarray(obj)


def tensor_iter_norm(
    tensor_iter: Iterable[th.Tensor],
    ord: float = 2.0,  # noqa: A002 - mirrors torch.norm
) -> th.Tensor:
    """The ``ord``-norm of all tensors in ``tensor_iter`` taken as one vector.

    Args:
        tensor_iter: Tensors, e.g. ``model.parameters()`` or their gradients.
        ord: Order of the norm (``float("inf")`` allowed).

    Returns:
        A scalar tensor.

    Raises:
        ValueError: If ``tensor_iter`` is empty.
    """
    norms = [th.linalg.vector_norm(t.detach(), ord=ord) for t in tensor_iter]
    if not norms:
        raise ValueError("tensor_iter_norm needs at least one tensor.")
    return th.linalg.vector_norm(th.stack(norms), ord=ord)


def endless_iter(iterable: Iterable[T]) -> Iterator[T]:
    """Cycle through ``iterable`` forever, re-iterating it each time (not caching).

    Re-iterating (rather than ``itertools.cycle``'s caching) lets a shuffling
    ``DataLoader`` reshuffle every epoch.

    Raises:
        ValueError: If ``iterable`` is an iterator (it could be iterated once only)
            or turns out to be empty.
    """
    if iter(iterable) is iterable:
        raise ValueError("endless_iter needs a re-iterable, not an iterator.")
    while True:
        empty = True
        for item in iterable:
            empty = False
            yield item
        if empty:
            raise ValueError("endless_iter got an empty iterable.")


def get_first_iter_element(iterable: Iterable[T]) -> tuple[T, Iterable[T]]:
    """Peek at the first element of ``iterable``.

    Returns:
        ``(first, it)`` where ``it`` still yields every element, ``first``
        included (an iterator is re-chained; a re-iterable is returned as is).

    Raises:
        ValueError: If ``iterable`` is empty.
    """
    iterator = iter(iterable)
    try:
        first = next(iterator)
    except StopIteration as exc:
        raise ValueError(f"iterable {iterable!r} had no elements.") from exc
    if iterator is iterable:
        return first, itertools.chain([first], iterator)
    return first, iterable


def split_in_half(x: int) -> tuple[int, int]:
    """Split ``x`` into two integers that differ by at most one, the larger last.

    Returns:
        ``(x // 2, x - x // 2)``.
    """
    half = x // 2
    return half, x - half


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a numpy ``Generator``; raise ``TypeError`` otherwise.

    Args:
        rng: The value to check.
        name: The argument's name, for the message.

    Returns:
        ``rng``.

    Raises:
        TypeError: If ``rng`` is not a ``np.random.Generator`` (e.g. a seed,
            None or a legacy ``np.random.RandomState``).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy Generator, e.g. np.random.default_rng(seed), "
            f"got {rng!r} ({type(rng).__name__}).",
        )
    return rng


def check_vec_env(venv: Any, name: str = "venv") -> VecEnv:
    """Return ``venv`` if it is an SB3 ``VecEnv``; raise ``TypeError`` otherwise.

    Args:
        venv: The value to check.
        name: The argument's name, for the message.

    Returns:
        ``venv``.

    Raises:
        TypeError: If ``venv`` is not a ``VecEnv``; for a plain ``gym.Env`` the
            message says how to wrap it.
    """
    if isinstance(venv, VecEnv):
        return venv
    if isinstance(venv, gym.Env):
        raise TypeError(
            f"{name} must be a vectorised environment (a stable_baselines3 VecEnv), "
            f"got the plain gym.Env {venv!r}. Make one with "
            "imitation.util.util.make_vec_env(env_id, rng=...), or wrap the env: "
            "stable_baselines3.common.vec_env.DummyVecEnv([lambda: env]).",
        )
    raise TypeError(
        f"{name} must be a vectorised environment (a stable_baselines3 VecEnv, "
        "e.g. from imitation.util.util.make_vec_env), got "
        f"{type(venv).__name__}.",
    )


def is_transposed_image_space(policy_space: gym.Space, env_space: gym.Space) -> bool:
    """Whether ``policy_space`` is the channels-first version of ``env_space``.

    SB3 trains on channels-last images through ``VecTransposeImage``, so its
    image policies have the transposed space; such a policy acts in the
    channels-last environment once its observations are transposed.
    """
    return (
        isinstance(env_space, gym.spaces.Box)
        and preprocessing.is_image_space(env_space)
        and not preprocessing.is_image_space_channels_first(env_space)
        and VecTransposeImage.transpose_space(env_space) == policy_space
    )


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer; raise otherwise.

    Args:
        value: The value to check; numpy integers are accepted, bools are not.
        name: The argument's name, for the message.

    Returns:
        ``int(value)``.

    Raises:
        TypeError: If ``value`` is not an integer (e.g. a str or float).
        ValueError: If ``value`` is zero or negative.
    """
    if not isinstance(value, int | np.integer) or isinstance(value, bool | np.bool_):
        raise TypeError(
            f"{name} must be a positive int, got {value!r} ({type(value).__name__}).",
        )
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}.")
    return int(value)


def policy_to_dict(policy: policies.BasePolicy) -> dict[str, Any]:
    """The class, constructor arguments and weights of an SB3 policy.

    The learning-rate schedule is left out: it is often a lambda (which cannot
    be loaded safely) and a policy acting or trained by imitation does not use
    its own optimiser's schedule.
    """
    data = sb3_compat.policy_constructor_kwargs(policy)
    data.pop("lr_schedule", None)
    return {
        "policy_class": type(policy),
        "data": data,
        "state_dict": policy.state_dict(),
    }


def save_policy(policy: policies.BasePolicy, policy_path: AnyPath) -> None:
    """Save an SB3 policy atomically (see :func:`policy_to_dict`).

    ``imitation.algorithms.bc.reconstruct_policy`` loads it back, unpickling
    only library classes.
    """
    with atomic_write_path(policy_path) as tmp:
        th.save(policy_to_dict(policy), tmp)


def path_to_str(path: AnyPath) -> str:
    """Convert a path-like object to ``str`` (decoding ``bytes`` with UTF-8)."""
    if isinstance(path, bytes):
        return path.decode()
    return str(path)


def parse_path(
    path: AnyPath,
    allow_relative: bool = True,
    base_directory: pathlib.Path | None = None,
) -> pathlib.Path:
    """Turn a path-like into a ``pathlib.Path``, optionally resolved against a base.

    Args:
        path: The path to parse.
        allow_relative: If False, raise ``ValueError`` for a relative path.
        base_directory: Directory that a relative path is taken relative to.

    Returns:
        The parsed path.

    Raises:
        ValueError: If ``path`` is relative and relative paths are not allowed,
            or ``base_directory`` is given for an absolute path.
    """
    parsed = pathlib.Path(path_to_str(path))
    if base_directory is not None:
        if parsed.is_absolute():
            raise ValueError(
                f"base_directory was given but {parsed} is already absolute.",
            )
        parsed = base_directory / parsed
    if not allow_relative and not parsed.is_absolute():
        raise ValueError(f"Path {parsed} must be absolute.")
    return parsed


_CLEAR_SCREEN = "\033[2J\033[H"  # ANSI: erase the display, cursor to top-left.


def clear_screen() -> None:
    """Clear the terminal and move the cursor to its top-left corner.

    Writes the ANSI escape sequences for "erase display" and "cursor home" to
    standard output, which every modern terminal (including Windows 10+
    consoles) understands; no shell command is run.
    """
    sys.stdout.write(_CLEAR_SCREEN)
    sys.stdout.flush()


def docstring_parameter(*args: Any, **kwargs: Any) -> Callable[[T], T]:
    """A decorator that fills the placeholders of the decorated object's docstring.

    The docstring is treated as a ``str.format`` template, so ``{0}`` or
    ``{name}`` in it are replaced by the decorator's arguments; write ``{{`` and
    ``}}`` for literal braces. Useful when a docstring should quote a constant:
    decorated with ``@docstring_parameter(DEFAULT_SIZE)``, a function whose
    docstring says "size defaults to {0}" documents the constant's value.

    Args:
        args: Positional substitutions.
        kwargs: Named substitutions.

    Returns:
        The decorator; it returns the object it decorates, with the docstring
        formatted (an object without a docstring is returned unchanged).
    """

    def decorate(obj: T) -> T:
        doc = getattr(obj, "__doc__", None)
        if doc is not None:
            obj.__doc__ = doc.format(*args, **kwargs)
        return obj

    return decorate


def parse_optional_path(
    path: AnyPath | None,
    allow_relative: bool = True,
    base_directory: pathlib.Path | None = None,
) -> pathlib.Path | None:
    """Like :func:`parse_path`, but ``None`` passes through."""
    if path is None:
        return None
    return parse_path(path, allow_relative, base_directory)
