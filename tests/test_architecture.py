"""The package layout: subpackages per stage, and no import from a lower layer into a higher one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "src/volcdet"

#: What each subpackage may import besides itself (docs/architecture.md). The demo region is
#: a stand-in for real data, so it sits beside the simulator and may not import it.
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "core": set(),
    "models": set(),
    "data": {"core"},
    "demo": {"core", "data"},
    "simulation": {"core", "data"},
    "learning": {"core", "data"},
    "evaluation": {"core", "data", "demo", "simulation", "learning"},
    "inference": {"core", "models", "data", "learning"},
}

#: Upward imports tolerated until the issue that removes them lands (module -> imported module).
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


#: The simulator's noise path: code that draws the training noise.
SIMULATOR_NOISE_PATH = {
    "volcdet.simulation.atmosphere",
    "volcdet.simulation.random_fields",
    "volcdet.simulation.noise",
    "volcdet.simulation.missing_data",
    "volcdet.simulation.ramps",
    "volcdet.simulation.stratified",
    "volcdet.simulation.speckle",
}
#: Modules whose inputs must not come from that path, even indirectly: the shortcut probes would
#: pass by construction if they drew their negatives with the simulator's code.
INDEPENDENT_OF_NOISE_PATH = ("volcdet.evaluation.probes",)


def imported_modules(source: str, module: str) -> set[str]:
    """Absolute names of the volcdet modules a module's source imports (anywhere in the file)."""
    found = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "volcdet" or name.startswith("volcdet.")}


def layer_violations(module: str, imports: set[str]) -> list[str]:
    """Imports of ``module`` that break ALLOWED_IMPORTS (each as 'module -> imported')."""
    parts = module.split(".")
    own = parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED_IMPORTS) else None
    bad = []
    for name in sorted(imports):
        target = name.split(".")
        if len(target) < 2 or target[1] not in ALLOWED_IMPORTS:
            continue  # volcdet itself (__version__) or a top-level name
        if own is None:
            bad.append(f"{module} -> {name} (top-level modules hold no logic)")
        elif (
            target[1] != own
            and target[1] not in ALLOWED_IMPORTS[own]
            and (module, ".".join(target[:3])) not in KNOWN_EXCEPTIONS
        ):
            bad.append(f"{module} -> {name}")
    return bad


def package_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def test_every_module_lives_in_a_stage_subpackage():
    loose = [
        name
        for name, path in package_modules().items()
        if name.count(".") == 1 and path.name != "__init__.py"
    ]
    assert loose == [], f"modules outside a subpackage: {loose}"
    assert {name.split(".")[1] for name in package_modules() if "." in name} == set(ALLOWED_IMPORTS)


def test_no_subpackage_imports_a_higher_layer():
    violations = []
    for module, path in package_modules().items():
        violations += layer_violations(module, imported_modules(path.read_text(), module))
    assert violations == [], "upward imports:\n" + "\n".join(violations)


def subpackage_imports() -> dict[str, set[str]]:
    """The subpackages each subpackage really imports (besides itself)."""
    graph: dict[str, set[str]] = {name: set() for name in ALLOWED_IMPORTS}
    for module, path in package_modules().items():
        parts = module.split(".")
        if len(parts) < 2 or parts[1] not in graph:
            continue
        for name in imported_modules(path.read_text(), module):
            target = name.split(".")
            if len(target) >= 2 and target[1] in graph and target[1] != parts[1]:
                graph[parts[1]].add(target[1])
    return graph


def test_allowed_imports_are_the_real_import_graph():
    """An allowance no module uses is a layer rule that documents nothing: delete it."""
    assert subpackage_imports() == ALLOWED_IMPORTS


def documented_imports() -> dict[str, set[str]]:
    """The "may import" column of the layer table in docs/architecture.md."""
    documented = {}
    for line in (REPO / "docs/architecture.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`volcdet."):
            name = cells[1].strip("`").split(".")[1]
            allowed = re.sub(r"\([^)]*\)", "", cells[3]).split(";")[0]
            documented[name] = {
                word.strip() for word in allowed.split(",") if word.strip() in ALLOWED_IMPORTS
            }
    return documented


def test_the_layer_table_of_the_docs_says_what_the_code_does():
    assert documented_imports() == ALLOWED_IMPORTS


def test_known_exceptions_are_still_needed():
    """An exception that no module uses any more must be deleted from the list."""
    used = {
        (module, ".".join(name.split(".")[:3]))
        for module, path in package_modules().items()
        for name in imported_modules(path.read_text(), module)
    }
    assert used >= KNOWN_EXCEPTIONS, KNOWN_EXCEPTIONS - used


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("volcdet.data.frames", "from volcdet.learning.model import ModelSpec"),
        ("volcdet.simulation.simulate", "import volcdet.evaluation.metrics"),
        ("volcdet.core.phase", "from volcdet.data import stores"),
        ("volcdet.demo.region", "from volcdet.simulation.atmosphere import simulate_atmosphere"),
        ("volcdet.learning.training", "def f():\n    from ..inference.scan import ScanSpec"),
    ],
)
def test_the_check_catches_an_upward_import(module, source):
    assert layer_violations(module, imported_modules(source, module))


def test_the_check_allows_downward_imports():
    source = "from volcdet.data.stores import open_store\nfrom volcdet.core import errors\n"
    assert layer_violations("volcdet.learning.training", imported_modules(source, "x.y.z")) == []


def transitive_imports(module: str, modules: dict[str, Path]) -> set[str]:
    """Every volcdet module that ``module`` imports, directly or through other volcdet modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in imported_modules(modules[current].read_text(), current):
            # "from volcdet.x import y" names y too: keep only names that are modules.
            target = name if name in modules else name.rsplit(".", 1)[0]
            if target in modules and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize("module", INDEPENDENT_OF_NOISE_PATH)
def test_probes_do_not_share_the_simulators_noise_path(module):
    modules = package_modules()
    assert module in modules
    shared = transitive_imports(module, modules) & SIMULATOR_NOISE_PATH
    assert shared == set(), f"{module} reaches the simulator's noise code: {sorted(shared)}"


def test_the_noise_path_check_catches_an_indirect_import(tmp_path):
    modules = {
        "volcdet.evaluation.probes": tmp_path / "a.py",
        "volcdet.evaluation.helper": tmp_path / "b.py",
        "volcdet.simulation.ramps": tmp_path / "c.py",
    }
    modules["volcdet.evaluation.probes"].write_text("from volcdet.evaluation import helper\n")
    modules["volcdet.evaluation.helper"].write_text(
        "from volcdet.simulation.ramps import ramp_mm\n"
    )
    modules["volcdet.simulation.ramps"].write_text("")
    assert "volcdet.simulation.ramps" in transitive_imports("volcdet.evaluation.probes", modules)
