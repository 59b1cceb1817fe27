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
from elftools.elf.elffile import ELFFile
from unicorn import Uc
from unicorn.riscv_const import UC_CPU_RISCV32_SIFIVE_E31, UC_RISCV_REG_PC
from unicorn.unicorn_const import UC_ARCH_RISCV, UC_HOOK_BLOCK, UC_HOOK_CODE, UC_MODE_RISCV32, UC_PROT_ALL

from machine.board import load_board
from machine.counter import add_native_hook, load, patched_build, uclib

BOARD = "hifive1"
ITERATIONS = 20


class InsnCount(ctypes.Structure):
    """`uc_insn_count` of the patched build's unicorn.h."""
    _fields_ = [("executed", ctypes.c_uint64), ("deadline", ctypes.c_uint64), ("block_start", ctypes.c_uint64),
                ("block_pc", ctypes.c_uint64), ("block_size", ctypes.c_uint32), ("block_insns", ctypes.c_uint32),
                ("armed", ctypes.c_uint32), ("reserved", ctypes.c_uint32), ("callback", ctypes.c_void_p),
                ("user_data", ctypes.c_void_p)]


CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p)


class Engine:
    """A bare engine of hifive1's CPU with `compute` loaded, at its entry."""

    def __init__(self, elf: pathlib.Path) -> None:
        self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        self.uc.ctl_set_cpu_model(UC_CPU_RISCV32_SIFIVE_E31)
        spec = load_board(BOARD)
        for r in spec.regions:
            self.uc.mem_map(r.base, r.size, UC_PROT_ALL)
        for p in spec.peripherals:   # reads 0: the UART is never full
            self.uc.mmio_map(p.base, p.size, lambda uc, offset, size, _: 0, None,
                             lambda uc, offset, size, value, _: None, None)
        with elf.open("rb") as f:
            image = ELFFile(f)
            for s in image.iter_segments():
                if s["p_type"] == "PT_LOAD" and s["p_memsz"]:
                    self.uc.mem_write(s["p_paddr"], s.data() + bytes(s["p_memsz"] - s["p_filesz"]))
            table = image.get_section_by_name(".symtab")
            self.park = table.get_symbol_by_name("compute_park")[0]["st_value"]
            iterations = table.get_symbol_by_name("iterations")[0]["st_value"]
            self.entry = image.header["e_entry"]
        self.uc.mem_write(iterations, ITERATIONS.to_bytes(4, "little"))   # .data runs from its load address here
        self.count = InsnCount(deadline=2**64 - 1)
        self._set = uclib().uc_set_insn_count
        self._set.argtypes, self._set.restype = [ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int

    def counting(self, callback=None) -> "Engine":
        self._callback = None if callback is None else CALLBACK(callback)
        self.count.callback = None if self._callback is None else ctypes.cast(self._callback, ctypes.c_void_p).value
        assert self._set(self.uc._uch, ctypes.addressof(self.count)) == 0
        return self

    def run(self, begin: int | None = None) -> None:
        self.uc.emu_start(self.entry if begin is None else begin, self.park)

    @property
    def pc(self) -> int:
        return self.uc.reg_read(UC_RISCV_REG_PC)


pytestmark = pytest.mark.skipif(not patched_build(), reason="needs the project's Unicorn build (make)")


@pytest.fixture(scope="module")
def compute(bare_firmware) -> pathlib.Path:
    return bare_firmware[BOARD, "compute"]


@pytest.fixture(scope="module")
def instructions_run(compute) -> int:
    """Unicorn's own count of the instructions from the entry to the park address."""
    engine = Engine(compute)
    tally = ctypes.c_uint64(0)
    handle = add_native_hook(engine.uc, UC_HOOK_CODE, load().atoll_tally_instruction, tally)
    engine.run()
    assert engine.pc == engine.park
    del handle
    return tally.value


def test_the_count_kept_in_translated_code_is_the_number_of_instructions_run(compute, instructions_run):
    engine = Engine(compute).counting()
    engine.run()
    assert engine.pc == engine.park
    assert instructions_run > 10_000
    assert engine.count.executed == instructions_run


def test_a_stop_the_callback_asks_for_leaves_the_block_uncounted_and_the_pc_at_its_start(compute, instructions_run):
    calls = []

    def at_deadline(uc, address, size, _):
        calls.append((address, size, engine.count.executed))
        uclib().uc_emu_stop(uc)

    engine = Engine(compute).counting(at_deadline)
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

    engine = Engine(compute).counting(armed)
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
