"""Register maps: how a peripheral's registers are declared.

A peripheral never decodes bus offsets by hand. It declares a `RegisterMap` of
`Register`s, each made of `Field`s with a bit range, an access kind and a reset
value, the way the part's manual lays them out. The map is checked when it is
built (the class is defined), so a mistake in a layout fails at import time:

- field bits must fit the register width and must not overlap;
- registers must be aligned to their width and must not overlap;
- names are unique within their scope.

Invariants a peripheral may rely on:
- `RegisterMap.reset_values()` gives each register's value from its fields' resets;
- `Register.apply_write(old, written)` merges a bus write the way the field
  access kinds say (read-only bits keep their value, write-1-to-clear bits clear);
- a register declared with `implemented=False` exists in the map so that an access
  to it is reported by its name, but it has no behaviour.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable, Iterator


class RegisterMapError(ValueError):
    """A register map that contradicts itself (overlap, width, duplicate name)."""


class Access(enum.Enum):
    """How a field answers the bus."""

    RW = "rw"    # read/write
    RO = "ro"    # read-only: writes are ignored
    WO = "wo"    # write-only: reads give 0
    W1C = "w1c"  # read; writing 1 clears the bit, writing 0 leaves it
    W1S = "w1s"  # read; writing 1 sets the bit, writing 0 leaves it

    @property
    def readable(self) -> bool:
        return self is not Access.WO

    @property
    def writable(self) -> bool:
        return self is not Access.RO


@dataclass(frozen=True)
class Field:
    """A bit range of a register: `width` bits starting at bit `lsb`."""

    name: str
    lsb: int
    width: int = 1
    access: Access = Access.RW
    reset: int = 0
    doc: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise RegisterMapError(f"field name must be an identifier, not {self.name!r}")
        if not isinstance(self.lsb, int) or self.lsb < 0:
            raise RegisterMapError(f"field {self.name}: lsb must be a non-negative integer, not {self.lsb!r}")
        if not isinstance(self.width, int) or self.width < 1:
            raise RegisterMapError(f"field {self.name}: width must be a positive integer, not {self.width!r}")
        if not isinstance(self.reset, int):
            raise RegisterMapError(f"field {self.name}: reset value must be an integer, not {self.reset!r}")
        if not 0 <= self.reset < (1 << self.width):
            raise RegisterMapError(
                f"field {self.name}: reset value {self.reset:#x} does not fit in {self.width} bit(s)")
        object.__setattr__(self, "mask", ((1 << self.width) - 1) << self.lsb)

    mask: int = field(init=False, repr=False, compare=False, default=0)

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1

    def extract(self, value: int) -> int:
        return (value >> self.lsb) & ((1 << self.width) - 1)

    def insert(self, value: int, fieldval: int) -> int:
        return (value & ~self.mask) | ((fieldval << self.lsb) & self.mask)


@dataclass(frozen=True)
class Register:
    """One register at `offset`, `width` bits wide, made of `fields`.

    A register declared without fields is one read/write field covering all bits.
    """

    offset: int
    name: str
    fields: tuple[Field, ...] = ()
    width: int = 32
    implemented: bool = True
    doc: str = ""
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __init__(self, offset: int, name: str, fields: Iterable[Field] = (), *, width: int = 32,
                 implemented: bool = True, reset: int | None = None, doc: str = "") -> None:
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "implemented", implemented)
        object.__setattr__(self, "doc", doc)
        object.__setattr__(self, "_by_name", {})
        self._check_place()
        fields = tuple(fields)
        if not fields:
            reset = 0 if reset is None else reset
            if not isinstance(reset, int) or not 0 <= reset < (1 << width):
                raise RegisterMapError(
                    f"register {name}: reset value must be an integer that fits in {width} bits, not {reset!r}")
            fields = (Field(name, 0, width, Access.RW, reset),)
        elif reset is not None:
            raise RegisterMapError(f"register {name}: give the reset value on its fields, not on the register")
        object.__setattr__(self, "fields", fields)
        self._check_fields()
        # precomputed for the bus path, which runs on every MMIO access
        object.__setattr__(self, "size", width // 8)
        object.__setattr__(self, "read_mask", _mask_of(f for f in fields if f.access.readable))
        object.__setattr__(self, "_plain", all(f.access in (Access.RW, Access.WO) for f in fields))
        object.__setattr__(self, "_field_mask", _mask_of(fields))

    def _check_place(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise RegisterMapError(f"register name must be an identifier, not {self.name!r}")
        if self.width not in (8, 16, 32, 64):
            raise RegisterMapError(f"register {self.name}: width must be 8, 16, 32 or 64, not {self.width!r}")
        if not isinstance(self.offset, int) or isinstance(self.offset, bool) or self.offset < 0:
            raise RegisterMapError(f"register {self.name}: offset must be a non-negative integer, not {self.offset!r}")
        if self.offset % (self.width // 8):
            raise RegisterMapError(
                f"register {self.name}: offset {self.offset:#x} is not aligned to its width of {self.width} bits")

    def _check_fields(self) -> None:
        used = 0
        for i, f in enumerate(self.fields):
            if not isinstance(f, Field):
                raise RegisterMapError(f"register {self.name}: fields must be Field objects, not {f!r}")
            if f.msb >= self.width:
                raise RegisterMapError(
                    f"register {self.name}: field {f.name} (bits {f.msb}:{f.lsb}) "
                    f"does not fit in {self.width} bits")
            if used & f.mask:
                other = next(g for g in self.fields[:i] if g.mask & f.mask)
                raise RegisterMapError(
                    f"register {self.name}: field {f.name} (bits {f.msb}:{f.lsb}) overlaps "
                    f"field {other.name} (bits {other.msb}:{other.lsb})")
            if f.name in self._by_name:
                raise RegisterMapError(f"register {self.name}: field name {f.name} is used twice")
            used |= f.mask
            self._by_name[f.name] = f

    @property
    def reset_value(self) -> int:
        value = 0
        for f in self.fields:
            value = f.insert(value, f.reset)
        return value

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"register {self.name} has no field {name!r}") from None

    def apply_write(self, old: int, written: int) -> int:
        """The register's stored value after the bus writes `written` over `old`."""
        if self._plain:  # the common case: every field takes what is written
            return (old & ~self._field_mask) | (written & self._field_mask)
        new = old
        for f in self.fields:
            m = f.mask
            if f.access in (Access.RW, Access.WO):
                new = (new & ~m) | (written & m)
            elif f.access is Access.W1C:
                new &= ~(written & m)
            elif f.access is Access.W1S:
                new |= written & m
        return new


def _mask_of(fields: Iterable[Field]) -> int:
    m = 0
    for f in fields:
        m |= f.mask
    return m


class RegisterMap:
    """The frozen set of a peripheral's registers, checked for overlaps once built."""

    def __init__(self, registers: Iterable[Register]) -> None:
        regs = sorted(registers, key=lambda r: r.offset)
        self._by_name: dict[str, Register] = {}
        self._by_offset: dict[int, Register] = {}
        prev: Register | None = None
        for r in regs:
            if r.name in self._by_name:
                raise RegisterMapError(f"register name {r.name} is used twice")
            if prev is not None and r.offset < prev.offset + prev.size:
                raise RegisterMapError(
                    f"register {r.name} at {r.offset:#x} overlaps register {prev.name} "
                    f"at {prev.offset:#x} ({prev.size} bytes)")
            self._by_name[r.name] = r
            self._by_offset[r.offset] = r
            prev = r
        self._registers = tuple(regs)
        self.size = (regs[-1].offset + regs[-1].size) if regs else 0
        self._by_byte = {r.offset + i: r for r in regs for i in range(r.size)}
        self._reset: dict[str, int] | None = None

    def __iter__(self) -> Iterator[Register]:
        return iter(self._registers)

    def __len__(self) -> int:
        return len(self._registers)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Register:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no register named {name!r}") from None

    def at(self, offset: int) -> Register | None:
        """The register whose bytes include `offset`, or None."""
        return self._by_byte.get(offset)

    def reset_values(self) -> dict[str, int]:
        """A fresh dict of every register's reset value (computed once per map)."""
        if self._reset is None:
            self._reset = {r.name: r.reset_value for r in self._registers}
        return dict(self._reset)
