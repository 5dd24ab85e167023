"""imitation: implementations of imitation and reward learning algorithms."""

import importlib
import importlib.util
import warnings

__version__ = "1.0.0"


def _register_atari_envs() -> None:
    """Register the ALE's Atari ids with Gymnasium when ale-py is installed.

    Gymnasium 1.x no longer imports ale-py by itself, so ``gym.make`` of an id
    like ``"AsteroidsNoFrameskip-v4"`` or ``"ALE/Pong-v5"`` fails until something
    imports ``ale_py`` (whose import registers them). Doing it here makes those
    ids resolve once ``imitation`` is imported, as they did with the Gymnasium
    the original library used. Without ale-py this does nothing.
    """
    if importlib.util.find_spec("ale_py") is None:
        return
    try:
        importlib.import_module("ale_py")
    except ImportError as exc:
        warnings.warn(
            f"ale-py is installed but cannot be imported ({exc}), so the Atari "
            "environment ids are not registered; reinstall it with "
            "`pip install imitation[atari]`.",
            stacklevel=2,
        )


_register_atari_envs()
