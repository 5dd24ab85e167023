"""A local HuggingFace Hub cache holding the bundled experts and their demonstrations.

Code that loads experts (``load_policy("ppo-huggingface", ...)``) or
demonstrations (``huggingface_utils.load_rollouts_from_huggingface``) from the
Hub looks in the local Hub cache first. :func:`populate_hub_cache`
writes, for each expert bundled with imitation, the model repository and a
dataset repository of its demonstrations into a cache directory, in the Hub's
own on-disk layout::

    <cache_dir>/
        models--HumanCompatibleAI--ppo-seals-CartPole-v0/
            refs/main                      (the commit hash)
            blobs/<sha256>                 (file contents)
            snapshots/<commit>/ppo-seals-CartPole-v0.zip -> ../../blobs/<sha256>
        datasets--HumanCompatibleAI--ppo-seals-CartPole-v0/
            refs/main
            blobs/<sha256>
            snapshots/<commit>/data/train-00000-of-00001.parquet -> ...

so the real ``huggingface_hub.hf_hub_download`` and
``huggingface_hub.snapshot_download`` find them, also with
``local_files_only=True`` or ``HF_HUB_OFFLINE=1``, and the real loading code
runs without network access.

``datasets.load_dataset("HumanCompatibleAI/ppo-CartPole-v1")`` (as the
tutorials call it) does not read the Hub cache when offline: it looks for the
dataset as the ``datasets`` library caches a loaded one, in its own cache
(``HF_DATASETS_CACHE``, by default ``~/.cache/huggingface/datasets``). Given
``datasets_cache_dir``, :func:`populate_hub_cache` also writes each
demonstration dataset there, in that layout
(``<datasets_cache_dir>/HumanCompatibleAI___ppo-cart_pole-v1/default/0.0.0/<commit>/``),
so that call works offline too; the command line does so by default, into the
``datasets`` cache of its environment. Snapshot files are relative symbolic links to
the blobs, as the Hub client makes them (copies where links are not
supported).

Pointing the Hub client at the cache:

* In a new process (a subprocess, a shell, CI): set the environment variable
  ``HF_HUB_CACHE=<cache_dir>`` (or ``HF_HOME=<dir>`` with the cache at
  ``<dir>/hub``; ``HF_HUB_CACHE`` wins if both are set). ``huggingface_hub``
  reads these once, when it is first imported, so they must be set before
  that; setting them later in a running process has no effect. Add
  ``HF_HUB_OFFLINE=1`` to forbid any network access (also read at import).
* In a running process: ``hf_hub_download`` and ``snapshot_download`` read
  the module attribute ``huggingface_hub.constants.HF_HUB_CACHE`` at each call
  (when not given ``cache_dir=``), so setting that attribute works (it is the
  same object as ``huggingface_hub.file_download.constants``);
  ``huggingface_hub.constants.HF_HUB_OFFLINE`` likewise switches offline mode.
  :func:`use_hub_cache` does both and restores them afterwards.

From the command line (used by tests and CI to run documented commands
offline)::

    python -m imitation.testing.hub_cache /tmp/hub-cache --n-episodes 10
    HF_HUB_CACHE=/tmp/hub-cache HF_HUB_OFFLINE=1 python my_script.py

(add ``--datasets-cache DIR`` and ``HF_DATASETS_CACHE=DIR`` to keep the
``datasets`` cache elsewhere than its default).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence

import datasets
import numpy as np

from imitation.data import huggingface_utils, types
from imitation.policies import serialize as policy_serialize
from imitation.testing import expert_trajectories

__all__ = [
    "DATASET_FILENAME",
    "populate_hub_cache",
    "use_hub_cache",
    "write_cached_repo",
    "write_datasets_cache",
]

DATASET_FILENAME = "data/train-00000-of-00001.parquet"
"""Where a dataset repository keeps its ``train`` split, as the Hub names it."""

_REPO_TYPES = ("model", "dataset")


def _repo_folder(cache_dir: pathlib.Path, repo_id: str, repo_type: str) -> pathlib.Path:
    """The cache folder of a repository: ``<models|datasets>--Org--name``."""
    if repo_type not in _REPO_TYPES:
        raise ValueError(f"repo_type must be one of {_REPO_TYPES}, not {repo_type!r}.")
    return cache_dir / "--".join([f"{repo_type}s", *repo_id.split("/")])


def _write_atomically(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def write_cached_repo(
    cache_dir: str | os.PathLike,
    repo_id: str,
    files: Mapping[str, bytes],
    repo_type: str = "model",
) -> pathlib.Path:
    """Write a repository into a Hub cache, as if downloaded from the Hub.

    The commit hash is derived from the contents, so writing the same files
    again gives the same snapshot; ``refs/main`` points at the latest write.

    Args:
        cache_dir: The Hub cache directory (what ``HF_HUB_CACHE`` names).
        repo_id: The repository id, ``"Org/name"``.
        files: Contents by path inside the repository (``/``-separated).
        repo_type: ``"model"`` or ``"dataset"``.

    Returns:
        The snapshot folder (what ``snapshot_download`` returns).

    Raises:
        ValueError: If ``repo_type`` is unknown, ``repo_id`` is not of the form
            ``"Org/name"`` or a file path leaves the repository.
    """
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"repo_id must look like 'Org/name', not {repo_id!r}.")
    repo_dir = _repo_folder(pathlib.Path(cache_dir), repo_id, repo_type)
    blob_names = {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items()
    }
    commit = hashlib.sha1(
        "\n".join(f"{n}\0{h}" for n, h in sorted(blob_names.items())).encode()
    ).hexdigest()
    snapshot = repo_dir / "snapshots" / commit
    for name, data in files.items():
        parts = pathlib.PurePosixPath(name).parts
        if not parts or ".." in parts or pathlib.PurePosixPath(name).is_absolute():
            raise ValueError(f"File path {name!r} is not inside the repository.")
        blob = repo_dir / "blobs" / blob_names[name]
        if not blob.is_file():
            _write_atomically(blob, data)
        target = snapshot.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        try:
            target.symlink_to(os.path.relpath(blob, target.parent))
        except OSError:  # no symlinks here (e.g. Windows without privileges)
            shutil.copyfile(blob, target)
    _write_atomically(repo_dir / "refs" / "main", commit.encode())
    return snapshot


def _dataset_parquet(trajectories: Sequence[types.Trajectory]) -> bytes:
    dataset = huggingface_utils.trajectories_to_dataset(trajectories)
    bars_were_enabled = not datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "train.parquet"
            dataset.to_parquet(str(path))
            return path.read_bytes()
    finally:
        if bars_were_enabled:
            datasets.utils.enable_progress_bars()


def write_datasets_cache(
    datasets_cache_dir: str | os.PathLike,
    repo_id: str,
    snapshot: pathlib.Path,
) -> pathlib.Path:
    """Cache a Hub dataset repository's ``train`` split as ``datasets`` would.

    Converts :data:`DATASET_FILENAME` of ``snapshot`` with the ``datasets``
    library's own parquet builder into the folder where ``load_dataset``
    keeps a dataset it loaded from the Hub, named after ``repo_id`` and the
    snapshot's commit, so ``datasets.load_dataset(repo_id)`` finds it when
    offline.

    Args:
        datasets_cache_dir: The ``datasets`` cache (what ``HF_DATASETS_CACHE``
            names).
        repo_id: The dataset repository id, ``"Org/name"``.
        snapshot: The repository's snapshot folder, as returned by
            :func:`write_cached_repo`.

    Returns:
        The cached dataset's folder.

    Raises:
        ValueError: If ``repo_id`` is not of the form ``"Org/name"``.
    """
    from datasets.packaged_modules.parquet import parquet

    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"repo_id must look like 'Org/name', not {repo_id!r}.")
    namespace, name = repo_id.split("/")
    # The folder datasets derives from the repository id, config, version and
    # revision (see datasets.packaged_modules.cache).
    target = (
        pathlib.Path(datasets_cache_dir)
        / f"{namespace}___{datasets.naming.camelcase_to_snakecase(name)}"
        / "default"
        / "0.0.0"
        / snapshot.name
    )
    bars_were_enabled = not datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            builder = parquet.Parquet(
                cache_dir=tmp,
                dataset_name=name,
                config_name="default",
                data_files={"train": str(snapshot / DATASET_FILENAME)},
            )
            builder.download_and_prepare(output_dir=str(target))
    finally:
        if bars_were_enabled:
            datasets.utils.enable_progress_bars()
    return target


def populate_hub_cache(
    cache_dir: str | os.PathLike,
    env_names: Sequence[str] | None = None,
    n_episodes: int = 10,
    organization: str = policy_serialize.HF_DEFAULT_ORGANIZATION,
    seed: int = 0,
    datasets_cache_dir: str | os.PathLike | None = None,
) -> list[str]:
    """Write the bundled experts and their demonstrations into a Hub cache.

    For each expert bundled for each environment (a task may have several,
    trained with different algorithms), writes the model repository
    ``{organization}/{algo}-{env}`` holding ``{algo}-{env}.zip`` (the bundled
    expert; its training record gives the algorithm) and the dataset
    repository of the same id holding :data:`DATASET_FILENAME`, a parquet
    file of ``n_episodes`` episodes sampled from that expert, one per row (see
    :mod:`imitation.data.huggingface_utils`). See the module docstring for
    how to point the Hub client at ``cache_dir``.

    Args:
        cache_dir: The Hub cache directory; created if missing.
        env_names: Environments with a bundled expert; default all of them
            (:func:`~imitation.policies.serialize.bundled_expert_env_names`).
        n_episodes: Episodes per demonstration dataset.
        organization: Hub organization of the repositories.
        seed: Seeds the sampling of the demonstrations.
        datasets_cache_dir: If given, also write each demonstration dataset
            into this ``datasets`` cache (:func:`write_datasets_cache`), so
            ``datasets.load_dataset(repo_id)`` works offline with
            ``HF_DATASETS_CACHE`` naming it.

    Returns:
        The ids of the repositories written (each a model and a dataset).

    Raises:
        KeyError: If an environment has no bundled expert.
        ValueError: If ``n_episodes`` is not positive.
    """
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be positive, not {n_episodes}.")
    if env_names is None:
        env_names = policy_serialize.bundled_expert_env_names()
    rng = np.random.default_rng(seed)
    repo_ids = []
    for env_name in env_names:
        for algo in policy_serialize.bundled_expert_algos(env_name):
            record = policy_serialize.bundled_expert_record(env_name, algo)
            env_id = record["env_id"]
            repo_id, filename = policy_serialize.hub_repo_and_filename(
                algo, env_id, organization
            )
            model = policy_serialize.bundled_expert_file(env_id, algo).read_bytes()
            write_cached_repo(cache_dir, repo_id, {filename: model})
            trajectories = expert_trajectories.generate_expert_trajectories(
                env_id, n_episodes, rng, algo=algo
            )
            snapshot = write_cached_repo(
                cache_dir,
                repo_id,
                {DATASET_FILENAME: _dataset_parquet(trajectories)},
                repo_type="dataset",
            )
            if datasets_cache_dir is not None:
                write_datasets_cache(datasets_cache_dir, repo_id, snapshot)
            repo_ids.append(repo_id)
    return repo_ids


@contextlib.contextmanager
def use_hub_cache(
    cache_dir: str | os.PathLike, offline: bool | None = None
) -> Iterator[None]:
    """Point the Hub client of this process at ``cache_dir`` while in the block.

    Sets ``huggingface_hub.constants.HF_HUB_CACHE`` (and, if ``offline`` is
    given, ``HF_HUB_OFFLINE``), which the Hub client reads at each call, and
    restores them on exit. For other processes set the ``HF_HUB_CACHE``
    environment variable instead (see the module docstring).

    Args:
        cache_dir: The Hub cache directory.
        offline: If given, the offline mode to use in the block.

    Yields:
        Nothing; the settings hold until the block exits.
    """
    from huggingface_hub import constants

    saved = constants.HF_HUB_CACHE, constants.HF_HUB_OFFLINE
    constants.HF_HUB_CACHE = str(cache_dir)
    if offline is not None:
        constants.HF_HUB_OFFLINE = offline
    try:
        yield
    finally:
        constants.HF_HUB_CACHE, constants.HF_HUB_OFFLINE = saved


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m imitation.testing.hub_cache DIR``.

    Args:
        argv: The arguments (default ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(
        prog="python -m imitation.testing.hub_cache",
        description=(
            "Write the bundled experts and demonstrations sampled from them "
            "into a HuggingFace Hub cache directory, so Hub loading works "
            "offline with HF_HUB_CACHE=<cache_dir>."
        ),
    )
    parser.add_argument("cache_dir", type=pathlib.Path, help="Hub cache directory.")
    parser.add_argument(
        "--env",
        action="append",
        dest="env_names",
        metavar="ENV_ID",
        help="Environment with a bundled expert (repeatable; default: all).",
    )
    parser.add_argument("--n-episodes", type=int, default=10)
    parser.add_argument(
        "--organization", default=policy_serialize.HF_DEFAULT_ORGANIZATION
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--datasets-cache",
        type=pathlib.Path,
        default=pathlib.Path(datasets.config.HF_DATASETS_CACHE),
        help=(
            "Also write the demonstrations into this `datasets` cache, so "
            "datasets.load_dataset(repo_id) works offline (default: this "
            "environment's, %(default)s)."
        ),
    )
    args = parser.parse_args(argv)
    repo_ids = populate_hub_cache(
        args.cache_dir,
        env_names=args.env_names,
        n_episodes=args.n_episodes,
        organization=args.organization,
        seed=args.seed,
        datasets_cache_dir=args.datasets_cache,
    )
    for repo_id in repo_ids:
        print(f"wrote model and dataset {repo_id}")
    print(
        f"Use it with: HF_HUB_CACHE={args.cache_dir.resolve()} "
        f"HF_DATASETS_CACHE={args.datasets_cache.resolve()}",
    )


if __name__ == "__main__":
    main()
