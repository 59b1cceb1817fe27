"""A block of plain registers declared in a board file, for a part the machine does not model.

A vendor's start-up code often touches a block (a clock controller, an OTP controller, a
power manager) only to write set-up values and to wait for a ready bit. Declaring that block
in the board file gets such code past it without writing Python:

    [[peripheral]]
    name = "otp"
    type = "registers"
    base = 0x1001_0000
    size = 0x1000
    [[peripheral.register]]
    name = "lock"
    offset = 0x00
    [[peripheral.register]]
    name = "status"
    offset = 0x04
    width = 32              # 8, 16 or 32 (default 32)
    reset = 0x8000_0000     # value at reset (default 0)
    read_only = 0x8000_0000 # bits writes do not change (a ready bit that reads 1 for ever)

Each declared register keeps what is written, except its `read_only` bits, which keep their
reset value. An access to an offset with no declared register is reported like any
unimplemented register (peripheral.py). Because nothing behind the registers is modelled, the
first read and the first write of each register are logged, naming the block, the register
and the guest's pc, and every access is counted in `accesses`.

`RegisterDecl.parse_all` checks the board file's entries, so that every mistake is reported
with the file, the entry and the field (machine/board.py calls it).
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from ..clock import Clock
from ..peripheral import Peripheral
from ..regs import Access, Field, Register, RegisterMap

log = logging.getLogger("atoll.machine")

WIDTHS = (8, 16, 32)
KEYS = {"name", "offset", "width", "reset", "read_only"}


@dataclass(frozen=True)
class RegisterDecl:
    """One register a board file declares: its name, offset, width, reset value and
    read-only bits."""

    name: str
    offset: int
    width: int = 32
    reset: int = 0
    read_only: int = 0

    def register(self) -> Register:
        mask = (1 << self.width) - 1
        fields = []
        for lsb in range(self.width):   # runs of bits of one kind become one field each
            ro = bool(self.read_only >> lsb & 1)
            if fields and fields[-1][1] == ro and fields[-1][0] + fields[-1][2] == lsb:
                fields[-1][2] += 1
            else:
                fields.append([lsb, ro, 1])
        return Register(self.offset, self.name, [
            Field(f"b{lsb}", lsb, n, Access.RO if ro else Access.RW, (self.reset & mask) >> lsb & ((1 << n) - 1))
            for lsb, ro, n in fields], width=self.width)

    @classmethod
    def parse_all(cls, c: Any, raw: Any, where: str, window: int) -> tuple[RegisterDecl, ...]:
        """The checked entries of `raw` (the [[peripheral.register]] array); `c` is the board
        file's checker, whose `fail(key, problem)` makes the error."""
        key = f"{where}.register"
        if raw is None:
            raise c.fail(key, "missing; a 'registers' peripheral declares its registers in "
                              "[[peripheral.register]] entries")
        if not isinstance(raw, list) or not raw:
            raise c.fail(key, f"must be a non-empty array of tables, written [[peripheral.register]], not {raw!r}")
        decls: list[RegisterDecl] = []
        for i, t in enumerate(raw):
            decls.append(cls._parse_one(c, t, f"{key}[{i}]", window, decls))
        return tuple(decls)

    @classmethod
    def _parse_one(cls, c: Any, t: Any, at: str, window: int, before: list[RegisterDecl]) -> RegisterDecl:
        if not isinstance(t, dict):
            raise c.fail(at, f"must be a table, not {t!r}")
        c.only(t, at, KEYS)
        name = c.identifier(t, "name", at)
        if any(d.name == name for d in before):
            raise c.fail(f"{at}.name", f"{name!r} is used twice")
        width = c.get(t, "width", at, int, required=False, default=32)
        if width not in WIDTHS:
            raise c.fail(f"{at}.width", f"must be 8, 16 or 32, not {width}")
        offset = c.get(t, "offset", at, int)
        size = width // 8
        if offset < 0 or offset + size > window:
            raise c.fail(f"{at}.offset", f"must be inside the peripheral's {window:#x}-byte window, not {offset:#x}")
        if offset % size:
            raise c.fail(f"{at}.offset", f"must be a multiple of {size} (the register's width in bytes), "
                                          f"not {offset:#x}")
        for d in before:
            if offset < d.offset + d.width // 8 and d.offset < offset + size:
                raise c.fail(f"{at}.offset", f"{offset:#x} overlaps register {d.name!r} at {d.offset:#x}")
        values = {}
        for k in ("reset", "read_only"):
            v = c.get(t, k, at, int, required=False, default=0)
            if not 0 <= v < 1 << width:
                raise c.fail(f"{at}.{k}", f"must fit in the register's {width} bits, not {v:#x}")
            values[k] = v
        return cls(name, offset, width, values["reset"], values["read_only"])


class RegisterBlock(Peripheral):
    """Declared registers that store what is written (board file type "registers")."""

    PARAMS: ClassVar[dict[str, type]] = {}
    IRQS = ()

    def __init__(self, name: str, clock: Clock, registers: tuple[RegisterDecl, ...] = ()) -> None:
        self.REGISTERS = RegisterMap([d.register() for d in registers])   # this block's own map
        super().__init__(name, clock)
        self.accesses: collections.Counter[str] = collections.Counter()

    def _named(self, kind: str, offset: int) -> None:
        reg = self.REGISTERS.at(offset)
        if reg is None:
            return
        what = f"{kind} {reg.name}"
        if what not in self.accesses:
            at = f" at pc {self.pc_source():#x}" if self.pc_source is not None else ""
            log.warning("%s: %s of register %s, declared in the board file (no model behind it)%s",
                        self.name, kind, reg.name, at)
        self.accesses[what] += 1

    def read(self, offset: int, size: int) -> int:
        self._named("read", offset)
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self._named("write", offset)
        super().write(offset, size, value)
