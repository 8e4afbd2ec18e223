"""No file-level import circle anywhere in the code, across apps or inside one (CONTRIBUTING,
"Layers"). import-linter's contracts in `make lint` keep the layers and forbid circles between
the modules of a package; this finds any circle between single files, whatever packages they are
in, counting imports made inside functions too."""

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["ucj_project", "core", "villages", "access", "enrollment", "coverage", "portal", "seed", "bench"]


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    known = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & known) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in modules:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                child = edges[node][i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_module_imports_itself_through_others():
    assert (ROOT / "manage.py").is_file()
    graph = grimp.build_graph(*PACKAGES)
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for module in ("a.x", "a.y", "b.z", "b.w"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="b.z")
    graph.add_import(importer="b.z", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="b.w", imported="a.x")
    assert _circles(graph) == [["a.x", "a.y", "b.z"]]
