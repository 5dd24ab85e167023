"""The library's import structure: layers, no cycles, SB3 privates in one place.

Every import of every module under ``src/imitation`` counts, read from the
source with ``ast``: those at the top, inside functions and under
``TYPE_CHECKING``. The layer order is the import-linter contract's in
``pyproject.toml`` (``lint-imports`` in ``scripts/lint.sh`` checks it too).
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import importlib
import inspect
import pathlib
import pkgutil
import textwrap
import tomllib
from collections.abc import Iterator

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SRC = REPO / "src"
ROOT = "imitation"
MAX_LINES = 600


@dataclasses.dataclass(frozen=True)
class Module:
    """A module of the library, as read from its file."""

    name: str
    path: pathlib.Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package that relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _modules() -> dict[str, Module]:
    found = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        found[name] = Module(name, path, is_package)
    return found


MODULES = _modules()


def _imported_names(module: Module) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of everything ``module`` imports, anywhere in it."""
    tree = ast.parse(module.path.read_text(), str(module.path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _resolve(name: str) -> str | None:
    """The most specific library module that ``name`` (module or attribute) is in."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _module_graph() -> dict[str, dict[str, int]]:
    """Importer -> imported library module -> line of the (first) import."""
    graph: dict[str, dict[str, int]] = {name: {} for name in MODULES}
    for name, module in MODULES.items():
        for line, imported in _imported_names(module):
            target = _resolve(imported) if imported.startswith(f"{ROOT}.") else None
            if target is not None and target != name:
                graph[name].setdefault(target, line)
    return graph


GRAPH = _module_graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(edges: dict[str, dict[str, int]], nodes: list[str]) -> str:
    return "; ".join(
        f"{a} -> {b} (line {line})"
        for a in nodes
        for b, line in sorted(edges.get(a, {}).items())
        if b in nodes
    )


def test_no_module_cycles():
    cycles = _cycles({a: set(bs) for a, bs in GRAPH.items()})
    assert not cycles, "Modules import each other in a cycle: " + " | ".join(
        _describe(GRAPH, c) for c in cycles
    )


def _child(package: str, module: str) -> str | None:
    """The child of ``package`` that ``module`` is, or lies in (None if outside)."""
    if not module.startswith(f"{package}."):
        return None
    return f"{package}.{module[len(package) + 1 :].split('.')[0]}"


@pytest.mark.parametrize(
    "package", sorted(name for name, m in MODULES.items() if m.is_package)
)
def test_no_package_cycles(package):
    """Among the children of each package, imports form no cycle."""
    sibling_graph: dict[str, set[str]] = collections.defaultdict(set)
    for importer, imported in GRAPH.items():
        a = _child(package, importer)
        for target in imported:
            b = _child(package, target)
            if a and b and a != b:
                sibling_graph[a].add(b)
    assert not _cycles(sibling_graph), f"Cycles among {package}'s children: " + str(
        _cycles(sibling_graph)
    )


def _layers() -> list[list[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]
    (contract,) = [
        c for c in config["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    assert contract["containers"] == [ROOT]
    return [[part.strip() for part in layer.split("|")] for layer in contract["layers"]]


def test_layers_cover_every_package():
    listed = {name for layer in _layers() for name in layer}
    top_level = {name.split(".")[1] for name in MODULES if name != ROOT}
    assert listed == top_level


def test_each_layer_imports_only_layers_below():
    rank = {name: i for i, layer in enumerate(_layers()) for name in layer}
    upward = [
        f"{importer} -> {imported} (line {line})"
        for importer, targets in GRAPH.items()
        for imported, line in targets.items()
        if importer != ROOT
        and imported != ROOT
        and importer.split(".")[1] != imported.split(".")[1]
        and rank[importer.split(".")[1]] >= rank[imported.split(".")[1]]
    ]
    assert not upward, "Imports of the same or a higher layer: " + "; ".join(upward)


def test_no_module_over_the_size_limit():
    long = {
        name: n
        for name, m in MODULES.items()
        if (n := len(m.path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


# SB3's private names that imitation may use outside ``util/sb3_compat.py``:
# the name of the function SB3 pickles as a policy's schedule (a name to
# allow-list, not behaviour), and those the compat module is taking over
# (issue 26, part 3).
_ALLOWED_SB3_PRIVATES = {
    ("imitation.util.safe_pickle", "_dummy_schedule"),
    ("imitation.policies.export.modules", "_predict"),
    ("imitation.rewards.reward_nets.value_potential", "_get_constructor_parameters"),
    ("imitation.util.policy_io", "_get_constructor_parameters"),
}
# Private by their underscore, public by their documentation.
_PYTHON_API = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})


def _sb3_private_names() -> frozenset[str]:
    """Private names that Stable-Baselines3's modules and classes define."""
    import stable_baselines3

    names: set[str] = set()
    for info in pkgutil.walk_packages(stable_baselines3.__path__, "stable_baselines3."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (e.g. of the Atari wrappers)
            continue
        for name, obj in vars(module).items():
            names.add(name)
            if not (inspect.isclass(obj) and obj.__module__ == info.name):
                continue
            names.update(vars(obj))
            tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
            names.update(
                node.attr
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            )
    return frozenset(
        n
        for n in names
        if n.startswith("_") and not n.startswith("__") and n not in _PYTHON_API
    )


class _PrivateReads(ast.NodeVisitor):
    """SB3-private names read off objects other than ``self`` / ``cls``.

    An override calling the method it overrides (``super()._on_step()`` in
    ``_on_step``) is SB3's extension protocol, not a private read. Reads on
    ``self`` are not seen: a subclass's own attributes cannot be told apart
    from inherited private ones without running the code.
    """

    def __init__(self, private: frozenset[str]) -> None:
        self.private = private
        self.functions: list[str] = []
        self.found: set[str] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast's name

    def visit_Attribute(self, node: ast.Attribute) -> None:
        target = node.value
        on_self = isinstance(target, ast.Name) and target.id in ("self", "cls")
        calls_overridden = (
            isinstance(target, ast.Call)
            and isinstance(target.func, ast.Name)
            and target.func.id == "super"
            and self.functions[-1:] == [node.attr]
        )
        if node.attr in self.private and not on_self and not calls_overridden:
            self.found.add(node.attr)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").startswith("stable_baselines3"):
            self.found.update(a.name for a in node.names if a.name in self.private)


def test_sb3_privates_only_in_the_compat_module():
    private = _sb3_private_names()
    assert "_get_constructor_parameters" in private  # the scan sees SB3's classes
    used = set()
    for name, module in MODULES.items():
        if name != "imitation.util.sb3_compat":
            reads = _PrivateReads(private)
            reads.visit(ast.parse(module.path.read_text()))
            used.update((name, attr) for attr in reads.found)
    outside = sorted(used - _ALLOWED_SB3_PRIVATES)
    assert not outside, (
        "Stable-Baselines3 private names outside imitation.util.sb3_compat (read "
        f"them through a function there, with a test): {outside}"
    )
