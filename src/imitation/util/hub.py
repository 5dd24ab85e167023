"""Access to the HuggingFace Hub: the local cache first, then the network.

:func:`hub_fetch` is how every Hub object (an expert's zip, a dataset) is
found: in the local Hub cache (``HF_HUB_CACHE``) if it is there, else
downloaded, unless ``HF_HUB_OFFLINE`` is set or the Hub's host cannot be
resolved, in which case :class:`HubUnavailableError` is raised at once
(without waiting on network timeouts).
"""

from __future__ import annotations

import contextlib
import socket
import urllib.parse
from collections.abc import Callable

__all__ = [
    "HF_DEFAULT_ORGANIZATION",
    "HubUnavailableError",
    "hub_download",
    "hub_fetch",
    "hub_fetch_optional",
    "hub_repo_and_filename",
]

HF_DEFAULT_ORGANIZATION = "HumanCompatibleAI"
"""The Hub organization publishing the benchmark's experts and demonstrations."""


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


def hub_fetch(what: str, fetch: Callable[[bool], str], advice: str) -> str:
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


def hub_download(repo_id: str, filename: str) -> str:
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

    return hub_fetch(f"{repo_id}/{filename}", fetch, advice)


def hub_fetch_optional(repo_id: str, filename: str) -> None:
    """Bring a file the repository may not have into the cache, where reachable."""
    # Not in this repository, or not reachable: there is nothing to apply.
    with contextlib.suppress(HubUnavailableError):
        hub_download(repo_id, filename)
