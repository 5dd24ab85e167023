"""The command-line reference, read from the Sacred experiments themselves.

Each experiment defined in :mod:`imitation.scripts.config` gets a page with its
commands, named configs (its own and its ingredients'), and every config key
with its default and the comment that documents it in the config scope. The
pages are rebuilt at each build, so they cannot drift from the code.

:func:`spec_problems` compares the experiments with the specification's CLI
reference: every command, named config and config key that it documents for a
script must exist here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import inspect
import io
import os
import pathlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

import public_names
import sacred
from sacred.config.config_dict import ConfigDict
from sacred.config.config_scope import ConfigScope
from sacred.initialize import create_run

CONFIG_PACKAGE = "imitation.scripts.config"
# Console scripts are named after the experiments, with dashes.
CONSOLE_PREFIX = "imitation-"
DIFFERENCES_HEADING = "## The command line"
USAGE = "[COMMAND] [with NAMED_CONFIG... KEY=VALUE...]"
# A named config that sets at most this many keys is shown with its values.
SHOWN_VALUES = 3


@dataclasses.dataclass(frozen=True)
class ExperimentInfo:
    """What the reference shows of one experiment.

    Attributes:
        name: The experiment's name (its script's module name).
        doc: The docstring of the module that runs it.
        commands: Command name to its docstring's first paragraph.
        named_configs: Dotted named config to what it documents or sets.
        config: The default configuration, nested.
        docs: Dotted config key to its documenting comment.
        filled_at_run: Keys that a config hook sets when a run starts (their
            declared default is shown).
    """

    name: str
    doc: str
    commands: dict[str, str]
    named_configs: dict[str, str]
    config: dict[str, Any]
    docs: dict[str, str]
    filled_at_run: frozenset[str]


def _first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    text = (doc or "").strip().split("\n\n")[0]
    return " ".join(text.split())


@contextlib.contextmanager
def _in_temporary_directory() -> Iterator[None]:
    """Run the block in a fresh temporary working directory."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(old)


@contextlib.contextmanager
def _without_config_hooks(ex: sacred.Experiment) -> Iterator[None]:
    """Leave out the config hooks of the experiment and its ingredients.

    Hooks fill in values when a run starts (a run's ``log_dir`` holds the
    time, for example); the reference shows the declared defaults, whose docs
    say what a hook makes of them.
    """
    saved = [(ing, ing.config_hooks) for ing, _ in ex.traverse_ingredients()]
    for ingredient, _ in saved:
        ingredient.config_hooks = []
    try:
        yield
    finally:
        for ingredient, hooks in saved:
            ingredient.config_hooks = hooks


def _experiments() -> list[sacred.Experiment]:
    """The experiments of the package, sorted by name, commands registered."""
    for module in public_names.module_names():
        if module.startswith("imitation.scripts"):
            importlib.import_module(module)  # scripts register the commands
    found: dict[str, sacred.Experiment] = {}
    for module in public_names.module_names():
        if module.startswith(f"{CONFIG_PACKAGE}."):
            for obj in vars(importlib.import_module(module)).values():
                if isinstance(obj, sacred.Experiment):
                    found[obj.path] = obj
    return [found[name] for name in sorted(found)]


def _named_config_summary(config: ConfigScope | ConfigDict | str) -> str:
    """What a named config documents, or else the keys it sets."""
    doc = _first_paragraph(getattr(config, "__doc__", None))
    if isinstance(config, ConfigScope) and doc:
        return doc
    try:
        values = config() if not isinstance(config, str) else {}
    except Exception:  # noqa: BLE001 - a scope that needs other values
        return doc
    flat = {k: v for k, v in _flatten(dict(values)).items() if "__doc__" not in k}
    if not flat:
        return doc
    if len(flat) <= SHOWN_VALUES:
        settings = [f"`{key}={value!r}`" for key, value in sorted(flat.items())]
    else:
        settings = [f"`{key}`" for key in sorted(flat)]
    return "sets " + ", ".join(settings)


def _set_dotted(config: dict[str, Any], path: str, value: Any) -> None:
    """Set the dotted key ``path`` of the nested ``config`` to ``value``."""
    *parents, last = path.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = value


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key to leaf value (an empty dict is a leaf)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


@functools.cache
def experiment_infos() -> tuple[ExperimentInfo, ...]:
    """The reference's view of every experiment.

    Returns:
        One :class:`ExperimentInfo` per experiment, sorted by name.
    """
    infos = []
    for ex in _experiments():
        commands = {
            name: _first_paragraph(getattr(function, "__doc__", None))
            for name, function in ex.gather_commands()
        }
        named = {
            name: _named_config_summary(cfg) for name, cfg in ex.gather_named_configs()
        }
        command = ex.default_command or "print_config"
        with _in_temporary_directory():
            run = create_run(ex, command)
            with _without_config_hooks(ex):
                declared = _flatten(create_run(ex, command).config)
        config = dict(run.config)
        filled = set()
        for path, value in _flatten(config).items():
            if path in declared and repr(declared[path]) != repr(value):
                filled.add(path)
                _set_dotted(config, path, declared[path])
        script = importlib.import_module(f"imitation.scripts.{ex.path}")
        infos.append(
            ExperimentInfo(
                name=ex.path,
                doc=(script.__doc__ or "").strip(),
                commands=dict(sorted(commands.items())),
                named_configs=dict(sorted(named.items())),
                config=config,
                docs=dict(run.config_modifications.docs),
                filled_at_run=frozenset(filled),
            )
        )
    return tuple(infos)


@functools.cache
def utility_scripts() -> tuple[tuple[str, str], ...]:
    """The argparse scripts of :mod:`imitation.scripts`, with their help.

    A utility script is a public module ``imitation.scripts.NAME`` that is not
    an experiment's and has ``main(argv)``; its help is what ``--help`` prints.

    Returns:
        ``(name, help text)`` pairs, sorted by name.
    """
    experiments = {info.name for info in experiment_infos()}
    found = []
    for module in public_names.module_names():
        parent, _, name = module.rpartition(".")
        if parent != "imitation.scripts" or name in experiments:
            continue
        main = getattr(importlib.import_module(module), "main", None)
        if main is None or "argv" not in inspect.signature(main).parameters:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(["--help"])
        found.append((name, out.getvalue()))
    return tuple(found)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: str) -> str:
    """``value`` as inline code in a Markdown table cell."""
    fence = "``" if "`" in value else "`"
    return f"{fence} {_cell(value)} {fence}" if fence == "``" else f"`{_cell(value)}`"


def _default(path: str, value: Any, filled_at_run: frozenset[str]) -> str:
    """How a default value is shown."""
    if path == "seed":
        return "random (Sacred draws one per run)"
    if path in filled_at_run:
        return f"{_code(repr(value))}, filled in when a run starts"
    return _code(repr(value))


def _page(info: ExperimentInfo) -> str:
    """The Markdown page of one experiment."""
    console = CONSOLE_PREFIX + info.name.replace("_", "-")
    lines = [
        f"# `{info.name}`",
        "",
        info.doc,
        "",
        "```text",
        f"python -m imitation.scripts.{info.name} {USAGE}",
        f"{console} {USAGE}",
        "```",
        "",
        "## Commands",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    for name, doc in info.commands.items():
        lines.append(f"| `{name}` | {_cell(doc)} |")
    lines += [
        "",
        "## Named configs",
        "",
        "Name them after `with`; those of an ingredient carry its prefix "
        "(`environment.fast`).",
        "",
        "| named config | what it does |",
        "| --- | --- |",
    ]
    for name, doc in info.named_configs.items():
        lines.append(f"| `{name}` | {_cell(doc)} |")
    lines += [
        "",
        "## Configuration",
        "",
        "Every key with its declared default; set one with `with KEY=VALUE` "
        "(dotted for an ingredient's keys, e.g. `environment.num_vec=4`). "
        "Defaults marked *filled in when a run starts* are completed then (a "
        "`None` `log_dir` becomes the run's own folder); `print_config` shows "
        "a run's final values.",
    ]
    flat = _flatten(info.config)
    sections: dict[str, list[str]] = {}
    for path in sorted(flat):
        if path.endswith("__doc__"):
            continue
        head = path.split(".", 1)[0] if "." in path else ""
        sections.setdefault(head, []).append(path)
    for head in sorted(sections):
        title = f"Ingredient `{head}`" if head else "The experiment's own keys"
        described = info.config.get(head, {}) if head else info.config
        intro = _first_paragraph(described.get("__doc__")) if described else ""
        lines += ["", f"### {title}", ""]
        if intro:
            lines += [intro, ""]
        lines += ["| key | default | what it is |", "| --- | --- | --- |"]
        for path in sections[head]:
            default = _default(path, flat[path], info.filled_at_run)
            doc = _cell(info.docs.get(path, ""))
            lines.append(f"| `{path}` | {default} | {doc} |")
    lines.append("")
    return "\n".join(lines)


def write_cli_pages(out_dir: pathlib.Path) -> None:
    """Write the CLI reference: an index and one page per experiment.

    Args:
        out_dir: The folder of the CLI reference (``docs/cli``).
    """
    infos = experiment_infos()
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{info.name}.md" for info in infos} | {"index.md"}
    wanted |= {f"{name}.md" for name, _ in utility_scripts()}
    for stale in out_dir.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    index = [
        "# CLI reference",
        "",
        "The command-line scripts run [Sacred](https://sacred.readthedocs.io) "
        "experiments. These pages are generated from the experiments when the "
        "site is built: commands, named configs, and every config key with its "
        "default and documentation. `python -m imitation.scripts.SCRIPT "
        "print_config with ...` prints the configuration a run would use.",
        "",
        "| script | what it does |",
        "| --- | --- |",
    ]
    for info in infos:
        index.append(
            f"| [`{info.name}`]({info.name}.md) | {_cell(_first_paragraph(info.doc))} |"
        )
    utilities = utility_scripts()
    index += [
        "",
        "## Utility scripts",
        "",
        "Plain command-line programs (`--help` prints what each page shows).",
        "",
        "| script | what it does |",
        "| --- | --- |",
    ]
    for name, help_text in utilities:
        summary = help_text.split("\n\n")[1] if "\n\n" in help_text else ""
        index.append(f"| [`{name}`]({name}.md) | {_cell(' '.join(summary.split()))} |")
    index += ["", "```{toctree}", ":hidden:", ""]
    index += [info.name for info in infos] + [name for name, _ in utilities]
    index += ["```", ""]
    _write(out_dir / "index.md", "\n".join(index))
    for info in infos:
        _write(out_dir / f"{info.name}.md", _page(info))
    for name, help_text in utilities:
        console = CONSOLE_PREFIX + name.replace("_", "-")
        page = [
            f"# `{name}`",
            "",
            f"Run as `python -m imitation.scripts.{name}` or `{console}`.",
            "",
            "```text",
            help_text.rstrip(),
            "```",
            "",
        ]
        _write(out_dir / f"{name}.md", "\n".join(page))


def _write(path: pathlib.Path, text: str) -> None:
    """Write ``text`` unless ``path`` holds it already (keeps Sphinx's cache)."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


@dataclasses.dataclass
class SpecScript:
    """What the specification's CLI reference documents for one script.

    Attributes:
        commands: The commands.
        named_configs: Dotted named configs (ingredients' with their prefix).
        keys: Dotted config keys.
    """

    commands: set[str] = dataclasses.field(default_factory=set)
    named_configs: set[str] = dataclasses.field(default_factory=set)
    keys: set[str] = dataclasses.field(default_factory=set)


def parse_spec(text: str) -> dict[str, SpecScript]:
    """Read the scripts, commands, named configs and keys of the spec.

    Args:
        text: The specification's ``cli-reference.md``.

    Returns:
        Script name to what the specification documents for it.
    """
    scripts: dict[str, SpecScript] = {}
    current: SpecScript | None = None
    in_block = False
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        heading = re.match(r"## (\w+)", line)
        if heading:
            current = scripts.setdefault(heading.group(1), SpecScript())
            continue
        if current is None:
            continue
        if line.startswith("```"):
            in_block = not in_block
            stack = []
            continue
        if in_block:
            _parse_config_line(line, stack, current)
            continue
        listed = re.match(
            r"- (commands|named configs|config keys)(?: of ingredient (\w+))?"
            r"(?: \(defaults\))?: (.*)",
            line,
        )
        if listed:
            kind, ingredient, names = listed.groups()
            prefix = f"{ingredient}." if ingredient else ""
            values = {f"{prefix}{name}" for name in _listed_names(names)}
            targets = {
                "commands": current.commands,
                "named configs": current.named_configs,
                "config keys": current.keys,
            }
            targets[kind].update(values)
    return scripts


def _listed_names(text: str) -> list[str]:
    """The names of a spec list line, without the parenthesised remarks.

    Items are separated by ``;`` when the line has one (its items may hold
    commas), else by ``,``; an item's name is its leading word.
    """
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)", "", text)
    items = text.split(";") if ";" in text else text.split(",")
    names = []
    for item in items:
        match = re.match(r"\s*(\w+)", item)
        if match:
            names.append(match.group(1))
    return names


def _parse_config_line(
    line: str, stack: list[tuple[int, str]], spec: SpecScript
) -> None:
    """Add the key of one line of a config block (two spaces a level)."""
    match = re.match(r"( *)(\w+)( = |:$)", line)
    if not match:
        return
    indent = len(match.group(1))
    while stack and stack[-1][0] >= indent:
        stack.pop()
    path = ".".join([name for _, name in stack] + [match.group(2)])
    if match.group(3) == ":":
        stack.append((indent, match.group(2)))
    else:
        spec.keys.add(path)


def _has_key(config: Mapping[str, Any], path: str) -> bool:
    """Whether the nested ``config`` has the dotted key ``path``."""
    node: Any = config
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _documented_differences(differences_file: pathlib.Path) -> set[str]:
    """The code spans of the differences page's command-line section."""
    text = differences_file.read_text()
    start = text.index(DIFFERENCES_HEADING)
    end = text.find("\n## ", start + len(DIFFERENCES_HEADING))
    section = text[start:] if end == -1 else text[start:end]
    return set(re.findall(r"`([^`]+)`", section))


def _explained(path: str, differences: set[str]) -> bool:
    """Whether a spec name missing here is a documented difference.

    A name counts as documented when the differences page's command-line
    section names it, whole or by its last part, in a code span. Keys under
    ``__annotations__`` are the original's type annotations leaking into its
    printed config, not settings.
    """
    parts = path.split(".")
    if any(part.startswith("__") for part in parts):
        return True
    return path in differences or parts[-1] in differences


def spec_problems(spec_file: pathlib.Path, differences_file: pathlib.Path) -> list[str]:
    """The spec's CLI names that the experiments lack without a documented reason.

    Args:
        spec_file: The specification's ``cli-reference.md``.
        differences_file: ``docs/differences-from-upstream.md``; a name that its
            command-line section names in a code span is an explained difference.

    Returns:
        One message per missing command, named config or config key.
    """
    spec = parse_spec(spec_file.read_text())
    differences = _documented_differences(differences_file)
    found = []
    for info in experiment_infos():
        documented = spec.get(info.name)
        if documented is None:
            continue
        missing = [
            ("command", name)
            for name in sorted(documented.commands - set(info.commands))
        ]
        missing += [
            ("named config", name)
            for name in sorted(documented.named_configs - set(info.named_configs))
        ]
        missing += [
            ("config key", key)
            for key in sorted(documented.keys)
            if not _has_key(info.config, key)
        ]
        for kind, name in missing:
            if not _explained(name, differences):
                found.append(
                    f"CLI {info.name}: the spec's {kind} {name} is missing and "
                    "docs/differences-from-upstream.md does not explain it"
                )
    return found
