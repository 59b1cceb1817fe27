"""Physical regions, address spaces, and the faults a bad access becomes.

The board's physical memory is a set of `Region`s (RAM, flash, MMIO windows). An
`AddressSpace` maps page-aligned virtual ranges onto physical ranges with r/w/x
permissions. The CPU runs every access through Unicorn's virtual TLB; on a miss the
machine asks the active space to translate, so a component sees exactly its own
mappings and nothing else. Every component can be linked at the same virtual
address, and two instances of one ELF can run side by side.

Invariants:
- mappings are page-aligned (PAGE_SIZE) and never overlap within one space;
- translation on the CPU's path is done in C (machine/tlb.py) from a copy of the
  mappings; a refused access becomes a `Refusal`, which the machine turns into a `Fault`;
- a `Fault` names the address, the access kind, the pc and the space.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass

PAGE_SIZE = 0x1000


class MemoryMapError(ValueError):
    """A mapping request that contradicts the space (overlap, alignment)."""


class Perm(enum.Flag):
    NONE = 0
    R = 1
    W = 2
    X = 4

    @classmethod
    def parse(cls, text: str) -> "Perm":
        """'rwx', 'rx', 'rw', 'r' ... into flags; raises ValueError on anything else."""
        perm = cls.NONE
        for ch in text:
            flag = {"r": cls.R, "w": cls.W, "x": cls.X}.get(ch)
            if flag is None or perm & flag:
                raise ValueError(f"must be letters from 'rwx', each at most once, not {text!r}")
            perm |= flag
        return perm

    def __str__(self) -> str:
        return "".join(c if self & f else "-" for c, f in (("r", Perm.R), ("w", Perm.W), ("x", Perm.X)))


class AccessKind(enum.Enum):
    READ = "read"
    WRITE = "write"
    FETCH = "fetch"

    @property
    def needs(self) -> Perm:
        return {AccessKind.READ: Perm.R, AccessKind.WRITE: Perm.W, AccessKind.FETCH: Perm.X}[self]


class FaultKind(enum.Enum):
    UNMAPPED = "unmapped"                  # no mapping in the space at that address
    PERMISSION = "permission"              # mapped, but not for this kind of access
    BUS_ERROR = "bus-error"                # mapped to a physical address where nothing is
    UNDEFINED_INSTRUCTION = "undefined-instruction"
    MISALIGNED = "misaligned"
    BREAKPOINT = "breakpoint"
    ILLEGAL_STATE = "illegal-state"        # e.g. ARM state change on a Thumb-only core
    CPU_ERROR = "cpu-error"                # anything else the emulator reports
    HUNG = "hung"                          # never the CPU's: the kernel's verdict on a component that
                                           # stopped answering its supervisor's heartbeat


@dataclass(frozen=True)
class Fault:
    """A stopped access or instruction, described for people and for the kernel."""

    kind: FaultKind
    pc: int
    space: str
    address: int | None = None
    access: AccessKind | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f" at pc {self.pc:#010x} in space {self.space!r}"
        if self.address is not None and self.access is not None:
            text = f"{self.kind.value} fault: {self.access.value} of {self.address:#010x}{where}"
        else:
            text = f"{self.kind.value} fault{where}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Region:
    """A piece of the board's physical address space."""

    name: str
    base: int
    size: int
    perms: Perm
    kind: str  # "ram", "flash" or "mmio"

    @property
    def end(self) -> int:
        return self.base + self.size

    def contains(self, address: int, length: int = 1) -> bool:
        return self.base <= address and address + length <= self.end


@dataclass(frozen=True)
class Mapping:
    vbase: int
    pbase: int
    size: int
    perms: Perm
    name: str

    @property
    def vend(self) -> int:
        return self.vbase + self.size


@dataclass(frozen=True)
class Refusal:
    address: int
    access: AccessKind
    kind: FaultKind


class AddressSpace:
    """Virtual-to-physical mappings of one component (or the whole board, for bare metal)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._starts: list[int] = []
        self._maps: list[Mapping] = []
        #: incremented on every change, so a machine knows when to flush its TLB
        self.version = 0

    @classmethod
    def identity(cls, name: str, regions: list[Region]) -> "AddressSpace":
        """Every region mapped at its own address with its own permissions."""
        space = cls(name)
        for r in regions:
            space.map(r.base, r.base, r.size, r.perms, r.name)
        return space

    @property
    def mappings(self) -> tuple[Mapping, ...]:
        return tuple(self._maps)

    def map(self, vbase: int, pbase: int, size: int, perms: Perm, name: str = "") -> Mapping:
        for what, value in (("virtual base", vbase), ("physical base", pbase), ("size", size)):
            if value % PAGE_SIZE:
                raise MemoryMapError(f"{name or 'mapping'}: {what} {value:#x} is not a multiple of the "
                                     f"page size {PAGE_SIZE:#x}")
        if size <= 0:
            raise MemoryMapError(f"{name or 'mapping'}: size must be positive, not {size:#x}")
        if vbase + size > 1 << 32:
            raise MemoryMapError(f"{name or 'mapping'}: {vbase:#x}+{size:#x} passes the end of the 32-bit space")
        m = Mapping(vbase, pbase, size, perms, name)
        i = bisect.bisect_left(self._starts, vbase)
        for other in self._maps[max(i - 1, 0):i + 1]:
            if other.vbase < m.vend and m.vbase < other.vend:
                raise MemoryMapError(
                    f"{name or 'mapping'} at {vbase:#x}-{m.vend:#x} overlaps {other.name or 'a mapping'} "
                    f"at {other.vbase:#x}-{other.vend:#x} in space {self.name!r}")
        self._starts.insert(i, vbase)
        self._maps.insert(i, m)
        self.version += 1
        return m

    def unmap(self, vbase: int) -> None:
        i = bisect.bisect_left(self._starts, vbase)
        if i == len(self._starts) or self._starts[i] != vbase:
            raise MemoryMapError(f"nothing is mapped at {vbase:#x} in space {self.name!r}")
        del self._starts[i]
        del self._maps[i]
        self.version += 1

    def lookup(self, vaddr: int) -> Mapping | None:
        i = bisect.bisect_right(self._starts, vaddr) - 1
        if i >= 0:
            m = self._maps[i]
            if vaddr < m.vend:
                return m
        return None

    def covers(self, vaddr: int, length: int, perms: Perm) -> bool:
        """Whether every byte of [vaddr, vaddr+length) is mapped with at least `perms`."""
        end = vaddr + length
        while vaddr < end:
            m = self.lookup(vaddr)
            if m is None or (m.perms & perms) != perms:
                return False
            vaddr = m.vend
        return True

    def __repr__(self) -> str:
        return f"<AddressSpace {self.name!r} {len(self._maps)} mappings>"
