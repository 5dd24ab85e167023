"""The public names of :mod:`imitation`, their API pages and their check.

A module's public names are:

* the names in its ``__all__``, when it has one (TypeVars excepted, unless the
  original release listed them); a name that the module imports from another
  counts as documented where it is defined;
* otherwise, the classes and functions defined in it whose names do not start
  with an underscore;
* and the public methods and properties defined in the body of each such
  class.

Every name of ``tests/data/upstream-public-names.txt`` that the library
provides is public too. Modules whose dotted name has a part starting with an
underscore are private.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import importlib.util
import inspect
import pathlib
import pkgutil
import types
import typing
from collections.abc import Iterator
from typing import Any

from sacred.config.config_dict import ConfigDict
from sacred.config.config_scope import ConfigScope
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer

ROOT = "imitation"


@dataclasses.dataclass(frozen=True)
class PublicName:
    """A public name and where its API entry may be.

    Attributes:
        name: The dotted name, as users import it.
        targets: Dotted names under which an API entry counts for it.
        obj: The object the name refers to.
        kind: ``"class"``, ``"function"``, ``"member"``, ``"data"`` or
            ``"config"`` (a Sacred config scope, documented by the CLI
            reference rather than the API reference).
        module: The module the name is read from (for data, the module that
            assigns it).
    """

    name: str
    targets: tuple[str, ...]
    obj: Any
    kind: str
    module: str


@functools.cache
def module_names() -> tuple[str, ...]:
    """The dotted names of the public modules of the package, sorted.

    Returns:
        ``"imitation"`` and every submodule without a private part.
    """
    package = importlib.import_module(ROOT)
    found = [ROOT]
    for info in pkgutil.walk_packages(package.__path__, f"{ROOT}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return tuple(sorted(found))


def _is_package(name: str) -> bool:
    """Whether the module ``name`` is a package."""
    return hasattr(importlib.import_module(name), "__path__")


def write_api_pages(out_dir: pathlib.Path) -> None:
    """Write one ``automodule`` page per public module, and an index.

    Pages of modules that no longer exist are removed.

    Args:
        out_dir: The folder of the API reference (``docs/api``).
    """
    names = module_names()
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}.rst" for name in names} | {"index.rst"}
    for stale in out_dir.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    index = [
        "API reference",
        "=============",
        "",
        "Generated from the docstrings: one page per public module of the",
        "package. The build fails when a public name has no docstring or no",
        "entry here.",
        "",
        ".. toctree::",
        "   :maxdepth: 2",
        "",
        f"   {ROOT}",
        "",
    ]
    _write(out_dir / "index.rst", "\n".join(index))
    for name in names:
        title = f"``{name}``"
        lines = [
            title,
            "=" * len(title),
            "",
            f".. automodule:: {name}",
            "   :members:",
            "   :ignore-module-all:",
            "",
        ]
        children = [
            child
            for child in names
            if child.startswith(f"{name}.") and "." not in child[len(name) + 1 :]
        ]
        if children:
            lines += ["", ".. toctree::", "   :maxdepth: 1", ""]
            lines += [f"   {child}" for child in children]
            lines.append("")
        _write(out_dir / f"{name}.rst", "\n".join(lines))


def _write(path: pathlib.Path, text: str) -> None:
    """Write ``text`` unless ``path`` holds it already (keeps Sphinx's cache)."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


@functools.cache
def _assigned_at_top(module: str) -> frozenset[str]:
    """Names assigned at the top level of the module's source."""
    source = inspect.getsource(importlib.import_module(module))
    assigned = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.add(target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            assigned.add(node.target.id)
    return frozenset(assigned)


def _home_module(module: str, name: str) -> str | None:
    """The module whose source assigns ``name``, following ``from`` imports.

    Args:
        module: The module the name is read from.
        name: A module-level name of it that is not a class or function.

    Returns:
        The defining module's dotted name, or None if it is not found.
    """
    if name in _assigned_at_top(module):
        return module
    source = inspect.getsource(importlib.import_module(module))
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == name and alias.asname in (None, name):
                    relative = "." * node.level + (node.module or "")
                    origin = importlib.util.resolve_name(relative, package)
                    return _home_module(origin, name)
    return None


def _canonical(obj: Any) -> str | None:
    """Where a class or function is defined, as a dotted name."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


def _is_code(obj: Any) -> bool:
    """Whether ``obj`` is a class or a function (documented by its docstring)."""
    return inspect.isclass(obj) or inspect.isroutine(obj)


def _module_public(module: str, upstream: set[str]) -> Iterator[PublicName]:
    """The public names of one module (members of its classes included)."""
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    if exported is not None:
        candidates = list(exported)
    else:
        candidates = [name for name in vars(mod) if not name.startswith("_")]
    for name in candidates:
        full = f"{module}.{name}"
        obj = getattr(mod, name)
        if inspect.ismodule(obj):
            continue
        if _is_code(obj):
            canonical = _canonical(obj)
            defined_here = getattr(obj, "__module__", None) == module
            if exported is None and not defined_here and full not in upstream:
                continue
            kind = "class" if inspect.isclass(obj) else "function"
            targets = tuple(dict.fromkeys(t for t in (full, canonical) if t))
            yield PublicName(full, targets, obj, kind, module)
            if inspect.isclass(obj) and defined_here:
                yield from _class_members(obj, module)
        elif isinstance(obj, ConfigScope | ConfigDict):
            if full in upstream:
                yield PublicName(full, (), obj, "config", module)
        elif full in upstream or (
            exported is not None
            and name in _assigned_at_top(module)
            and not isinstance(obj, typing.TypeVar)
        ):
            yield _data_name(full, obj)


def _data_name(full: str, obj: Any) -> PublicName:
    """A public data name, with its entry expected where it is assigned."""
    module, _, name = full.rpartition(".")
    home = _home_module(module, name) or module
    targets = tuple(dict.fromkeys((full, f"{home}.{name}")))
    return PublicName(full, targets, obj, "data", home)


def _class_members(cls: type, module: str) -> Iterator[PublicName]:
    """The public methods and properties defined in the body of ``cls``."""
    base = f"{cls.__module__}.{cls.__qualname__}"
    for name, raw in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(raw, staticmethod | classmethod | property | types.FunctionType):
            full = f"{base}.{name}"
            yield PublicName(full, (full,), getattr(cls, name), "member", module)


@functools.cache
def _upstream(path: pathlib.Path) -> frozenset[str]:
    """The names listed in ``path`` (one per line, ``#`` comments)."""
    if not path.exists():
        return frozenset()
    lines = (line.strip() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def all_public_names(upstream_file: pathlib.Path) -> list[PublicName]:
    """Every public name of the package, module by module.

    Args:
        upstream_file: The original release's public names; those that the
            library provides are public here too.

    Returns:
        The public names, without duplicates.
    """
    upstream = set(_upstream(upstream_file))
    found: dict[str, PublicName] = {}
    for module in module_names():
        for public in _module_public(module, upstream):
            found.setdefault(public.name, public)
    for full in sorted(upstream - set(found)):
        module, _, name = full.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue  # not provided: tests/test_upstream_names.py covers these
        if _is_code(obj):
            targets = tuple(dict.fromkeys(t for t in (full, _canonical(obj)) if t))
            found[full] = PublicName(full, targets, obj, "function", module)
        else:
            found[full] = _data_name(full, obj)
    return list(found.values())


def _documented_target(public: PublicName) -> str:
    """The target whose module has an API page: the canonical one if public."""
    for target in reversed(public.targets):
        if target.rpartition(".")[0] in module_names():
            return target
    return public.name


def summary_entries(module: str, upstream_file: pathlib.Path) -> dict[str, Any]:
    """The classes and functions of a module (and its submodules) to list.

    Args:
        module: A public module's dotted name.
        upstream_file: The original release's public names.

    Returns:
        Dotted name where each one's API entry is, to the object.
    """
    upstream = set(_upstream(upstream_file))
    entries: dict[str, Any] = {}
    for name in module_names():
        if name == module or name.startswith(f"{module}."):
            for public in _module_public(name, upstream):
                if public.kind in ("class", "function"):
                    entries.setdefault(_documented_target(public), public.obj)
    return entries


def entry_candidates(target: str) -> tuple[list[str], Any]:
    """Where the entry of a dotted name may be, when it is an alias.

    A name re-exported by a package (``imitation.data.types.Trajectory``) has
    its entry under the module that defines it; so does a member reached
    through the re-exported name.

    Args:
        target: A dotted name under ``imitation``.

    Returns:
        The candidate entry names (the canonical one first), and the object
        the name refers to (None if it does not import).
    """
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:split])
        try:
            obj: Any = importlib.import_module(module)
        except ImportError:
            continue
        path = parts[split:]
        try:
            for attr in path:
                obj = getattr(obj, attr)
        except AttributeError:
            return [], None
        first = getattr(importlib.import_module(module), path[0])
        if _is_code(first):
            base = _canonical(first)
        else:
            home = _home_module(module, path[0]) if len(path) == 1 else None
            base = f"{home}.{path[0]}" if home else None
        if base is None:
            return [], obj
        return [".".join([base, *path[1:]])], obj
    return [], None


def _own_docstring(public: PublicName) -> str:
    """The docstring that the API entry of ``public`` shows ("" if none)."""
    if public.kind == "data":
        try:
            docs = ModuleAnalyzer.for_module(public.module).find_attr_docs()
        except Exception:  # noqa: BLE001 - no source: no doc comments
            return ""
        short = public.name.rpartition(".")[2]
        return "\n".join(docs.get(("", short), []))
    if public.kind == "config":
        if isinstance(public.obj, ConfigDict):
            return "(values only; the CLI reference lists the keys it sets)"
        return (public.obj.__doc__ or "").strip()
    if public.kind == "member":
        return inspect.getdoc(public.obj) or ""
    doc = public.obj.__doc__ or ""
    if inspect.isclass(public.obj) and doc.startswith(f"{public.obj.__name__}("):
        return ""  # the signature that dataclasses and NamedTuple make up
    return doc.strip()


def problems(env: BuildEnvironment, upstream_file: pathlib.Path) -> list[str]:
    """What the API reference misses: names without docstring or entry.

    Args:
        env: The build environment, after all documents were read.
        upstream_file: The original release's public names.

    Returns:
        One message per problem, empty when every public name is documented.
    """
    objects = env.domains.python_domain.objects
    found = []
    for public in all_public_names(upstream_file):
        if not _own_docstring(public):
            found.append(f"public name {public.name} has no docstring")
        elif public.kind != "config" and not any(
            target in objects for target in public.targets
        ):
            found.append(f"public name {public.name} has no API reference entry")
    return found
