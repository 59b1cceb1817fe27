"""The shape of the code, checked: layers, import cycles, private names, sizes.

docs/ARCHITECTURE.md states these rules; this module holds the code to them by reading
every module of the four packages with `ast` (nothing is imported or run):

- the layers import one way: `machine` imports none of the others, `kernel` only
  `machine`, `sysdesc` only `machine` and `kernel`, and `atoll` any of them;
- a package uses another through the names its `__init__` exports (and the few
  modules PUBLIC_MODULES lists), never by reaching into its other modules;
- no import cycle among the project's modules, counting imports inside functions (which
  hide a cycle rather than remove it) but not those under `if TYPE_CHECKING:`, which
  never run;
- no module uses another's private name (`_name`): not by importing it, not as an
  attribute of anything but `self` or `cls`. A third party's private name that Atoll
  relies on is listed in THIRD_PARTY with the reason;
- sizes: no module over 500 lines in machine/, kernel/, atoll/, no class over 30
  methods, no function over 60 lines, and at most 2,500 lines of Python code (not
  counting blank lines, comments and docstrings) in kernel/, the trusted runtime.
  OVERSIZE names the places still over a limit, each with its size; a place that grows,
  a new one over a limit, or one listed that is no longer over, fails.
"""

from __future__ import annotations

import ast
import collections
import io
import pathlib
import tokenize

import pytest

from tests.conftest import ROOT

PACKAGES = ("machine", "kernel", "sysdesc", "atoll")
#: what each package may import of the others
MAY_IMPORT = {
    "machine": set(),
    "kernel": {"machine"},
    "sysdesc": {"machine", "kernel"},
    "atoll": {"machine", "kernel", "sysdesc"},
}
#: modules other packages may import from directly, besides a package's `__init__` names
PUBLIC_MODULES = {
    "kernel.abi": "the ABI's numbers, limits and layouts: the one source the C header is made from",
    "kernel.rules": "the rule types the kernel enforces, which sysdesc builds from files",
}
#: private names of other projects that Atoll uses, and why
THIRD_PARTY = {
    "_uch": "the Unicorn binding's engine handle, passed to Unicorn's C API (unicorn is pinned exactly)",
    "_hook_exception": "the Unicorn binding's record of an exception a Python hook raised, which "
                       "`Uc.emu_start` re-raises; the machine's native slice runner does the same",
    "_arg2fixturedefs": "pytest's fixture closure of a test item: the bench plugin finds which tests use `dut`",
    "_tmp_path_factory": "pytest's per-session temporary-path factory, read by the bench plugin's `dut` fixture",
}
MODULE_LINES, CLASS_METHODS, FUNCTION_LINES, KERNEL_CODE_LINES = 500, 30, 60, 2500
#: (kind, place) -> its size today, for the places over a limit not yet split
OVERSIZE: dict[tuple[str, str], int] = {}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under `if TYPE_CHECKING:`."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skip


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The project modules (or packages) an import statement in `module` names."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            if MODULES[module].name != "__init__.py":
                parts.pop()
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join(parts + ([node.module] if node.module else []))
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    found = []
    for target in targets:
        while target not in MODULES and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in MODULES and target != module:
            found.append(target)
    return found


def _import_graph(trees: dict[str, ast.Module] = TREES) -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first import}."""
    graph: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for module, tree in trees.items():
        skip = _type_checking_only(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skip:
                for target in _imported(module, node):
                    graph[module].setdefault(target, node.lineno)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    return found


def test_the_layers_import_one_way():
    wrong = [f"{module}:{line} imports {target}"
             for module, targets in _import_graph().items() for target, line in targets.items()
             if target.split(".")[0] != module.split(".")[0]
             and target.split(".")[0] not in MAY_IMPORT[module.split(".")[0]]]
    assert wrong == []


def test_other_packages_use_a_package_through_its_public_names():
    reaching_in = [f"{module}:{line} imports {target}"
                   for module, targets in _import_graph().items() for target, line in targets.items()
                   if target.split(".")[0] != module.split(".")[0]
                   and target != target.split(".")[0] and target not in PUBLIC_MODULES]
    assert reaching_in == []


def test_no_module_imports_another_in_a_cycle():
    graph = _import_graph()
    described = [" -> ".join(f"{m} (line {graph[m][n]})" for m, n in zip(cycle, cycle[1:] + cycle[:1]) if n in graph[m])
                 for cycle in _cycles(graph)]
    assert described == []


def test_a_cycle_through_a_function_level_import_is_found_and_one_for_type_checking_only_is_not():
    hidden = {"kernel.fastpath": ast.parse("def arm():\n    from .kernel import Kernel\n"),
              "kernel.kernel": ast.parse("from .fastpath import FastPath\n")}
    assert _cycles(_import_graph(hidden)) == [["kernel.fastpath", "kernel.kernel"]]
    annotations = {"kernel.fastpath": ast.parse("if TYPE_CHECKING:\n    from .kernel import Kernel\n"),
                   "kernel.kernel": ast.parse("from .fastpath import FastPath\n")}
    assert _cycles(_import_graph(annotations)) == []


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and not (name.endswith("_") and len(name) > 2)


def _private_uses(module: str, tree: ast.Module) -> list[str]:
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, ast.alias) and node.asname:
            own.add(node.asname)
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            uses += [f"{module}:{node.lineno} imports {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in THIRD_PARTY:
            through_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not through_self and node.attr not in own:
                uses.append(f"{module}:{node.lineno} uses {ast.unparse(node)}")
    return uses


def test_no_module_uses_a_private_name_of_another():
    uses = [use for module, tree in TREES.items() for use in _private_uses(module, tree)]
    assert uses == []


def test_a_private_attribute_of_another_object_is_found():
    tree = ast.parse("def f(clock):\n    self._mine = clock._queue\n")
    assert _private_uses("m", tree) == ["m:2 uses clock._queue"]


def _code_lines(path: pathlib.Path) -> int:
    """Lines holding Python code: not blank, not only a comment, not a docstring."""
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                              tokenize.DEDENT, tokenize.ENDMARKER):
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def _definitions(node: ast.AST, prefix: str):
    """(qualified name, node) of every class and function under `node`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}.{child.name}"
            yield name, child
            yield from _definitions(child, name)
        else:
            yield from _definitions(child, prefix)


def _sizes() -> dict[tuple[str, str], int]:
    """Every place over a limit, with its size."""
    over = {}
    for module, path in MODULES.items():
        if module.split(".")[0] == "sysdesc":
            continue  # the build-and-check side: not in the runtime's limits
        lines = len(path.read_text().splitlines())
        if lines > MODULE_LINES:
            over["module lines", module] = lines
        for name, node in _definitions(TREES[module], module):
            if isinstance(node, ast.ClassDef):
                methods = sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in node.body)
                if methods > CLASS_METHODS:
                    over["class methods", name] = methods
            else:
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    over["function lines", name] = length
    code = sum(_code_lines(path) for module, path in MODULES.items() if module.split(".")[0] == "kernel")
    if code > KERNEL_CODE_LINES:
        over["kernel code lines", "kernel"] = code
    return over


def test_modules_classes_and_functions_stay_within_their_sizes():
    sizes = _sizes()
    grown = {place: size for place, size in sizes.items() if size > OVERSIZE.get(place, 0)}
    gone = sorted(place for place in OVERSIZE if place not in sizes)
    assert grown == {} and gone == [], (
        f"over a limit and not listed (or grown past its listed size): {grown}; "
        f"listed in OVERSIZE but within the limits now (remove them): {gone}")


@pytest.mark.parametrize("source, expected", [
    ("x = 1\n", 1),
    ('"""doc\n\nmore"""\n# comment\n\ndef f():\n    """doc"""\n    return (1,\n            2)\n', 3),
])
def test_code_lines_leave_out_docstrings_comments_and_blank_lines(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert _code_lines(path) == expected
