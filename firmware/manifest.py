"""Out-of-tree components: a user's folder, anywhere, with a ``component.toml`` manifest.

The manifest names the component and says how to compile it; every key but ``name`` is optional::

    [component]
    name = "bench"                      # the ELF's name and ATL_COMPONENT
    sources = ["*.c", "src/**/*.c"]     # globs relative to the folder (default: every .c file in it)
    include = ["include"]               # folders for -I, relative to the folder
    defines = ["ITERATIONS=10", "NDEBUG"]   # -D flags
    cflags = ["-std=gnu99"]             # more compiler flags, after Atoll's

``build_folder`` builds it for one ISA into ``<folder>/build/<isa>/<name>.elf`` (or another output
folder) through firmware/components.py, with its build cache, picolibc and the runtime; user code
is compiled without ``-Werror``. ``folder_commands`` gives the compile and link commands instead, for
a user's own Make or CMake. A bad manifest raises ``ManifestError``: one line naming the file and
the key (``component.toml: component.sources[1]: must be a string, not 3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from firmware import components
from machine import TomlChecker, read_toml

MANIFEST = "component.toml"
KEYS = {"name", "sources", "include", "defines", "cflags"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_DEFINE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(=.*)?\Z", re.S)


class ManifestError(ValueError):
    """A component folder or manifest that cannot be built from; one line naming file and key."""


@dataclass(frozen=True)
class Manifest:
    folder: Path
    name: str
    sources: tuple[Path, ...]
    include: tuple[Path, ...]
    defines: tuple[str, ...]
    cflags: tuple[str, ...]

    @property
    def flags(self) -> list[str]:
        return [*(f"-D{d}" for d in self.defines), *self.cflags]


class _Checker(TomlChecker):
    error = ManifestError

    def strings(self, table: dict, key: str, default: list[str]) -> list[str]:
        raw = self.get(table, key, "component", list, required=False, default=default)
        for i, item in enumerate(raw):
            self.value(item, f"component.{key}[{i}]", str)
            if not item:
                raise self.fail(f"component.{key}[{i}]", "must not be empty")
        return raw


def load_manifest(folder: str | Path) -> Manifest:
    """The checked manifest of the component in ``folder``."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ManifestError(f"{folder}: no such folder")
    if not path.is_file():
        raise ManifestError(f"{folder}: no {MANIFEST} (a component folder needs one: [component] name = ...)")
    c = _Checker(path)
    data = read_toml(path, ManifestError)
    c.only(data, None, {"component"})
    table = c.table(data, "component", KEYS)
    name = c.get(table, "name", "component", str)
    if not _NAME.match(name):
        raise c.fail("component.name", f"must be letters, digits, '_' and '-', starting with a letter, not {name!r}")
    sources: list[Path] = []
    for i, pattern in enumerate(c.strings(table, "sources", ["*.c"])):
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise c.fail(f"component.sources[{i}]", f"must be a glob inside the folder, not {pattern!r}")
        found = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix in (".c", ".S", ".s"))
        if not found:
            raise c.fail(f"component.sources[{i}]", f"{pattern!r} matches no .c or .S file")
        sources += [p for p in found if p not in sources]
    include = []
    for i, text in enumerate(c.strings(table, "include", [])):
        if not (folder / text).is_dir():
            raise c.fail(f"component.include[{i}]", f"{text!r} is not a folder")
        include.append(folder / text)
    defines = c.strings(table, "defines", [])
    for i, define in enumerate(defines):
        if not _DEFINE.match(define):
            raise c.fail(f"component.defines[{i}]", f"must be NAME or NAME=VALUE, not {define!r}")
    cflags = c.strings(table, "cflags", [])
    return Manifest(folder, name, tuple(sources), tuple(include), tuple(defines), tuple(cflags))


def output_of(manifest: Manifest, isa: str, out_dir: Path | None = None) -> Path:
    """Where ``build_folder`` puts the ELF: ``<out_dir>/<isa>/<name>.elf``, by default under ``<folder>/build``."""
    return Path(out_dir or manifest.folder / "build") / isa / f"{manifest.name}.elf"


def build_folder(folder: str | Path, isa: str, out_dir: Path | None = None) -> Path:
    """Build the component in ``folder`` for ``isa``; returns the ELF's path."""
    m = load_manifest(folder)
    out = Path(out_dir or m.folder / "build")
    return components.build_component(m.name, m.folder, isa, out, sources=list(m.sources),
                                      include_dirs=m.include, flags=m.flags, werror=False)


def folder_commands(folder: str | Path, isa: str, out_dir: Path | None = None) -> tuple[list[list[str]], list[str]]:
    """The compile commands and the link command that build the component in ``folder``."""
    m = load_manifest(folder)
    out = Path(out_dir or m.folder / "build")
    return components.commands_for(m.name, m.folder, isa, out, list(m.sources), m.include, m.flags)
