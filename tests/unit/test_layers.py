"""The packages import each other in one direction only: the layers the README's "What is where" describes.

Every import of our own packages (at module level or inside a function; imports under `if TYPE_CHECKING:` are
annotations, not dependencies, and are skipped) must point to a lower layer. A new module in a new folder fails
here until it is given its place in LAYERS, so the order stays a decision rather than an accident.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("engine", "forms", "web", "api")
# Lowest first. A unit is a top-level package, an engine subpackage, or one of engine's own modules.
LAYERS = (
    "forms",                 # JSON Schema forms: imports nothing of ours
    "engine.messages",       # translatable messages
    "engine.errors",
    "engine.config",
    "engine.values",         # what a case may hold
    "engine.timekeeping",    # working days, deadlines, the clock SpiffWorkflow's timers read
    "engine.forms_gate",     # the forms package seen through engine errors and the office's date
    "engine.integrity",      # canonical event bytes, hashes, Merkle proofs, the office's Ed25519 key
    "engine.sandbox",        # scripts and conditions
    "engine.language",       # parsing and lint of BPMN/DMN (compiles scripts with the sandbox)
    "engine.runtime",        # running a case, the serializer
    "engine.storage",        # tables, transactions, writing a case
    "engine.mail",           # the outbox
    "engine.documents",      # templates rendered to PDF/A, QR codes, verification codes
    "engine.reports",        # report tables, their CSV/XLSX/PDF exports and SVG charts
    "engine.accounts",       # permissions, logins, users
    "engine.audit",          # checkpoints, the access log, verification and case exports over the sealed history
    "engine.usecases",       # what the API and the pages call (they receive the services, typed only)
    "engine.services",       # the one place concrete choices are wired: imports the layers below
    "engine.ops",            # scheduler, backups, health, supervisor
    "engine.cli",            # the engine's commands
    "web",                   # pages, browser session, language
    "api",                   # REST, the app factory, `expediente serve`
)
RANK = {name: i for i, name in enumerate(LAYERS)}


def unit_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "engine" or len(parts) == 1:
        return parts[0]
    return f"engine.{parts[1]}"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import of one of our packages in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from engine import errors` imports the module engine.errors
            found += [(node.lineno, f"{node.module}.{a.name}" if node.module == "engine" else node.module)
                      for a in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def source_files():
    for top in OURS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "node_modules" not in path.parts and "static" not in path.parts:
                yield path


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in source_files():
        src = unit_of(module_of(path))
        for _, name in imports(path):
            dst = unit_of(name)
            if dst != src and dst != "engine":
                edges.setdefault(src, set()).add(dst)
    return edges


def test_every_package_has_a_layer():
    units = {unit_of(module_of(p)) for p in source_files()} - {"engine"}
    assert units <= set(RANK), f"give these a place in LAYERS: {sorted(units - set(RANK))}"


def test_imports_only_point_down():
    upward = []
    for path in source_files():
        src = unit_of(module_of(path))
        for line, name in imports(path):
            dst = unit_of(name)
            if dst not in (src, "engine") and RANK.get(dst, -1) > RANK.get(src, -1):
                upward.append(f"{path.relative_to(ROOT)}:{line} ({src}) imports {name} ({dst})")
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    """The walk above finds imports inside functions too, the kind that would hide a cycle."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from api.app import create_app\n\nimport engine.errors\n", encoding="utf-8")
    assert sorted(imports(probe)) == [(2, "api.app"), (4, "engine.errors")]


def test_the_import_graph_has_no_cycle():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
