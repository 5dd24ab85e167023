"""Load and save policies: local SB3 files, the HuggingFace Hub, bundled experts.

``load_policy(policy_type, venv, **loader_kwargs)`` looks ``policy_type`` up in
``policy_registry`` and calls the loader with ``venv`` and the keyword
arguments. Registered types:

* ``"ppo"``, ``"sac"`` (and ``"a2c"``, ``"dqn"``, ``"td3"``): an SB3 zip file,
  ``path=`` a ``.zip`` or a directory holding ``model.zip``.
* ``"ppo-huggingface"``, ``"sac-huggingface"``: ``env_name=`` and optionally
  ``organization=`` (default ``"HumanCompatibleAI"``), downloaded from the Hub
  repository ``{organization}/{algo}-{env_name}`` (``/`` in the env name
  becomes ``-``), or read from the local Hub cache (:mod:`imitation.util.hub`).
  Where neither can be had and an expert trained with the same algorithm is
  bundled for the task, it stands in, and one logged line says so
  (:mod:`imitation.policies.hub_stand_in`).
* ``"bundled"``: ``env_name=``; an expert shipped inside this package (see
  :func:`bundled_expert_env_names`), for use offline.
* ``"random"``, ``"zero"``: hard-coded policies (``"random"`` takes ``rng=``).

Loading never unpickles arbitrary code: SB3 zips keep some entries (policy
class, spaces, schedules) as pickles, and they are decoded here with the
exact allow-list of :mod:`imitation.util.safe_pickle`. An entry that needs
anything else is refused: if the policy needs it (its class, spaces or
arguments) loading fails with :class:`PolicyLoadError`; if not (for example a
learning-rate schedule written as a function, as RL Zoo and most published
experts have), it is replaced by an inert stand-in, a warning says so, and the
model acts normally but refuses ``learn``. Pass ``allow_unsafe_pickle=True``
to a file loader to fall back on SB3's own loading for a file you trust.

VecNormalize statistics saved beside a zip (``vec_normalize.pkl``, or the RL
Zoo's ``vecnormalize.pkl``; on the Hub, ``vec_normalize.pkl`` in the model's
repository) are loaded the same way, and the file loaders return the policy
wrapped in :class:`~imitation.policies.base.NormalizedObsPolicy`, so it acts on
the environment's raw observations as the expert did on normalised ones.

Saving, and the readers of what is saved: :func:`save_stable_model` writes an
SB3 model's zip (:class:`SavePolicyCallback` does so during training), read by
the file loaders above; :func:`save_policy` writes a bare policy (its class,
arguments and weights), read by :func:`reconstruct_policy`. Those two are
defined in :mod:`imitation.util.policy_io` and keep their original names
``imitation.util.util.save_policy`` and ``imitation.algorithms.bc.reconstruct_policy``.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import os
import pathlib
import warnings
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common import base_class, callbacks, policies, vec_env

from imitation.policies.base import NormalizedObsPolicy, RandomPolicy, ZeroPolicy
from imitation.util import hub, registry, safe_pickle, sb3_compat, util
from imitation.util.hub import (  # noqa: F401 - public here since the first release
    HF_DEFAULT_ORGANIZATION,
    HubUnavailableError,
    hub_repo_and_filename,
)
from imitation.util.policy_io import reconstruct_policy, save_policy  # noqa: F401

logger = logging.getLogger(__name__)


PolicyLoaderFn = Callable[..., policies.BasePolicy]
"""A policy loader: called as ``loader(venv, **loader_kwargs)``, returns a policy."""

Algorithm = TypeVar("Algorithm", bound=base_class.BaseAlgorithm)
"""An SB3 algorithm class: :func:`load_stable_baselines_model` returns its type."""


class PolicyLoadError(ValueError):
    """A file could not be loaded as a policy (missing, corrupt or foreign)."""


policy_registry: registry.Registry[PolicyLoaderFn] = registry.Registry()
"""Loaders by policy type; add your own with ``policy_registry.register(name, fn)``."""


# --- Safe decoding of the pickled entries in SB3 zip files -------------------


class _InertSchedule:
    """Stands in for a schedule that was not unpickled: a constant, for acting only.

    SB3 calls the learning-rate schedule once while rebuilding the model (to
    make the optimiser); acting never uses schedules. Training with this
    stand-in would be wrong, so models holding one refuse ``learn``.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, progress_remaining: float) -> float:
        return 0.0

    def __repr__(self) -> str:
        return f"<inert stand-in for the schedule '{self.key}'>"


# Entries SB3 needs to rebuild the networks; refusing one of these is an error.
_REQUIRED_ENTRIES = (
    "policy_class",
    "observation_space",
    "action_space",
    "policy_kwargs",
)
# Entries SB3 calls as functions of the training progress.
_SCHEDULE_ENTRIES = (
    "learning_rate",
    "lr_schedule",
    "clip_range",
    "clip_range_vf",
    "exploration_schedule",
)


def _safe_custom_objects(
    data: dict[str, Any], path: pathlib.Path
) -> tuple[dict[str, Any], list[str]]:
    """Decode every pickled top-level entry of SB3 ``data`` without running code.

    Returns:
        The decoded entries (for SB3's ``custom_objects``), and the keys of
        entries that were refused and replaced: schedules by an inert
        constant, anything else not needed to act by None.
    """
    decoded: dict[str, Any] = {}
    replaced: list[str] = []
    for key, value in data.items():
        try:
            raw = sb3_compat.pickled_entry(value)
            if raw is None:
                continue
            decoded[key] = safe_pickle.safe_loads(raw)
            continue
        except safe_pickle.UnsafePickleError as exc:
            problem = str(exc)
        except Exception as exc:  # corrupt base64 or pickle stream
            problem = f"it is corrupt: {exc}"
        if key in _REQUIRED_ENTRIES:
            raise PolicyLoadError(
                f"{path}: entry '{key}': {problem}. If you trust the file, pass "
                "allow_unsafe_pickle=True (or register the class it needs with "
                "imitation.util.safe_pickle.register_safe_class).",
            )
        decoded[key] = _InertSchedule(key) if key in _SCHEDULE_ENTRIES else None
        replaced.append(key)
    return decoded, replaced


def _refuse_learning(
    model: base_class.BaseAlgorithm, path: pathlib.Path, replaced: list[str]
) -> None:
    """Make ``model.learn`` raise: entries it needs were not loaded."""
    message = (
        f"{path} was loaded for acting only: its entries {replaced} (e.g. "
        "learning-rate or clip-range schedules, which are code) were not "
        "unpickled. To continue training from this file, load it with "
        "allow_unsafe_pickle=True if you trust it."
    )

    sb3_compat.refuse_learn(model, lambda: PolicyLoadError(message))
    warnings.warn(message, UserWarning, stacklevel=3)


def _resolve_zip_path(path: str | os.PathLike) -> pathlib.Path:
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / "model.zip"
    if not p.exists():
        raise FileNotFoundError(
            f"No policy file at {p}: pass path= a SB3 .zip file or a directory "
            "containing model.zip.",
        )
    return p


def _read_sb3_data(path: pathlib.Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if infos and min(i.header_offset for i in infos) > 0:
                # The only intact archive found starts mid-file: the outer
                # archive was cut short and this is an entry stored inside it.
                raise zipfile.BadZipFile("the archive does not start at the file start")
            if not set(sb3_compat.SB3_ZIP_ENTRIES) <= set(archive.namelist()):
                raise PolicyLoadError(
                    f"{path} is a zip file but not a Stable-Baselines3 model (it "
                    "has no 'data' and 'policy.pth' entries). Save models with "
                    "model.save(...) or serialize.save_stable_model(...).",
                )
            return sb3_compat.read_zip_data(archive)
    except zipfile.BadZipFile as exc:
        raise PolicyLoadError(
            f"{path} is not a valid zip file (truncated or corrupt): {exc}",
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PolicyLoadError(f"{path}: the model's 'data' entry is corrupt.") from exc


def _check_spaces(
    policy: policies.BasePolicy, venv: vec_env.VecEnv, where: str
) -> None:
    for name in ("observation_space", "action_space"):
        got, want = getattr(policy, name), getattr(venv, name)
        if name == "observation_space" and util.is_transposed_image_space(got, want):
            continue  # An image policy: it sees the frames channels first.
        if got != want:
            raise ValueError(
                f"The policy from {where} has {name} {got}, but the environment "
                f"has {want}: load a policy trained on this environment.",
            )


def load_stable_baselines_model(
    cls: type[Algorithm],
    path: str | os.PathLike,
    venv: vec_env.VecEnv | None = None,
    *,
    allow_unsafe_pickle: bool = False,
    **kwargs: Any,
) -> Algorithm:
    """Load an SB3 algorithm from a zip file, without unpickling arbitrary code.

    Args:
        cls: The SB3 algorithm class (``PPO``, ``SAC``, ...).
        path: A ``.zip`` file, or a directory containing ``model.zip``.
        venv: Environment the policy will act in (its spaces must match the
            model's); it becomes the model's environment (``get_env()``), so
            the model can go on learning there.
        allow_unsafe_pickle: Let SB3 unpickle every entry (runs code from the
            file: only for files you trust).
        kwargs: Passed to ``cls.load``.

    Returns:
        The loaded algorithm.

    Raises:
        FileNotFoundError: If there is no such file.
        PolicyLoadError: If the file is corrupt, not an SB3 model, or needs
            classes outside the allow-list.
        ValueError: If the model's spaces differ from ``venv``'s.
    """
    zip_path = _resolve_zip_path(path)
    data = _read_sb3_data(zip_path)
    replaced: list[str] = []
    if not allow_unsafe_pickle:
        custom, replaced = _safe_custom_objects(data, zip_path)
        kwargs["custom_objects"] = {**custom, **kwargs.get("custom_objects", {})}
    try:
        model = cls.load(zip_path, device=kwargs.pop("device", "cpu"), **kwargs)
    except Exception as exc:  # corrupt weights, foreign entries, torch errors
        raise PolicyLoadError(
            f"{zip_path} could not be loaded as {cls.__name__} (its weights or "
            f"entries are corrupt or not of this algorithm): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
        ) from exc
    if venv is not None:
        _check_spaces(model.policy, venv, str(zip_path))
        # Attach the environment, so that the model can go on learning there.
        # ``set_env`` needs the saved number of environments; for another
        # number SB3 rebuilds its buffers only when loading with the env.
        if model.n_envs == venv.num_envs:
            model.set_env(venv)
        else:
            model = cls.load(zip_path, env=venv, device=model.device, **kwargs)
    if replaced:
        _refuse_learning(model, zip_path, replaced)
    return model


# Where SB3 (and the Hub) and the RL Zoo keep VecNormalize statistics.
VEC_NORMALIZE_FILENAMES = ("vec_normalize.pkl", "vecnormalize.pkl")


def load_vec_normalize(path: str | os.PathLike) -> vec_env.VecNormalize:
    """Load VecNormalize statistics saved by SB3's ``VecNormalize.save``.

    Decoded with the allow-list unpickler (``VecNormalize`` and its running
    statistics are the only extra classes allowed); the result has no
    environment attached and is meant for :class:`NormalizedObsPolicy`.

    Raises:
        PolicyLoadError: If the file is corrupt, not VecNormalize statistics,
            or needs other classes.
    """
    try:
        stats = safe_pickle.safe_loads(
            pathlib.Path(path).read_bytes(), extra_classes=[vec_env.VecNormalize]
        )
    except (safe_pickle.UnsafePickleError, safe_pickle.CorruptFileError) as exc:
        raise PolicyLoadError(
            f"{path} is not readable VecNormalize statistics: {exc}"
        ) from exc
    if not isinstance(stats, vec_env.VecNormalize):
        raise PolicyLoadError(
            f"{path} holds a {type(stats).__name__}, not VecNormalize statistics."
        )
    return stats


def _with_saved_normalization(
    policy: policies.BasePolicy, zip_path: pathlib.Path, venv: vec_env.VecEnv
) -> policies.BasePolicy:
    """Wrap ``policy`` in the VecNormalize statistics saved beside ``zip_path``."""
    for name in VEC_NORMALIZE_FILENAMES:
        stats_path = zip_path.parent / name
        if stats_path.is_file():
            stats = load_vec_normalize(stats_path)
            if stats.observation_space != venv.observation_space:
                raise ValueError(
                    f"The VecNormalize statistics in {stats_path} are for "
                    f"observations {stats.observation_space}, but the environment "
                    f"has {venv.observation_space}.",
                )
            return NormalizedObsPolicy(policy, stats)
    return policy


def _file_loader(cls: type[base_class.BaseAlgorithm]) -> PolicyLoaderFn:
    def load(
        venv: vec_env.VecEnv,
        path: str | os.PathLike,
        allow_unsafe_pickle: bool = False,
    ) -> policies.BasePolicy:
        model = load_stable_baselines_model(
            cls, path, venv, allow_unsafe_pickle=allow_unsafe_pickle
        )
        return _with_saved_normalization(model.policy, _resolve_zip_path(path), venv)

    load.__doc__ = (
        f"Load a {cls.__name__} policy from ``path`` (zip or directory); "
        "VecNormalize statistics saved beside it are applied to observations."
    )
    return load


# --- HuggingFace Hub ----------------------------------------------------------


def bundled_stand_in_record(
    algo: str, env_name: str, organization: str
) -> dict[str, Any] | None:
    """The record of the bundled expert that can stand in for a Hub repository.

    See :mod:`imitation.policies.hub_stand_in`.

    Args:
        algo: The algorithm in the repository's name, e.g. ``"ppo"``.
        env_name: The environment id (a ``seals:`` import prefix is accepted).
        organization: The Hub organization of the repository.

    Returns:
        The bundled expert's training record, or None if no expert trained
        with ``algo`` on that task is bundled, or ``organization`` is not the
        one that publishes the benchmark's experts (``HumanCompatibleAI``).
    """
    if organization != HF_DEFAULT_ORGANIZATION:
        return None
    try:
        return bundled_expert_record(env_name.split(":")[-1], algo)
    except KeyError:
        return None


def stand_in_note(repo_id: str, what: str) -> None:
    """Log the one line saying a bundled expert stands in for ``repo_id``."""
    logger.warning(
        "The HuggingFace Hub cannot be reached: serving the %s of %s from the "
        "expert bundled with imitation.",
        what,
        repo_id,
    )


def _hub_loader(cls: type[base_class.BaseAlgorithm], algo: str) -> PolicyLoaderFn:
    def load(
        venv: vec_env.VecEnv,
        env_name: str,
        organization: str = HF_DEFAULT_ORGANIZATION,
        allow_unsafe_pickle: bool = False,
    ) -> policies.BasePolicy:
        repo_id, filename = hub.hub_repo_and_filename(algo, env_name, organization)
        try:
            path = hub.hub_download(repo_id, filename)
        except hub.HubUnavailableError:
            if bundled_stand_in_record(algo, env_name, organization) is None:
                raise
            stand_in_note(repo_id, "expert")
            return load_bundled_expert(venv, env_name, algo)
        hub.hub_fetch_optional(repo_id, VEC_NORMALIZE_FILENAMES[0])
        model = load_stable_baselines_model(
            cls, path, venv, allow_unsafe_pickle=allow_unsafe_pickle
        )
        return _with_saved_normalization(model.policy, pathlib.Path(path), venv)

    load.__doc__ = (
        f"Load a {cls.__name__} policy from the HuggingFace Hub (or its local "
        "cache). Where neither can be had and imitation bundles a "
        f"{cls.__name__} expert for the task, that expert stands in (see "
        ":mod:`imitation.policies.hub_stand_in`)."
    )
    return load


# --- Bundled experts ------------------------------------------------------------

_ALGOS: dict[str, type[base_class.BaseAlgorithm]] = {
    "a2c": A2C,
    "dqn": DQN,
    "ppo": PPO,
    "sac": SAC,
    "td3": TD3,
}


def bundled_expert_filename(env_id: str, algo: str | None = None) -> str:
    """File stem of a bundled expert for ``env_id`` (``/`` becomes ``-``).

    A task's main expert is ``<env>``; further experts for the same task,
    trained with other algorithms, are ``<algo>-<env>``.
    """
    stem = env_id.replace("/", "-")
    return stem if algo is None else f"{algo}-{stem}"


def _bundled_dir() -> importlib.resources.abc.Traversable:
    return importlib.resources.files("imitation.policies") / "bundled"


def _bundled_records() -> list[tuple[str, dict[str, Any]]]:
    """``(file stem, training record)`` of every bundled expert."""
    return sorted(
        (f.name.removesuffix(".json"), json.loads(f.read_text()))
        for f in _bundled_dir().iterdir()
        if f.name.endswith(".json")
    )


def bundled_expert_env_names() -> list[str]:
    """Environment ids that have an expert bundled with the package."""
    return sorted({record["env_id"] for _, record in _bundled_records()})


def bundled_expert_algos(env_name: str) -> list[str]:
    """The algorithms of the experts bundled for ``env_name``, the main one first."""
    main = bundled_expert_filename(env_name.removeprefix("seals:"))
    found = sorted(
        (stem != main, record["algo"])  # the main expert (False) sorts first
        for stem, record in _bundled_records()
        if bundled_expert_filename(record["env_id"]) == main
    )
    return [algo for _, algo in found]


def _bundled_stem(env_name: str, algo: str | None) -> tuple[str, dict[str, Any]]:
    """The file stem and record of a bundled expert (see ``bundled_expert_record``)."""
    env_id = env_name.removeprefix("seals:")
    records = dict(_bundled_records())
    candidates = [bundled_expert_filename(env_id)]
    if algo is not None:
        candidates.append(bundled_expert_filename(env_id, algo))
    for stem in candidates:
        record = records.get(stem)
        if record is not None and algo in (None, record["algo"]):
            return stem, record
    if not bundled_expert_algos(env_id):
        raise KeyError(
            f"No bundled expert for {env_name!r}; bundled experts: "
            f"{bundled_expert_env_names()}.",
        )
    raise KeyError(
        f"No {algo} expert is bundled for {env_name!r}; its bundled experts: "
        f"{bundled_expert_algos(env_id)}.",
    )


def bundled_expert_record(env_name: str, algo: str | None = None) -> dict[str, Any]:
    """The training record (algorithm, seed, hyperparameters, evaluation) of an expert.

    Args:
        env_name: Environment id (a ``seals:`` prefix is accepted).
        algo: The expert's algorithm (e.g. ``"ppo"``); None for the task's
            main expert.

    Raises:
        KeyError: If no expert (of ``algo``) is bundled for ``env_name``.
    """
    return _bundled_stem(env_name, algo)[1]


def bundled_expert_file(
    env_name: str, algo: str | None = None
) -> importlib.resources.abc.Traversable:
    """The SB3 zip of a bundled expert (arguments as for ``bundled_expert_record``).

    Raises:
        KeyError: If no expert (of ``algo``) is bundled for ``env_name``.
    """
    return _bundled_dir() / f"{_bundled_stem(env_name, algo)[0]}.zip"


def load_bundled_expert(
    venv: vec_env.VecEnv, env_name: str, algo: str | None = None
) -> policies.BasePolicy:
    """Load an expert bundled for ``env_name`` (e.g. ``"seals/CartPole-v0"``).

    Args:
        venv: The environment the expert will act in.
        env_name: Environment id, with or without a ``seals:`` prefix;
            ``seals-CartPole-v0`` (Hub style) is accepted too.
        algo: The expert's algorithm, for a task with several bundled experts
            (:func:`bundled_expert_algos`); None for its main expert.

    Returns:
        The expert policy.

    Raises:
        KeyError: If no expert (of ``algo``) is bundled for ``env_name``.
        ValueError: If ``venv``'s spaces differ from the expert's.
    """
    record = bundled_expert_record(env_name, algo)
    with importlib.resources.as_file(bundled_expert_file(env_name, algo)) as path:
        model = load_stable_baselines_model(_ALGOS[record["algo"]], path, venv)
    return model.policy


for _name, _cls in _ALGOS.items():
    policy_registry.register(_name, _file_loader(_cls))
policy_registry.register("ppo-huggingface", _hub_loader(PPO, "ppo"))
policy_registry.register("sac-huggingface", _hub_loader(SAC, "sac"))
policy_registry.register("bundled", load_bundled_expert)
policy_registry.register("random", registry.build_loader_fn_require_space(RandomPolicy))
policy_registry.register("zero", registry.build_loader_fn_require_space(ZeroPolicy))


def load_policy(
    policy_type: str,
    venv: vec_env.VecEnv,
    **loader_kwargs: Any,
) -> policies.BasePolicy:
    """Load a policy of a registered type (see the module docstring).

    Args:
        policy_type: A key of ``policy_registry``.
        venv: The environment the policy will act in.
        loader_kwargs: Passed to the loader (e.g. ``path=``, ``env_name=``).

    Returns:
        The policy.

    Raises:
        KeyError: If ``policy_type`` is not registered.
    """
    loader = policy_registry.get(policy_type)
    return loader(venv, **loader_kwargs)


def save_stable_model(
    output_dir: str | os.PathLike,
    model: base_class.BaseAlgorithm,
    filename: str = "model.zip",
) -> None:
    """Save ``model`` to ``output_dir/filename`` atomically (SB3 zip format)."""
    os.makedirs(output_dir, exist_ok=True)
    with util.atomic_write_path(pathlib.Path(output_dir) / filename) as tmp:
        model.save(tmp)


class SavePolicyCallback(callbacks.EventCallback):
    """Save the model to ``policy_dir/<num_timesteps, 12 digits>/model.zip``.

    Use with an ``EveryNTimesteps`` callback to checkpoint during training.
    """

    def __init__(
        self, policy_dir: str | os.PathLike, *args: Any, **kwargs: Any
    ) -> None:
        """Make the callback; extra arguments go to ``EventCallback``."""
        super().__init__(*args, **kwargs)
        self.policy_dir = pathlib.Path(policy_dir)

    def _on_step(self) -> bool:
        save_stable_model(self.policy_dir / f"{self.num_timesteps:012d}", self.model)
        return True
