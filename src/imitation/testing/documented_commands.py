"""The command lines a Markdown page documents, for tests that run them verbatim."""

from __future__ import annotations

import pathlib
import re
import shlex

_FENCE = re.compile(r"^```(?:bash|sh|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented_commands(page: pathlib.Path, module: str) -> list[list[str]]:
    """The ``python -m <module> ...`` commands in a page's shell code blocks.

    Backslash-continued lines are joined and ``#`` comment lines skipped; the
    interpreter may be named ``python`` or by a path (``.venv/bin/python``).

    Args:
        page: The Markdown file.
        module: The module run with ``-m``, e.g.
            ``"imitation.scripts.eval_policy"``.

    Returns:
        Each command's arguments after ``python -m``, starting with
        ``module``, in the order they appear.
    """
    commands = []
    for block in _FENCE.findall(page.read_text()):
        lines = [
            line
            for line in block.replace("\\\n", " ").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        for line in lines:
            words = shlex.split(line)
            if (
                len(words) >= 3
                and pathlib.PurePath(words[0]).name == "python"
                and words[1:3] == ["-m", module]
            ):
                commands.append(words[2:])
    return commands
