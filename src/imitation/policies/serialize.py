"""Load and save policies: local SB3 files, the HuggingFace Hub, bundled experts.

``load_policy(policy_type, venv, **loader_kwargs)`` looks ``policy_type`` up in
``policy_registry`` and calls the loader with ``venv`` and the keyword
arguments. Registered types:

* ``"ppo"``, ``"sac"`` (and ``"a2c"``, ``"dqn"``, ``"td3"``): an SB3 zip file,
  ``path=`` a ``.zip`` or a directory holding ``model.zip``.
* ``"ppo-huggingface"``, ``"sac-huggingface"``: ``env_name=`` and optionally
  ``organization=`` (default ``"HumanCompatibleAI"``), downloaded from the Hub
  repository ``{organization}/{algo}-{env_name}`` (``/`` in the env name
  becomes ``-``), or read from the local Hub cache.
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
"""

from __future__ import annotations

import base64
import contextlib
import importlib.resources
import json
import os
import pathlib
import socket
import urllib.parse
import warnings
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common import base_class, callbacks, policies, vec_env

from imitation.policies.base import NormalizedObsPolicy, RandomPolicy, ZeroPolicy
from imitation.util import registry, safe_pickle, util

HF_DEFAULT_ORGANIZATION = "HumanCompatibleAI"


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
        if not (isinstance(value, dict) and ":serialized:" in value):
            continue
        try:
            raw = base64.b64decode(value[":serialized:"].encode())
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

    def learn(*args: Any, **kwargs: Any) -> Any:
        raise PolicyLoadError(message)

    model.__dict__["learn"] = learn
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
            names = archive.namelist()
            if "data" not in names or "policy.pth" not in names:
                raise PolicyLoadError(
                    f"{path} is a zip file but not a Stable-Baselines3 model (it "
                    "has no 'data' and 'policy.pth' entries). Save models with "
                    "model.save(...) or serialize.save_stable_model(...).",
                )
            return json.loads(archive.read("data"))
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


def hub_repo_and_filename(
    algo: str, env_name: str, organization: str
) -> tuple[str, str]:
    """Hub repository id and file name of an SB3 model, by the Hub's convention.

    ``("ppo", "seals/CartPole-v0", "HumanCompatibleAI")`` gives
    ``("HumanCompatibleAI/ppo-seals-CartPole-v0", "ppo-seals-CartPole-v0.zip")``.
    """
    model_name = f"{algo}-{env_name.replace('/', '-')}"
    return f"{organization}/{model_name}", f"{model_name}.zip"


class HubUnavailableError(OSError):
    """A model or dataset is neither in the local Hub cache nor downloadable."""


def _hub_fetch(what: str, fetch: Callable[[bool], str], advice: str) -> str:
    """Find an object in the local Hub cache, else download it if the Hub is reachable.

    The cache is tried first; then, unless ``HF_HUB_OFFLINE`` is set or the
    Hub's host name does not resolve (both checked at once, without waiting
    on timeouts), the download.

    Args:
        what: Names the object in error messages, e.g. ``"org/repo/file.zip"``.
        fetch: Called with ``local_files_only``; returns the local path. With
            True it must raise ``LocalEntryNotFoundError`` for a cache miss.
        advice: What to do instead, appended to error messages.

    Returns:
        The path returned by ``fetch``.

    Raises:
        HubUnavailableError: If the object is not cached and cannot be
            downloaded.
    """
    import huggingface_hub
    from huggingface_hub import constants

    try:
        return fetch(True)
    except huggingface_hub.errors.LocalEntryNotFoundError:
        pass
    if constants.HF_HUB_OFFLINE:
        raise HubUnavailableError(
            f"{what} is not in the local Hub cache and HF_HUB_OFFLINE is set. {advice}",
        )
    host = urllib.parse.urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError as exc:
        raise HubUnavailableError(
            f"Cannot reach the HuggingFace Hub ({host}: {exc}) and {what} is not "
            f"in the local cache. {advice}",
        ) from exc
    try:
        return fetch(False)
    except (huggingface_hub.errors.HfHubHTTPError, OSError) as exc:
        raise HubUnavailableError(
            f"Could not download {what}: {exc}. {advice}"
        ) from exc


def _hub_download(repo_id: str, filename: str) -> str:
    """Download (or find in the cache) one file of a Hub model repository."""
    import huggingface_hub

    advice = (
        "Without network access, use an expert bundled with imitation, "
        "load_policy('bundled', venv, env_name=...), or a local file, "
        "load_policy('ppo', venv, path='path/to/model.zip')."
    )

    def fetch(local_files_only: bool) -> str:
        return huggingface_hub.hf_hub_download(
            repo_id=repo_id, filename=filename, local_files_only=local_files_only
        )

    return _hub_fetch(f"{repo_id}/{filename}", fetch, advice)


def _hub_fetch_optional(repo_id: str, filename: str) -> None:
    """Bring a file the repository may not have into the cache, where reachable."""
    # Not in this repository, or not reachable: there is nothing to apply.
    with contextlib.suppress(HubUnavailableError):
        _hub_download(repo_id, filename)


def _hub_loader(cls: type[base_class.BaseAlgorithm], algo: str) -> PolicyLoaderFn:
    def load(
        venv: vec_env.VecEnv,
        env_name: str,
        organization: str = HF_DEFAULT_ORGANIZATION,
        allow_unsafe_pickle: bool = False,
    ) -> policies.BasePolicy:
        repo_id, filename = hub_repo_and_filename(algo, env_name, organization)
        try:
            path = _hub_download(repo_id, filename)
        except HubUnavailableError:
            from imitation.policies import hub_stand_in

            if hub_stand_in.bundled_stand_in_record(algo, env_name, organization):
                hub_stand_in.stand_in_note(repo_id, "expert")
                return load_bundled_expert(venv, env_name)
            raise
        _hub_fetch_optional(repo_id, VEC_NORMALIZE_FILENAMES[0])
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


def bundled_expert_filename(env_id: str) -> str:
    """File stem of the bundled expert for ``env_id`` (``/`` becomes ``-``)."""
    return env_id.replace("/", "-")


def _bundled_dir() -> importlib.resources.abc.Traversable:
    return importlib.resources.files("imitation.policies") / "bundled"


def bundled_expert_env_names() -> list[str]:
    """Environment ids that have an expert bundled with the package."""
    records = [f for f in _bundled_dir().iterdir() if f.name.endswith(".json")]
    return sorted(json.loads(f.read_text())["env_id"] for f in records)


def bundled_expert_record(env_name: str) -> dict[str, Any]:
    """The training record (algorithm, seed, hyperparameters, evaluation) of an expert.

    Raises:
        KeyError: If no expert is bundled for ``env_name``.
    """
    stem = bundled_expert_filename(env_name.removeprefix("seals:"))
    record_file = _bundled_dir() / f"{stem}.json"
    if not record_file.is_file():
        raise KeyError(
            f"No bundled expert for {env_name!r}; bundled experts: "
            f"{bundled_expert_env_names()}.",
        )
    return json.loads(record_file.read_text())


def load_bundled_expert(venv: vec_env.VecEnv, env_name: str) -> policies.BasePolicy:
    """Load the expert bundled for ``env_name`` (e.g. ``"seals/CartPole-v0"``).

    Args:
        venv: The environment the expert will act in.
        env_name: Environment id, with or without a ``seals:`` prefix;
            ``seals-CartPole-v0`` (Hub style) is accepted too.

    Returns:
        The expert policy.

    Raises:
        KeyError: If no expert is bundled for ``env_name``.
        ValueError: If ``venv``'s spaces differ from the expert's.
    """
    record = bundled_expert_record(env_name)
    stem = bundled_expert_filename(record["env_id"])
    with importlib.resources.as_file(_bundled_dir() / f"{stem}.zip") as path:
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
