"""However a run is cut up, the guest computes the same thing: a program dense in Thumb-2 IT
blocks (tests/machine/guest/itdense.c; on RV32IMAC the same program with compressed
instructions) run in one piece, and run again cut by many random slice lengths, exact
stops, kernel-like context switches (context saved, the TLB flushed by another address
space, context restored) and snapshots restored after a detour, ends with the same
registers, the same memory and the same UART bytes at the same cycles.

The random plans come from fixed seeds, so a failure replays: the message names the seed
and the operations up to the point where the run went wrong. The plans and the comparison are
tests/machine/slicing.py's, which the guest exception tests of both ISAs use too.
"""

from __future__ import annotations

import functools
import pathlib

import pytest

import machine.machine as machine_module
from machine import Machine
from machine.counter import InstructionCounter
from tests.boards import BARE_BOARDS, build_bare
from tests.machine.slicing import Outcome, assert_same_outcome, run_past_breakpoints, sliced_run, whole_run

GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "itdense.c"
BOARDS = tuple(BARE_BOARDS)
#: long enough for the program to finish and park on both boards (about 6.5 M instructions)
TOTAL = 9_000_000
SEEDS = (1, 2, 3, 4, 5)
DONE = b"itdense: done "


@pytest.fixture(scope="module")
def itdense(tmp_path_factory) -> dict[str, pathlib.Path]:
    return build_itdense(tmp_path_factory.mktemp("itdense"))


def build_itdense(out: pathlib.Path) -> dict[str, pathlib.Path]:
    """The bare-metal program built for each board into `out`."""
    return build_bare(GUEST, out)


def in_one_piece(board: str, elf: pathlib.Path) -> Outcome:
    """The program's run to TOTAL in one piece."""
    return whole_run(board, elf, TOTAL)


@pytest.fixture(scope="module")
def unsliced(itdense) -> dict[str, Outcome]:
    return {board: in_one_piece(board, itdense[board]) for board in BOARDS}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("board", BOARDS)
def test_a_run_cut_anywhere_ends_with_the_same_registers_memory_and_uart_output(board, seed, itdense, unsliced):
    got, plan = sliced_run(board, itdense[board], seed, TOTAL)
    assert_same_outcome(got, unsliced[board], f"seed {seed} on {board}: {plan.log[-12:]}")


def test_the_program_finishes_and_both_boards_compute_the_same_checksum(unsliced):
    lines = {board: unsliced[board].uart.split(b"\n")[-2] for board in BOARDS}
    assert all(line.startswith(DONE) for line in lines.values()), lines
    assert len(set(lines.values())) == 1, lines


@pytest.mark.parametrize("board", BOARDS)
def test_breakpoints_passed_through_at_every_instruction_leave_a_run_in_short_slices_as_it_was(board, itdense):
    # slices of 5 instructions end in the middle of blocks, so that many breakpoints are
    # passed after a slice's deadline: the run must still go on to the end of that block
    want = whole_run(board, itdense[board], 30_000)
    got = run_past_breakpoints(board, itdense[board], 30_000, everywhere=True, max_slice=5)
    assert_same_outcome(got, want, board)


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("board", BOARDS)
def test_a_run_counted_by_the_block_hook_instead_of_translated_code_is_the_same_run(board, seed, itdense, unsliced,
                                                                                     monkeypatch):
    # The project's Unicorn build counts in translated code and syncs the pc before MMIO
    # callbacks; the block hook (with a TLB flush after each MMIO access) is what a stock
    # build gets. Both must give the same run, whole and cut into pieces.
    assert Machine(board).counter.translated, "the installed Unicorn is not the project's build (make)"
    monkeypatch.setattr(machine_module, "InstructionCounter", functools.partial(InstructionCounter, translated=False))
    assert not Machine(board).counter.translated
    assert_same_outcome(whole_run(board, itdense[board], TOTAL), unsliced[board], f"{board}, in one piece")
    got, plan = sliced_run(board, itdense[board], seed, TOTAL)
    assert_same_outcome(got, unsliced[board], f"seed {seed} on {board}: {plan.log[-12:]}")

