"""The type of the paths that imitation's functions take.

Also available as ``imitation.data.types.AnyPath``, its home in the original
release.
"""

from __future__ import annotations

import os

AnyPath = str | bytes | os.PathLike
"""Anything that can be turned into a filesystem path."""
