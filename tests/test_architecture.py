"""The package graph of ``gateway/`` is the DAG ARCHITECTURE.md states, and what that document
names exists.

Every module is read with ``ast`` (nothing is imported): its imports, relative ones resolved and
those inside functions included, become edges between nodes, a node being a first-level package
(``gateway/web/``) or module (``gateway/settings.py``) of ``gateway``. Flask and its kin
(Werkzeug, flask-smorest) are one more node, ``flask``, so that "imports no Flask" is a missing
permission like any other. The permissions are the code map's "May import" column: the table
lives in the document, the test reads it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gateway"
DOCUMENT = ROOT / "ARCHITECTURE.md"
FLASK = "flask"
FLASK_KIN = frozenset({"flask", "werkzeug", "flask_smorest"})
# Who may build a Flask app: the composition root, and openapi's scratch app for its spec.
APP_BUILDERS = frozenset({"gateway/web/app.py", "gateway/openapi/own_api.py",
                          "gateway/sandbox/web.py"})

Graph = dict[str, dict[str, set[str]]]  # node -> imported node -> the files importing it


def import_graph(package: Path) -> Graph:
    """The imports between ``package``'s nodes (and to ``flask``), with the files behind each."""
    graph: Graph = {}
    for path in sorted(package.rglob("*.py")):
        source = _node_of(path.relative_to(package).parts)
        edges = graph.setdefault(source, {})
        for target in _imports(path, _module_of(path, package)):
            node = _target_node(target, package)
            if node is not None and node != source:
                edges.setdefault(node, set()).add(path.relative_to(package.parent).as_posix())
    return graph


def _module_of(path: Path, package: Path) -> list[str]:
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _node_of(parts: tuple[str, ...]) -> str:
    return parts[0].removesuffix(".py")


def _imports(path: Path, module: list[str]) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_package else module[:-1]
                base = base[:len(base) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def _target_node(target: str, package: Path) -> str | None:
    parts = target.split(".")
    if parts[0] in FLASK_KIN:
        return FLASK
    if parts[0] != package.name or len(parts) < 2:
        return None
    name = parts[1]
    return name if (package / name).is_dir() or (package / f"{name}.py").is_file() else None


def cycles(graph: Mapping[str, Mapping[str, object]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def violations(graph: Graph, allowed: Mapping[str, frozenset[str]]) -> list[str]:
    """Each import the permissions do not allow, with the files making it."""
    return [f"{source} -> {target} ({', '.join(sorted(files))})"
            for source, edges in sorted(graph.items())
            for target, files in sorted(edges.items())
            if target not in allowed.get(source, frozenset())]


def permissions(document: str) -> dict[str, frozenset[str]]:
    """The code map of ARCHITECTURE.md: ``| `node` | job | `a`, `b` |`` rows."""
    section = document.split("## Code map", 1)[1].split("\n## ", 1)[0]
    table: dict[str, frozenset[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (name := re.fullmatch(r"`(\w+)/?(?:\.py)?`", cells[0])):
            table[name.group(1)] = frozenset(re.findall(r"`(\w+)`", cells[2]))
    return table


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(PACKAGE)


@pytest.fixture(scope="module")
def allowed() -> dict[str, frozenset[str]]:
    return permissions(DOCUMENT.read_text(encoding="utf-8"))


def test_the_packages_import_each_other_without_cycles(graph):
    assert cycles(graph) == []


def test_every_import_is_one_the_code_map_allows(graph, allowed):
    assert violations(graph, allowed) == []


def test_the_code_map_lists_every_package_and_is_itself_a_dag(graph, allowed):
    assert set(allowed) == set(graph)
    assert cycles(allowed) == []
    assert {target for targets in allowed.values() for target in targets} <= {*allowed, FLASK}


def test_the_inner_layers_import_no_flask_and_the_sandbox_nothing_of_the_gateway(allowed):
    # The rules themselves, so that loosening the table cannot pass silently.
    for inner in ("kintone", "model", "odata", "service", "settings"):
        assert FLASK not in allowed[inner], inner
    assert allowed["sandbox"] <= {FLASK}
    importers_of_web = {node for node, targets in allowed.items() if "web" in targets}
    assert importers_of_web <= {"cli", "wsgi"}


def test_only_the_composition_root_builds_the_app_and_orders_its_hooks():
    builders, reordering = set(), set()
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called(node) == "Flask":
                builders.add(name)
            if isinstance(node, ast.Attribute) and node.attr in ("before_request_funcs",
                                                                 "after_request_funcs"):
                reordering.add(name)
    assert builders <= APP_BUILDERS
    assert reordering == set()


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def test_a_cycle_between_packages_is_found(tmp_path):
    package = tmp_path / "pkg"
    for name, text in {
        "__init__.py": "",
        "low/__init__.py": "from ..high import views\n",  # the re-introduced cycle
        "high/__init__.py": "",
        "high/views.py": "def view():\n    from ..low import thing\n    return thing\n",
        "top.py": "import flask\nfrom pkg.high.views import view\n",
    }.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    found = import_graph(package)
    assert cycles(found) == [["high", "low"]]
    assert found["top"] == {"flask": {"pkg/top.py"}, "high": {"pkg/top.py"}}
    assert violations(found, {"high": frozenset({"low"}), "top": frozenset({"high"})}) == [
        "low -> high (pkg/low/__init__.py)", "top -> flask (pkg/top.py)"]


def test_cycles_are_found_in_a_graph_of_any_length():
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [
        ["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}}) == []


# ARCHITECTURE.md's references: `gateway/x/y.py`, `gateway/x/y.py:name`, `gateway/x/` and
# dotted `gateway.x.y.name` (a module, or a name defined in one).
_PATH = re.compile(r"`(gateway/[\w/]*(?:\.py)?)(?::([\w.]+))?`")
_DOTTED = re.compile(r"`(gateway(?:\.\w+)+)`")


def test_every_path_and_name_the_architecture_document_gives_exists():
    text = DOCUMENT.read_text(encoding="utf-8")
    missing = [f"{path}:{name}" if name else path for path, name in _PATH.findall(text)
               if not _exists(ROOT / path, name)]
    missing += [dotted for dotted in _DOTTED.findall(text) if not _dotted_exists(dotted)]
    assert _PATH.search(text) and _DOTTED.search(text)
    assert missing == []


def _dotted_exists(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        for path in (base / "__init__.py", base.with_suffix(".py")):
            if path.is_file():
                return _exists(path, ".".join(parts[cut:]))
    return False


def _exists(path: Path, name: str) -> bool:
    if not path.exists():
        return False
    if not name:
        return True
    scope: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    for part in name.split("."):
        found = next((node for node in scope if part in _defined(node)), None)
        if found is None:
            return False
        scope = getattr(found, "body", [])
    return True


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {target.id for target in node.targets if isinstance(target, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()
