"""The app-level import graph of the project, read with ``ast`` (imports inside functions
included): ``python -m cpf_portal.importgraph`` prints it with the edges that break the layering.

Layering, lowest first (an app may import only from its own layer or below):

    cpf_portal base helpers (templatetags, http, forms, testing, …)
    < notifications < accounts < equipes (teams, organisme rights) < catalogue < financing < dossiers
    < any other app (feature apps)
    < project wiring (cpf_portal.urls, settings, celery, views, management commands, …: WIRING_MODULES)

Tests, factories, migrations and conftest files may import anything; they are not read.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT = "cpf_portal"
BASE = "cpf_portal (base)"
WIRING = "cpf_portal (wiring)"
# The project package is wiring (it loads the Celery app, the settings, the URLs, the commands
# that span apps…) except its plain helpers, which every app may import: any module not listed
# here (templatetags, http, forms, testing, context_processors, money…) is a base helper.
WIRING_MODULES = {
    "cpf_portal",
    "cpf_portal.urls",
    "cpf_portal.settings",
    "cpf_portal.celery",
    "cpf_portal.wsgi",
    "cpf_portal.asgi",
    "cpf_portal.views",
    "cpf_portal.devrun",
    "cpf_portal.embedded",
    "cpf_portal.importgraph",
    "cpf_portal.management",
    "cpf_portal.metrics",  # the scrape reads every app's models
    "cpf_portal.demo_dossiers",  # demo data walks every app's services
}
LAYERS = [BASE, "notifications", "accounts", "equipes", "catalogue", "financing", "dossiers"]
FEATURE_RANK = len(LAYERS)  # apps not named in LAYERS sit above dossiers
WIRING_RANK = FEATURE_RANK + 1
SKIPPED_PARTS = {"tests", "migrations", "node_modules", "e2e", "bench", "static", "templates", "var"}


@dataclasses.dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (for ``from a import b``: ``a.b`` when it is a module, else ``a``)
    path: str  # file, relative to the project
    line: int
    lazy: bool  # inside a function body

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.source} → {self.target}{' (dans une fonction)' if self.lazy else ''}"


def apps(base_dir: Path = BASE_DIR) -> list[str]:
    """The project's packages: top-level directories with an ``__init__.py``."""
    return sorted(p.parent.name for p in base_dir.glob("*/__init__.py") if p.parent.name not in SKIPPED_PARTS)


def module_name(path: Path, base_dir: Path = BASE_DIR) -> str:
    parts = list(path.relative_to(base_dir).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(base_dir: Path = BASE_DIR) -> list[Path]:
    files = []
    for app in apps(base_dir):
        for path in sorted((base_dir / app).rglob("*.py")):
            relative = path.relative_to(base_dir).parts
            if SKIPPED_PARTS.intersection(relative) or path.name == "conftest.py" or path.name.startswith("test_"):
                continue
            files.append(path)
    return files


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    package = package[: len(package) - (level - 1)]
    return ".".join([*package, name] if name else package)


def imports_of(source: str, module: str, *, is_package: bool = False, path: str = "", known: set[str] | None = None) -> list[Import]:
    """Every import statement of ``source``, with whether it runs lazily (inside a function)."""
    tree = ast.parse(source)
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            child_lazy = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, path, child.lineno, lazy))
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child.level, child.module)
                for alias in child.names:
                    candidate = f"{base}.{alias.name}" if base else alias.name
                    target = candidate if known is not None and candidate in known else base
                    found.append(Import(module, target, path, child.lineno, lazy))
            visit(child, child_lazy)

    visit(tree, False)
    return found


def all_imports(base_dir: Path = BASE_DIR) -> list[Import]:
    files = source_files(base_dir)
    known = {module_name(path, base_dir) for path in base_dir.glob("*/**/*.py")}
    result = []
    for path in files:
        module = module_name(path, base_dir)
        result += imports_of(
            path.read_text(encoding="utf-8"),
            module,
            is_package=path.name == "__init__.py",
            path=str(path.relative_to(base_dir)),
            known=known,
        )
    return result


def node_of(module: str, project_apps: list[str]) -> str | None:
    """The graph node of a module: its app, the project package split into base and wiring;
    None for anything outside the project (Django, the standard library…)."""
    top = module.split(".")[0]
    if top not in project_apps:
        return None
    if top == PROJECT:
        return WIRING if ".".join(module.split(".")[:2]) in WIRING_MODULES else BASE
    return top


def rank(node: str) -> int:
    if node == WIRING:
        return WIRING_RANK
    return LAYERS.index(node) if node in LAYERS else FEATURE_RANK


def graph(imports: list[Import], project_apps: list[str]) -> dict[tuple[str, str], list[Import]]:
    """App-level edges (importer, imported) → the imports behind each."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for item in imports:
        source, target = node_of(item.source, project_apps), node_of(item.target, project_apps)
        if source and target and source != target:
            edges[(source, target)].append(item)
    return dict(edges)


def upward(edges: dict[tuple[str, str], list[Import]]) -> dict[tuple[str, str], list[Import]]:
    """Edges that import from a higher layer."""
    return {edge: items for edge, items in edges.items() if rank(edge[1]) > rank(edge[0])}


def cycles(edges) -> list[list[str]]:
    """Strongly connected components of more than one app (Tarjan)."""
    successors: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        successors[source].add(target)
    nodes = sorted({n for edge in edges for n in edge})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(successors[node]):
            if nxt not in index:
                strongconnect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component, key=rank))

    for node in nodes:
        if node not in index:
            strongconnect(node)
    return components


def lazy_between(imports: list[Import], first: str, second: str) -> list[Import]:
    """Imports inside functions from ``first`` to ``second`` or back."""
    return [i for i in imports if i.lazy and {i.source, i.target} == {first, second}]


def main() -> int:
    project_apps = apps()
    imports = all_imports()
    edges = graph(imports, project_apps)
    print("Graphe des imports entre applications (couche la plus basse d'abord) :")
    for (source, target), items in sorted(edges.items(), key=lambda e: (rank(e[0][0]), e[0][0], rank(e[0][1]), e[0][1])):
        mark = "  ↑ INTERDIT" if rank(target) > rank(source) else ""
        print(f"  {source} → {target} ({len(items)} import{'s' if len(items) > 1 else ''}){mark}")
    problems = 0
    for (source, target), items in sorted(upward(edges).items()):
        problems += 1
        print(f"\nImport vers une couche supérieure : {source} → {target}")
        for item in items:
            print(f"    {item}")
    for component in cycles(edges):
        problems += 1
        print(f"\nCycle : {' ↔ '.join(component)}")
    lazy = lazy_between(imports, "dossiers.workflow", "dossiers.services")
    if lazy:
        problems += 1
        print("\nImport paresseux entre dossiers.workflow et dossiers.services :")
        for item in lazy:
            print(f"    {item}")
    print(f"\n{problems} problème{'s' if problems > 1 else ''}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
