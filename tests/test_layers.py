"""The layers of docs/development.md, from the syntax trees of every module (imports inside functions
included): no module imports one of a layer above it, and no import circle exists."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Top down. A module belongs to the layer of its longest listed prefix.
LAYERS = [
    ("command line", ["arae.cli", "arae.__main__", "arae.score"]),
    ("execution, results and report", ["arae.runner", "arae.launch", "arae.results", "reports"]),
    ("benchmark specs", ["benchmarks"]),
    ("tasks", ["arae.tasks"]),
    ("spec types", ["arae.benchmark"]),
    ("models, metrics, data and training", ["arae.models", "arae.metrics", "arae.data", "arae.training", "baselines"]),
    ("core utilities", ["arae"]),
]


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("arae", "baselines", "benchmarks", "reports"):
        for path in (ROOT / top).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _ours(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in map(_ours, names) if m}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _layer(module: str) -> int:
    best = max(((len(p), i) for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes
                if module == p or module.startswith(p + ".")), default=None)
    assert best is not None, f"{module} is in no layer"
    return best[1]


def test_no_module_imports_a_layer_above_its_own():
    upward = [f"{m} ({LAYERS[_layer(m)][0]}) imports {d} ({LAYERS[_layer(d)][0]})"
              for m, deps in GRAPH.items() for d in deps if _layer(d) < _layer(m)]
    assert not upward, "\n".join(upward)


def test_the_results_layer_and_the_report_read_records_only():
    for module in (m for m in GRAPH if m == "arae.results" or m.startswith("reports")):
        assert GRAPH[module] <= {"arae.io", "arae.errors", "arae.results"} | {m for m in MODULES if m.startswith("reports")}, \
            (module, GRAPH[module])


def test_no_import_circle():
    def walk(module: str, path: list[str], done: set[str]) -> None:
        for dep in sorted(GRAPH[module]):
            if module.startswith(dep + "."):  # a module importing its own package's names is not a circle
                continue
            assert dep not in path, "import circle: " + " -> ".join(path[path.index(dep):] + [dep])
            if dep not in done:
                walk(dep, path + [dep], done)
        done.add(module)

    done: set[str] = set()
    for module in sorted(GRAPH):
        if module not in done:
            walk(module, [module], done)
