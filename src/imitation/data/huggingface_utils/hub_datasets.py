"""Expert demonstrations published as datasets on the HuggingFace Hub."""

from __future__ import annotations

from typing import Any

import datasets

from imitation.data.huggingface_utils.reading import TrajectoryDatasetSequence
from imitation.util import hub
from imitation.util.hub import HF_DEFAULT_ORGANIZATION

__all__ = ["hub_dataset_repo_id", "load_rollouts_from_huggingface"]


def hub_dataset_repo_id(
    algo_name: str, env_name: str, organization: str = HF_DEFAULT_ORGANIZATION
) -> str:
    """Hub id of the dataset of demonstrations by an expert.

    ``("ppo", "seals/CartPole-v0")`` gives
    ``"HumanCompatibleAI/ppo-seals-CartPole-v0"``: the id of the expert's model
    repository too, but the demonstrations are in a *dataset* repository. A
    gym import prefix (``"seals:seals/CartPole-v0"``) is dropped.

    Args:
        algo_name: The expert's algorithm, e.g. ``"ppo"``.
        env_name: The environment id.
        organization: The Hub organization (or user) owning the repository.

    Returns:
        The repository id.
    """
    env_id = env_name.split(":", 1)[-1]
    return f"{organization}/{algo_name}-{env_id.replace('/', '-')}"


def load_rollouts_from_huggingface(
    algo_name: str,
    env_name: str,
    organization: str = HF_DEFAULT_ORGANIZATION,
    **loader_kwargs: Any,
) -> TrajectoryDatasetSequence:
    """Load expert demonstrations published as a HuggingFace Hub dataset.

    The dataset repository :func:`hub_dataset_repo_id` gives is looked up in
    the local Hub cache first (``HF_HUB_CACHE``; see
    :mod:`imitation.testing.hub_cache` to fill one offline). If it is not
    there it is downloaded, unless ``HF_HUB_OFFLINE`` is set or the Hub
    cannot be reached, in which case this fails at once.

    Args:
        algo_name: The expert's algorithm, e.g. ``"ppo"``.
        env_name: The environment id, e.g. ``"seals/CartPole-v0"`` (a
            ``"seals:"`` style import prefix is accepted).
        organization: The Hub organization owning the dataset.
        **loader_kwargs: Passed to ``datasets.load_dataset`` (called on the
            downloaded folder); ``split`` defaults to ``"train"``.

    Returns:
        The trajectories, decoded lazily from the dataset.

    Raises:
        imitation.util.hub.HubUnavailableError: (an ``OSError``) If
            the dataset is not cached and cannot be downloaded.
        TypeError: If ``loader_kwargs`` select more than one split.
        TrajectoryFormatError: If the dataset is not a trajectory dataset.
    """
    import huggingface_hub

    repo_id = hub_dataset_repo_id(algo_name, env_name, organization)
    advice = (
        "Without network access, use local or generated demonstrations "
        "(demonstrations.source=local with demonstrations.path=..., or "
        "demonstrations.source=generated), or populate the Hub cache first, "
        "e.g. with `python -m imitation.testing.hub_cache <cache dir>` and "
        "HF_HUB_CACHE=<cache dir>."
    )

    def fetch(local_files_only: bool) -> str:
        return huggingface_hub.snapshot_download(
            repo_id, repo_type="dataset", local_files_only=local_files_only
        )

    folder = hub.hub_fetch(f"Hub dataset {repo_id}", fetch, advice)
    loader_kwargs.setdefault("split", "train")
    dataset = datasets.load_dataset(folder, **loader_kwargs)
    return TrajectoryDatasetSequence(dataset)
