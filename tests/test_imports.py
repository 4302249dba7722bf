"""The package layering: no import cycles, and the engine never imports a front end or an application.

Every module under autodrag/ and stylegan_ops/ is parsed (ast, nothing is imported); every
`import`/`from ... import` at any depth (top level and inside functions) that names `autodrag` or
`stylegan_ops` is an edge.  `python tests/test_imports.py` prints the package graph.
"""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_PACKAGES = ("autodrag", "stylegan_ops")

# The engine: these packages must not import the applications or front ends below.
ENGINE = ("networks", "drag", "landmarks", "presets", "photos")
FORBIDDEN = ("gui", "toyfaces", "pix2pix", "web")
# Known exceptions still to be removed, each with its reason: (importing module, imported package).
PENDING: dict[tuple[str, str], str] = {}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the top packages."""
    out: dict[str, Path] = {}
    for top in TOP_PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that `name` (a dotted import target) lives in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def module_imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import mod` imports the submodule when there is one, else a name of pkg.
            targets = [
                f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem for alias in node.names
            ]
        for target in targets:
            if target.split(".")[0] in TOP_PACKAGES:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


@functools.cache
def module_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (parsed once per test session)."""
    modules = module_files()
    return {name: module_imports(name, path, modules) for name, path in modules.items()}


def package_of(module: str) -> str:
    """`autodrag.drag.session` -> `drag`; `autodrag.cli` -> `cli`; `stylegan_ops.fma` -> `stylegan_ops`."""
    parts = module.split(".")
    if parts[0] != "autodrag":
        return parts[0]
    return parts[1] if len(parts) > 1 else "autodrag"


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package -> the packages its library modules import.

    Front ends (`*.cli`, `autodrag.cli`, `autodrag.demo`) sit on top of every package: `edit --photo`
    in presets/cli.py may call the photo pipeline, which uses the preset engine, without making the
    presets and photos packages depend on each other. They are left out here; module cycles
    (`test_no_module_import_cycle`) still cover them, and no library module may import one.
    """
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        if _is_front_end(module):
            continue
        src = package_of(module)
        out.setdefault(src, set())
        for target in targets:
            dst = package_of(target)
            if dst != src and dst != "autodrag":
                out[src].add(dst)
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def _is_front_end(module: str) -> bool:
    return module.split(".")[-1] == "cli" or module in ("autodrag.cli", "autodrag.demo")


def test_the_walker_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "autodrag"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from .b import x\n")
    (pkg / "a" / "b.py").write_text(
        "def f():\n    from autodrag.a import c\n    import autodrag.a.c as d\nx = 1\n"
    )
    (pkg / "a" / "c.py").write_text("")
    modules = {
        "autodrag": pkg / "__init__.py",
        "autodrag.a": pkg / "a" / "__init__.py",
        "autodrag.a.b": pkg / "a" / "b.py",
        "autodrag.a.c": pkg / "a" / "c.py",
    }
    assert module_imports("autodrag.a", modules["autodrag.a"], modules) == {"autodrag.a.b"}
    assert module_imports("autodrag.a.b", modules["autodrag.a.b"], modules) == {"autodrag.a.c"}
    assert find_cycle({"x": {"y"}, "y": {"z"}, "z": {"x"}}) == ["x", "y", "z", "x"]
    assert find_cycle({"x": {"y"}, "y": set()}) is None


def test_no_module_import_cycle():
    graph = module_graph()
    assert len(graph) > 50, "the walker found too few modules"
    cycle = find_cycle(graph)
    assert cycle is None, "module import cycle: " + " -> ".join(cycle)


def test_no_package_import_cycle():
    cycle = find_cycle(package_graph(module_graph()))
    assert cycle is None, "package import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("package", ENGINE)
def test_engine_packages_import_no_application_or_front_end(package):
    bad = []
    for module, targets in module_graph().items():
        if package_of(module) != package or not module.startswith("autodrag."):
            continue
        for target in sorted(targets):
            # Any module may not import an application; only a front end may import a front end.
            if (module, package_of(target)) in PENDING:
                continue
            if package_of(target) in FORBIDDEN or (_is_front_end(target) and not _is_front_end(module)):
                bad.append(f"{module} imports {target}")
    assert not bad, "; ".join(bad)


def test_pending_exceptions_are_still_needed():
    graph = module_graph()
    stale = [f"{m} -> {p}" for m, p in PENDING if not any(package_of(t) == p for t in graph.get(m, ()))]
    assert not stale, "remove these from PENDING: " + "; ".join(stale)


def main() -> None:
    """Print the package graph (one line per package: what it imports)."""
    for src, dsts in sorted(package_graph(module_graph()).items()):
        print(f"{src:14s} -> {', '.join(sorted(dsts)) or '-'}")
    cycle = find_cycle(module_graph())
    print("module cycle:", " -> ".join(cycle) if cycle else "none")
    cycle = find_cycle(package_graph(module_graph()))
    print("package cycle:", " -> ".join(cycle) if cycle else "none")


if __name__ == "__main__":
    sys.exit(main())
