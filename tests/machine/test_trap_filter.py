"""A native trap filter in front of the Python trap path (machine/trapfront.py), both ISAs.

The filter (tests/machine/native/swap_filter.c) swaps two saved contexts on each
syscall trap and answers the other one's address space. The two programs sit at the
same virtual address in two spaces, on different physical pages, so a switch the
machine did not make (TLB table and flush) would run the wrong program.
"""

from __future__ import annotations

import ctypes
import pathlib

import pytest
from unicorn.unicorn_py3 import unicorn as binding

from machine import AddressSpace, Machine, MachineDebug, Perm, function_address, native_library

from tests.machine.probe_harness import BOARDS

SOURCE = pathlib.Path(__file__).resolve().parent / "native" / "swap_filter.c"
CODE = 0x0001_0000

#: (client, server): trap, then count in one register (client r4/s0, server r5/s1), loop
PROGRAMS = {
    # svc #0; adds r4, #1; b .-6        svc #0; adds r5, #1; b .-6
    "armv7m": (bytes.fromhex("00df0134fce7"), bytes.fromhex("00df0135fce7")),
    # ecall; addi s0, s0, 1; j .-8      ecall; addi s1, s1, 1; j .-8
    "rv32imac": (b"".join(i.to_bytes(4, "little") for i in (0x00000073, 0x00140413, 0xFF9FF06F)),
                 b"".join(i.to_bytes(4, "little") for i in (0x00000073, 0x00148493, 0xFF9FF06F))),
}
COUNTERS = {"armv7m": ("r4", "r5"), "rv32imac": ("s0", "s1")}


class _Filter(ctypes.Structure):
    _fields_ = [("save", ctypes.c_void_p), ("restore", ctypes.c_void_p), ("context", ctypes.c_void_p * 2),
                ("space", ctypes.c_int32 * 2), ("running", ctypes.c_uint32), ("intno", ctypes.c_uint32),
                ("swaps", ctypes.c_uint32), ("limit", ctypes.c_uint32)]


class Pair:
    """Two programs in two spaces on one machine, with the swap filter in front."""

    def __init__(self, board: str, limit: int) -> None:
        self.machine = m = Machine(board)
        ram = next(r for r in m.board.regions if r.kind == "ram" and r.perms & Perm.W)
        self.spaces = []
        for i, code in enumerate(PROGRAMS[m.isa]):
            space = AddressSpace(("client", "server")[i])
            space.map(CODE, ram.base + 0x10000 * (i + 1), 0x1000, Perm.R | Perm.X, "code")
            m.write_virtual(space, CODE, code)
            self.spaces.append(space)
        thumb = 1 if m.isa == "armv7m" else 0
        self.contexts = []
        for counter in COUNTERS[m.isa]:
            m.cpu.write(counter, 0)
        for space in reversed(self.spaces):   # the client's context is the live one
            m.cpu.pc = CODE | thumb
            self.contexts.insert(0, m.uc.context_save())
        m.activate(self.spaces[0])
        lib = native_library(SOURCE)
        self.filter = f = _Filter()
        f.save = function_address(binding.uclib.uc_context_save)
        f.restore = function_address(binding.uclib.uc_context_restore)
        f.context[:] = [ctypes.cast(c.context, ctypes.c_void_p).value for c in self.contexts]
        f.space[:] = [m.space_index(s) for s in self.spaces]
        f.intno, f.limit = type(m.cpu).SYSCALL_TRAPS[0], limit
        self.synced = 0
        m.set_trap_filter(function_address(lib.swap_filter), ctypes.addressof(f), self._sync)

    def _sync(self) -> None:
        self.synced += 1

    def counter(self, which: int) -> int:
        name = COUNTERS[self.machine.isa][which]
        if self.filter.running == which:
            return self.machine.cpu.read(name)
        return self.contexts[which].reg_read(self.machine.cpu.register_id(name))


@pytest.fixture(params=BOARDS)
def board(request) -> str:
    return request.param


def test_a_filtered_switch_runs_the_other_spaces_code_until_the_filter_declines(board):
    pair = Pair(board, limit=1000)

    stop = pair.machine.run(1_000_000)

    # after swap 2k the client has resumed k times and the server k - 1 times; the
    # client's next trap is declined and reaches Python, which ends the run
    assert stop.reason == "trap" and stop.trap.kind == "syscall"
    assert (pair.filter.swaps, pair.machine.traps_filtered) == (1000, 1000)
    assert (pair.counter(0), pair.counter(1)) == (500, 499)
    assert pair.machine.space is pair.spaces[0]
    assert pair.synced >= 1


def test_the_machines_space_and_its_breakpoints_follow_a_filtered_switch(board):
    pair = Pair(board, limit=1000)
    debug = MachineDebug(pair.machine)
    after_trap = CODE + len(PROGRAMS[pair.machine.isa][0]) // 3   # the instruction after the trap
    debug.add_breakpoint(after_trap, pair.spaces[1])

    pair.machine.run(1_000_000)

    # the client passes that address first (in its own space); the server stops there
    # when it resumes from its first trap, at swap 3
    assert debug.hit is not None and debug.hit.space is pair.spaces[1]
    assert pair.machine.space is pair.spaces[1]
    assert pair.filter.swaps == 3 and pair.counter(0) == 1 and pair.counter(1) == 0
    assert pair.machine.cpu.pc == after_trap


def test_a_breakpoint_of_a_space_that_never_stops_leaves_the_run_as_without_it(board):
    plain, debugged = Pair(board, limit=1000), Pair(board, limit=1000)
    debug = MachineDebug(debugged.machine)
    elsewhere = AddressSpace("elsewhere")   # never runs: every hit at that address passes through
    for address in range(CODE, CODE + len(PROGRAMS[debugged.machine.isa][0]), 2):
        debug.add_breakpoint(address, elsewhere)

    stops = [pair.machine.run(1_000_000) for pair in (plain, debugged)]

    assert debug.hit is None
    assert stops[0].reason == stops[1].reason == "trap"
    assert plain.machine.counter.executed == debugged.machine.counter.executed
    assert [plain.counter(i) for i in (0, 1)] == [debugged.counter(i) for i in (0, 1)] == [500, 499]


def test_without_a_filter_every_trap_reaches_python(board):
    pair = Pair(board, limit=1000)
    pair.machine.set_trap_filter(None, None, None)

    stop = pair.machine.run(1_000_000)

    assert stop.reason == "trap" and pair.machine.traps_filtered == 0 and pair.filter.swaps == 0
    assert pair.counter(0) == 0


def test_a_space_remapped_after_it_got_its_index_is_served_with_its_new_mappings(board):
    pair = Pair(board, limit=1000)
    pair.machine.run(1_000_000)
    # the server's code page now maps another physical page, holding the client's program
    ram = next(r for r in pair.machine.board.regions if r.kind == "ram" and r.perms & Perm.W)
    server = pair.spaces[1]
    server.unmap(CODE)
    server.map(CODE, ram.base + 0x10000, 0x1000, Perm.R | Perm.X, "code")
    index = pair.filter.space[1]
    assert pair.machine.space_index(server) == index   # the same index, its table rebuilt
    pair.filter.limit = 2000
    before = pair.counter(1)

    pair.machine.run(1_000_000)

    # the server's context resumes in the client's program: it counts in the client's register
    assert pair.counter(1) == before
    name = COUNTERS[pair.machine.isa][0]
    assert pair.contexts[1].reg_read(pair.machine.cpu.register_id(name)) == 500
