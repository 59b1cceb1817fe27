"""The probe: a small guest program (tests/machine/guest/probe.c) for the machine's
contract tests, built for both ISAs and run inside an address space of its own.

A `Probe` is a machine with the probe loaded at virtual 0x10000 (code, r-x),
0x20000 (data, rw-) and a stack page, each backed by its own physical RAM page.
`Probe.call(name, *args)` runs one probe function; it returns to `probe_done`,
whose breakpoint ends the run.
"""

from __future__ import annotations

import pathlib

from machine import AddressSpace, Machine, Perm, read_elf, symbols
from tests.boards import BOARDS, ISA_OF  # noqa: F401  (the harness's users take them from here)

GUEST = pathlib.Path(__file__).resolve().parent / "guest"

CODE = 0x0001_0000
DATA = 0x0002_0000
STACK = 0x0007_F000
STACK_TOP = STACK + 0x1000


class Probe:
    def __init__(self, board: str, elf: pathlib.Path, machine: Machine | None = None,
                 ram_offset: int = 0x10000, name: str = "probe") -> None:
        self.machine = machine or Machine(board)
        self.image = read_elf(elf, self.machine.isa)
        self.symbols = symbols(self.image)
        ram = next(r for r in self.machine.board.regions if r.kind == "ram" and r.perms & Perm.W)
        self.code_phys = ram.base + ram_offset
        self.data_phys = self.code_phys + 0x1000
        self.stack_phys = self.code_phys + 0x2000
        self.space = AddressSpace(name)
        self.space.map(CODE, self.code_phys, 0x1000, Perm.R | Perm.X, "code")
        self.space.map(DATA, self.data_phys, 0x1000, Perm.R | Perm.W, "data")
        self.space.map(STACK, self.stack_phys, 0x1000, Perm.R | Perm.W, "stack")
        for seg in self.image.segments:
            self.machine.write_virtual(self.space, seg.vaddr, seg.data + bytes(seg.memsize - len(seg.data)))
        self.machine.activate(self.space)

    @property
    def cpu(self):
        return self.machine.cpu

    def result(self) -> int:
        return self.cpu.read(self.cpu.ARG_REGISTERS[0])

    def address(self, name: str) -> int:
        return self.symbols[name]

    def prepare(self, name: str, *args: int) -> None:
        cpu = self.cpu
        self.machine.activate(self.space)
        for reg, value in zip(cpu.ARG_REGISTERS, args):
            cpu.write(reg, value)
        cpu.sp = STACK_TOP
        done = self.symbols["probe_done"]
        cpu.write("lr" if self.machine.isa == "armv7m" else "ra", done | (1 if self.machine.isa == "armv7m" else 0))
        cpu.pc = self.symbols[name]

    def call(self, name: str, *args: int, cycles: int = 200_000):
        self.prepare(name, *args)
        return self.machine.run(cycles)
