"""Board descriptions: TOML files read into a checked, frozen `BoardSpec`.

A board file names the CPU (ISA, model, frequency, how it resets), the physical
memory regions, the peripherals (registered type, base, window size, interrupt
wiring, parameters) and which peripheral is the interrupt controller. Everything
is checked before a machine is built; an error names the file, the key and the
problem in one line, e.g.

    x.toml: peripheral 'uart0'.type: unknown type 'uart'; known types: ...

`load_board("hifive1")` reads `machine/boards/hifive1.toml`; a path to any other
TOML file works too, which is how a user adds a board. A bare name (no `.toml`, no
directory separator) always means a shipped board, whatever the working directory
holds; every message after the file is found starts with the file's name.
"""

from __future__ import annotations

import enum
import os
import pathlib
from dataclasses import dataclass, field
from typing import Any

from .cpu import CPU_MODELS, CPU_TYPES
from .irq import InterruptController
from .memory import PAGE_SIZE, Perm, Region
from .peripheral import Peripheral
from .peripherals import PERIPHERAL_TYPES, RegisterBlock, RegisterDecl
from .tomlcheck import TomlChecker, kind_name, read_toml

BOARDS_DIR = pathlib.Path(__file__).with_name("boards")
ADDRESS_LIMIT = 1 << 32


class BoardError(ValueError):
    """A board description that cannot be used; the message names file, key and problem."""


#: the fastest clock a board may declare: far above any microcontroller's, and low enough that
#: cycle counts (64-bit in the native counter) cannot wrap in any run
MAX_FREQUENCY_HZ = 10_000_000_000


class ResetKind(enum.StrEnum):
    """How a board's CPU comes out of reset."""

    VECTOR_TABLE = "vector-table"   # SP and PC from the vector table
    ENTRY = "entry"                 # at the loaded ELF's entry point


@dataclass(frozen=True)
class CpuSpec:
    isa: str
    model: str
    frequency_hz: int
    reset: ResetKind
    vector_table: int = 0


@dataclass(frozen=True)
class PeripheralSpec:
    name: str
    type: str
    cls: type[Peripheral]
    base: int
    size: int
    irq: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class BoardSpec:
    name: str
    description: str
    path: pathlib.Path
    cpu: CpuSpec
    regions: tuple[Region, ...]
    peripherals: tuple[PeripheralSpec, ...]
    interrupt_controller: str | None

    def peripheral(self, name: str) -> PeripheralSpec:
        for p in self.peripherals:
            if p.name == name:
                return p
        raise KeyError(f"board {self.name} has no peripheral {name!r}")

    def region_at(self, address: int, length: int = 1) -> Region | None:
        for r in self.regions:
            if r.contains(address, length):
                return r
        return None


def known_boards() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def _is_path(name_or_path: str | pathlib.Path) -> bool:
    if isinstance(name_or_path, os.PathLike):
        return True
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return name_or_path.endswith(".toml") or any(sep in name_or_path for sep in seps)


def load_board(name_or_path: str | pathlib.Path) -> BoardSpec:
    """Read and check a board by name (a file in machine/boards) or by path.

    A string is a path if it ends in `.toml` or contains a directory separator;
    otherwise it names a shipped board (never a file in the working directory).
    """
    if _is_path(name_or_path):
        path = pathlib.Path(name_or_path)
    else:
        path = BOARDS_DIR / f"{name_or_path}.toml"
        try:
            shipped = path.is_file()
        except OSError:  # a name no file can have (too long, say) is no shipped board's
            shipped = False
        if not shipped:
            raise BoardError(f"unknown board {name_or_path!r}; known boards: {', '.join(known_boards())} "
                             f"(or give the path of a board file ending in .toml)")
    return parse_board(read_toml(path, BoardError), path)


class _Checker(TomlChecker):
    """The board file's own checks on top of the shared TOML reading."""

    error = BoardError

    def address(self, table: dict, key: str, where: str) -> int:
        value = self.get(table, key, where, int)
        if not 0 <= value < ADDRESS_LIMIT:
            raise self.fail(f"{where}.{key}", f"must be a 32-bit address, not {value:#x}")
        return value

    def size(self, table: dict, key: str, where: str) -> int:
        value = self.get(table, key, where, int)
        if value <= 0:
            raise self.fail(f"{where}.{key}", f"must be a positive integer, not {value}")
        if value % PAGE_SIZE:
            raise self.fail(f"{where}.{key}", f"must be a multiple of the page size {PAGE_SIZE:#x}, not {value:#x}")
        return value


def parse_board(data: dict, path: pathlib.Path) -> BoardSpec:
    c = _Checker(path)
    c.only(data, None, {"board", "cpu", "region", "peripheral", "interrupts"})
    board = c.table(data, "board", {"name", "description"})
    name = c.get(board, "name", "board", str)
    description = c.get(board, "description", "board", str, required=False, default="")

    cpu_t = c.table(data, "cpu", {"isa", "model", "frequency_hz", "reset", "vector_table"})
    isa = c.get(cpu_t, "isa", "cpu", str)
    if isa not in CPU_TYPES:
        raise c.fail("cpu.isa", f"must be one of {', '.join(map(repr, CPU_TYPES))}, not {isa!r}")
    model = c.get(cpu_t, "model", "cpu", str)
    if model not in CPU_MODELS[isa]:
        raise c.fail("cpu.model", f"must be one of {', '.join(map(repr, CPU_MODELS[isa]))} for {isa}, not {model!r}")
    freq = c.get(cpu_t, "frequency_hz", "cpu", int)
    if freq <= 0:
        raise c.fail("cpu.frequency_hz", f"must be a positive integer, not {freq}")
    if freq > MAX_FREQUENCY_HZ:
        raise c.fail("cpu.frequency_hz", f"must be at most {MAX_FREQUENCY_HZ:_} (10 GHz), not {freq:_}")
    reset_name = c.get(cpu_t, "reset", "cpu", str)
    if reset_name not in tuple(ResetKind):
        raise c.fail("cpu.reset", f"must be 'vector-table' or 'entry', not {reset_name!r}")
    reset = ResetKind(reset_name)
    vector_table = 0
    if reset is ResetKind.VECTOR_TABLE:
        if "vector_table" not in cpu_t:
            raise c.fail("cpu.vector_table", "missing; reset = 'vector-table' needs the table's address")
        vector_table = c.address(cpu_t, "vector_table", "cpu")
    elif "vector_table" in cpu_t:
        raise c.fail("cpu.vector_table", f"only goes with reset = 'vector-table', not {reset_name!r}")
    cpu = CpuSpec(isa, model, freq, reset, vector_table)

    regions = _parse_regions(c, data)
    peripherals = _parse_peripherals(c, data)
    _check_overlaps(c, regions, peripherals)

    controller = None
    if "interrupts" in data:
        intr = c.table(data, "interrupts", {"controller"})
        controller = c.get(intr, "controller", "interrupts", str)
        spec = next((p for p in peripherals if p.name == controller), None)
        if spec is None:
            names = ", ".join(p.name for p in peripherals) or "none"
            raise c.fail("interrupts.controller",
                         f"must name a peripheral of this board ({names}), not {controller!r}")
        if not issubclass(spec.cls, InterruptController):
            raise c.fail("interrupts.controller", f"peripheral {controller!r} ({spec.type}) is not an interrupt controller")
    _check_irqs(c, peripherals, controller)

    if reset is ResetKind.VECTOR_TABLE and not any(r.contains(vector_table, 8) for r in regions):
        raise c.fail("cpu.vector_table", f"{vector_table:#x} is not inside a memory region")
    return BoardSpec(name, description, path, cpu, tuple(regions), tuple(peripherals), controller)


def _parse_regions(c: _Checker, data: dict) -> list[Region]:
    raw = data.get("region")
    if raw is None:
        raise c.fail("region", "missing; a board needs at least one [[region]] of memory")
    _check_array(c, raw, "region")
    if not raw:
        raise c.fail("region", "is empty; a board needs at least one [[region]] of memory")
    regions: list[Region] = []
    for i, t in enumerate(raw):
        where = f"region[{i}]"
        if not isinstance(t, dict):
            raise c.fail(where, f"must be a table, not {t!r}")
        name = c.get(t, "name", where, str)
        where = f"region {name!r}"
        c.only(t, where, {"name", "base", "size", "access", "kind"})
        if any(r.name == name for r in regions):
            raise c.fail(f"{where}.name", "is used twice")
        base = c.address(t, "base", where)
        if base % PAGE_SIZE:
            raise c.fail(f"{where}.base", f"must be a multiple of the page size {PAGE_SIZE:#x}, not {base:#x}")
        size = c.size(t, "size", where)
        if base + size > ADDRESS_LIMIT:
            raise c.fail(f"{where}.size", f"{base:#x}+{size:#x} passes the end of the 32-bit address space")
        kind = c.get(t, "kind", where, str)
        if kind not in ("ram", "flash"):
            raise c.fail(f"{where}.kind", f"must be 'ram' or 'flash', not {kind!r}")
        access = c.get(t, "access", where, str)
        try:
            perms = Perm.parse(access)
        except ValueError as e:
            raise c.fail(f"{where}.access", str(e)) from None
        if not perms:
            raise c.fail(f"{where}.access", "must give at least one of 'r', 'w', 'x', not ''")
        regions.append(Region(name, base, size, perms, kind))
    return regions


def _check_array(c: _Checker, raw: Any, key: str) -> None:
    if isinstance(raw, dict):
        raise c.fail(key, f"must be an array of tables, written [[{key}]], not a single [{key}] table")
    if not isinstance(raw, list):
        raise c.fail(key, f"must be an array of tables, written [[{key}]], not {raw!r}")


def _parse_peripherals(c: _Checker, data: dict) -> list[PeripheralSpec]:
    raw = data.get("peripheral", [])
    _check_array(c, raw, "peripheral")
    result: list[PeripheralSpec] = []
    for i, t in enumerate(raw):
        where = f"peripheral[{i}]"
        if not isinstance(t, dict):
            raise c.fail(where, f"must be a table, not {t!r}")
        name = c.get(t, "name", where, str)
        if not name.isidentifier():
            raise c.fail(f"{where}.name", f"must be an identifier (letters, digits, _), not {name!r}")
        where = f"peripheral {name!r}"
        c.only(t, where, {"name", "type", "base", "size", "irq", "params", "register"})
        if any(p.name == name for p in result):
            raise c.fail(f"{where}.name", "is used twice")
        type_name = c.get(t, "type", where, str)
        cls = PERIPHERAL_TYPES.get(type_name)
        if cls is None:
            raise c.fail(f"{where}.type", f"unknown type {type_name!r}; known types: "
                                          f"{', '.join(sorted(PERIPHERAL_TYPES))}")
        base = c.address(t, "base", where)
        if base % PAGE_SIZE:
            raise c.fail(f"{where}.base", f"must be a multiple of the page size {PAGE_SIZE:#x}, not {base:#x}")
        size = c.size(t, "size", where)
        if base + size > ADDRESS_LIMIT:
            raise c.fail(f"{where}.size", f"{base:#x}+{size:#x} passes the end of the 32-bit address space")
        if size < cls.WINDOW:
            raise c.fail(f"{where}.size", f"must be at least {cls.WINDOW:#x}, the window {type_name} decodes, "
                                          f"not {size:#x}")
        irq = _parse_irq(c, t.get("irq"), where, type_name, cls)
        params = c.get(t, "params", where, dict, required=False, default={})
        accepted: dict[str, type] = getattr(cls, "PARAMS", {})
        for k, v in params.items():
            if k not in accepted:
                raise c.fail(f"{where}.params.{k}", f"unknown parameter of {type_name}; "
                                                    f"accepted: {', '.join(sorted(accepted)) or 'none'}")
            want = accepted[k]
            if not isinstance(v, want) or (want is int and isinstance(v, bool)):
                raise c.fail(f"{where}.params.{k}", f"must be {kind_name(want)}, not {v!r}")
        params = dict(params)
        if cls is RegisterBlock:
            params["registers"] = RegisterDecl.parse_all(c, t.get("register"), where, size)
        elif "register" in t:
            raise c.fail(f"{where}.register", f"only a peripheral of type 'registers' declares registers, "
                                               f"not one of type {type_name!r}")
        spec = PeripheralSpec(name, type_name, cls, base, size, irq, params)
        if params:  # only parameters can make a type refuse to be built
            _probe(c, spec)
        result.append(spec)
    return result


def _parse_irq(c: _Checker, raw: Any, where: str, type_name: str, cls: type[Peripheral]) -> dict[str, int]:
    outputs = cls.IRQS
    if raw is None:
        return {}
    if not outputs:
        raise c.fail(f"{where}.irq", f"{type_name} has no interrupt outputs to wire")
    if isinstance(raw, int) and not isinstance(raw, bool):
        if len(outputs) != 1:
            raise c.fail(f"{where}.irq", f"{type_name} has {len(outputs)} interrupt outputs "
                                          f"({', '.join(outputs)}); wire them by name in a table "
                                          f"or in that order in an array")
        raw = {outputs[0]: raw}
    elif isinstance(raw, list):
        if len(raw) > len(outputs):
            raise c.fail(f"{where}.irq", f"lists {len(raw)} lines but {type_name} has {len(outputs)} "
                                          f"interrupt outputs ({', '.join(outputs)})")
        raw = dict(zip(outputs, raw))
    if not isinstance(raw, dict):
        raise c.fail(f"{where}.irq", f"must be an integer, an array or a table, not {raw!r}")
    wiring: dict[str, int] = {}
    for out, line in raw.items():
        if out not in outputs:
            raise c.fail(f"{where}.irq.{out}", f"{type_name} has no interrupt output {out!r}; "
                                                f"outputs: {', '.join(outputs)}")
        if not isinstance(line, int) or isinstance(line, bool) or line < 0:
            raise c.fail(f"{where}.irq.{out}", f"must be a non-negative integer, not {line!r}")
        wiring[out] = line
    return wiring


def _check_overlaps(c: _Checker, regions: list[Region], peripherals: list[PeripheralSpec]) -> None:
    spans = [(r.base, r.end, f"region {r.name!r}") for r in regions]
    spans += [(p.base, p.end, f"peripheral {p.name!r}") for p in peripherals]
    spans.sort()
    for (b1, e1, n1), (b2, e2, n2) in zip(spans, spans[1:]):
        if b2 < e1:
            raise c.fail(n2, f"{b2:#x}-{e2:#x} overlaps {n1} at {b1:#x}-{e1:#x}")


def _check_irqs(c: _Checker, peripherals: list[PeripheralSpec], controller: str | None) -> None:
    ctrl = next((p for p in peripherals if p.name == controller), None)
    first, limit = 0, None
    if ctrl is not None:
        first, limit = _controller_lines(c, ctrl)
    for p in peripherals:
        if p.irq and ctrl is None:
            raise c.fail(f"peripheral {p.name!r}.irq", "is wired but the board names no [interrupts] controller")
        for out, line in p.irq.items():
            if limit is not None and line >= limit:
                raise c.fail(f"peripheral {p.name!r}.irq.{out}",
                             f"line {line} is beyond the {limit} lines of controller {controller!r}")
            if line < first:
                raise c.fail(f"peripheral {p.name!r}.irq.{out}",
                             f"line {line} is reserved on controller {controller!r}; its lines start at {first}")


def _probe(c: _Checker, spec: PeripheralSpec) -> Peripheral:
    """Build the peripheral once, off any machine, so its own checks of its
    parameters (ranges the type alone cannot say) fail here, naming the file."""
    from .clock import Clock
    try:
        return spec.cls(spec.name, Clock(1), **spec.params)
    except ValueError as e:
        problem = str(e).removeprefix(f"{spec.name}: ")
        raise c.fail(f"peripheral {spec.name!r}.params", problem) from None


def _controller_lines(c: _Checker, spec: PeripheralSpec) -> tuple[int, int]:
    """The first usable line and the number of lines of an interrupt controller."""
    controller = _probe(c, spec)
    return int(getattr(controller, "first_line", 0)), int(controller.num_lines)
