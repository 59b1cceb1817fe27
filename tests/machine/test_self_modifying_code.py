"""Code a guest rewrites runs as rewritten, however the run is cut: stores take Unicorn's fast
path only on pages that never held code (machine/native/tlb.c), so a store to a page whose code
was translated still throws the stale translation away, even when a data access refilled the
page's TLB entry after a context switch.

tests/machine/guest/selfmod.c writes a function into RAM, calls it, rewrites it, 300 times,
with data stores on the same page. The machine runs it in one piece and in short slices with a
kernel-like TLB flush (another address space activated and back) between slices."""

from __future__ import annotations

import pathlib

import pytest

from machine import AddressSpace
from tests.boards import BARE_BOARDS, build_bare
from tests.machine.slicing import boot

GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "selfmod.c"
ROUNDS = 300
EXPECTED = f"selfmod: sum {sum(i % 32 for i in range(ROUNDS))} errors 0\r\n".encode()


@pytest.fixture(scope="module")
def selfmod(tmp_path_factory) -> dict[str, pathlib.Path]:
    return build_bare(GUEST, tmp_path_factory.mktemp("selfmod"))


@pytest.mark.parametrize("board", BARE_BOARDS)
def test_code_rewritten_by_the_guest_runs_as_rewritten_in_one_run(board, selfmod):
    machine, uart = boot(board, selfmod[board])
    machine.run_until(lambda: b"\n" in uart.output, timeout=1.0)
    assert bytes(uart.output) == EXPECTED


@pytest.mark.parametrize("board", BARE_BOARDS)
def test_code_rewritten_by_the_guest_runs_as_rewritten_across_tlb_flushes(board, selfmod):
    machine, uart = boot(board, selfmod[board])
    elsewhere = AddressSpace("elsewhere")
    machine.max_slice = 37      # short slices, each followed by a context switch's TLB flush
    for _ in range(20_000):
        if b"\n" in uart.output:
            break
        machine.run(machine.max_slice)
        context = machine.uc.context_save()
        machine.activate(elsewhere)
        machine.activate(machine.bare_space)
        machine.uc.context_restore(context)
    assert bytes(uart.output) == EXPECTED
