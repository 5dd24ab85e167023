"""Miscellaneous helpers: vectorised environments, seeding, tensors, paths."""

from __future__ import annotations

import contextlib
import datetime
import functools
import itertools
import os
import pathlib
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import monitor, policies
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from imitation.data.types import AnyPath

__all__ = [
    "atomic_write_path",
    "endless_iter",
    "get_first_iter_element",
    "make_seeds",
    "make_unique_timestamp",
    "make_vec_env",
    "oric",
    "parse_optional_path",
    "parse_path",
    "path_to_str",
    "policy_to_dict",
    "safe_to_numpy",
    "safe_to_tensor",
    "save_policy",
    "split_in_half",
    "tensor_iter_norm",
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


def make_unique_timestamp() -> str:
    """A timestamp (``YYYYmmdd_HHMMSS``) with a random suffix, unique per call."""
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    return f"{stamp}_{uuid.uuid4().hex[:6]}"


def make_seeds(
    rng: np.random.Generator,
    n: int | None = None,
) -> int | list[int]:
    """Draw seeds from ``rng``: one ``int`` if ``n`` is None, else a list of ``n``."""
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
        return SubprocVecEnv(env_fns, start_method="forkserver")
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
        return array.to(**kwargs) if kwargs else array
    if isinstance(array, np.ndarray) and not array.flags.writeable:
        array = array.copy()
    return th.as_tensor(array, **kwargs)


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


@contextlib.contextmanager
def atomic_write_path(path: AnyPath) -> Iterator[pathlib.Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Writers write to the yielded path; readers of ``path`` then see either the
    old file (or none) or the complete new one, never half a file. On an
    exception the temporary file (or directory) is removed.

    Args:
        path: Final destination (a file or a directory).

    Yields:
        The temporary path to write to (it does not exist yet).
    """
    final = parse_path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent),
    )
    tmp = tmp_dir / final.name
    try:
        yield tmp
        if final.is_dir() and not final.is_symlink():
            # os.replace cannot replace a non-empty directory: move the old one
            # aside first, then drop it once the new one is in place.
            old = tmp_dir / (final.name + ".old")
            os.replace(final, old)
            os.replace(tmp, final)
        else:
            os.replace(tmp, final)
    finally:
        _remove_tree(tmp_dir)


def _remove_tree(path: pathlib.Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def policy_to_dict(policy: policies.BasePolicy) -> dict[str, Any]:
    """The class, constructor arguments and weights of an SB3 policy.

    The learning-rate schedule is left out: it is often a lambda (which cannot
    be loaded safely) and a policy acting or trained by imitation does not use
    its own optimiser's schedule.
    """
    data = dict(policy._get_constructor_parameters())
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


def parse_optional_path(
    path: AnyPath | None,
    allow_relative: bool = True,
    base_directory: pathlib.Path | None = None,
) -> pathlib.Path | None:
    """Like :func:`parse_path`, but ``None`` passes through."""
    if path is None:
        return None
    return parse_path(path, allow_relative, base_directory)
