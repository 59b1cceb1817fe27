"""The instruction counter the project's Unicorn build keeps in translated code
(patches/unicorn/0002, `uc_set_insn_count`), on a bare engine, apart from the machine: what
the patch's header promises a Unicorn user.

The program is the bare-metal `compute` on hifive1's CPU (RV32IMAC: no instruction is skipped
the way a Thumb IT block skips one, so Unicorn's own count of instructions run is the
reference), run from its entry to its park address.
"""

from __future__ import annotations

import ctypes
import pathlib

import pytest
from unicorn.unicorn_const import UC_HOOK_BLOCK

from bench.run import Bare, Program, count_bare
from machine.counter import patched_build, uclib

BOARD = "hifive1"
ITERATIONS = 40


class InsnCount(ctypes.Structure):
    """`uc_insn_count` of the patched build's unicorn.h."""
    _fields_ = [("executed", ctypes.c_uint64), ("deadline", ctypes.c_uint64), ("block_start", ctypes.c_uint64),
                ("block_pc", ctypes.c_uint64), ("block_size", ctypes.c_uint32), ("block_insns", ctypes.c_uint32),
                ("armed", ctypes.c_uint32), ("reserved", ctypes.c_uint32), ("callback", ctypes.c_void_p),
                ("user_data", ctypes.c_void_p)]


CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p)


class Engine:
    """The benchmark's bare engine of hifive1's CPU (bench/run.py) with `compute` loaded, at
    its entry, counting into `count`."""

    def __init__(self, elf: pathlib.Path, callback=None) -> None:
        self.bare = Bare(BOARD, Program.read(elf), ITERATIONS)
        self.uc, self.park = self.bare.uc, self.bare.park
        self.count = InsnCount(deadline=2**64 - 1)
        self._callback = None if callback is None else CALLBACK(callback)
        self.count.callback = None if self._callback is None else ctypes.cast(self._callback, ctypes.c_void_p).value
        set_count = uclib().uc_set_insn_count
        set_count.argtypes, set_count.restype = [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int
        assert set_count(self.uc._uch, ctypes.addressof(self.count)) == 0

    def run(self, begin: int | None = None) -> None:
        self.bare.emu(self.bare.start if begin is None else begin)

    @property
    def pc(self) -> int:
        return self.bare.pc


pytestmark = pytest.mark.skipif(not patched_build(), reason="needs the project's Unicorn build (make)")


@pytest.fixture(scope="module")
def compute(bare_firmware) -> pathlib.Path:
    return bare_firmware[BOARD, "compute"]


@pytest.fixture(scope="module")
def instructions_run(compute) -> int:
    """Unicorn's own count of the instructions from the entry to the park address."""
    return count_bare(BOARD, Program.read(compute), ITERATIONS)


def test_the_count_kept_in_translated_code_is_the_number_of_instructions_run(compute, instructions_run):
    engine = Engine(compute)
    engine.run()
    assert engine.pc == engine.park
    assert instructions_run > 10_000
    assert engine.count.executed == instructions_run


def test_a_stop_the_callback_asks_for_leaves_the_block_uncounted_and_the_pc_at_its_start(compute, instructions_run):
    calls = []

    def at_deadline(uc, address, size, _):
        calls.append((address, size, engine.count.executed))
        uclib().uc_emu_stop(uc)

    engine = Engine(compute, at_deadline)
    engine.count.deadline = 5_000
    engine.run()
    (address, size, executed), = calls
    c = engine.count
    assert engine.pc == address and size > 0
    assert c.executed == executed >= 5_000
    # the block recorded is the last one counted, which ran whole
    assert c.block_start + c.block_insns == c.executed and c.block_pc != 0
    # the run goes on from there with the count where it was
    engine.count.deadline = 2**64 - 1
    engine.run(address)
    assert engine.pc == engine.park and engine.count.executed == instructions_run


def test_while_armed_the_callback_runs_at_every_block_start_before_the_block_is_counted(compute, instructions_run):
    seen, blocks = [], []

    def armed(uc, address, size, _):
        seen.append((address, engine.count.executed))

    engine = Engine(compute, armed)
    engine.count.armed = 1
    engine.uc.hook_add(UC_HOOK_BLOCK, lambda uc, address, size, _: blocks.append(
        (address, engine.count.block_start, engine.count.executed - engine.count.block_start)))
    engine.run()
    assert engine.pc == engine.park and engine.count.executed == instructions_run
    # the block hooks run after the counter: each sees its block counted, and the callback
    # saw the count before it
    assert [a for a, _ in seen] == [a for a, _, _ in blocks]
    assert [e for _, e in seen] == [start for _, start, _ in blocks]
    assert sum(n for _, _, n in blocks) == instructions_run
