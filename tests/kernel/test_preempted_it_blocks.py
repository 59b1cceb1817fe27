"""The slicing property under the kernel: the IT-dense program of tests/machine/test_slicing.py
as components (tests/machine/guest/itdense_component/), three at one priority so that time
slices preempt each one at ever other instructions and every switch flushes the TLB, prints
the same lines as the bare-metal program run in one piece; and so it does when a snapshot of
the whole system is restored after a detour.
"""

from __future__ import annotations

import pathlib
import random

import pytest

from firmware import components
from tests.kernel.system_harness import BOARDS, ISA_OF, System
from tests.machine.test_slicing import build_itdense, in_one_piece

FOLDER = pathlib.Path(__file__).resolve().parents[1] / "machine" / "guest" / "itdense_component"
NAMES = ("a", "b", "c")
#: enough virtual time for three copies to finish on either board
SECONDS = 2.5


@pytest.fixture(scope="module")
def elves(tmp_path_factory) -> dict[str, pathlib.Path]:
    # built here (not with the shared test components) so that a change to ../itdense.h,
    # which the component build's fingerprint does not see, always rebuilds it
    out = tmp_path_factory.mktemp("itdense-component")
    return {isa: components.build_component("itdense", FOLDER, isa, out) for isa in ("armv7m", "rv32imac")}


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> dict[str, list[str]]:
    """Each board's lines from the bare-metal build run in one piece."""
    bare = build_itdense(tmp_path_factory.mktemp("itdense-bare"))
    lines = {}
    for board in BOARDS:
        text = in_one_piece(board, bare[board]).uart.decode()
        lines[board] = [line.rstrip("\r") for line in text.split("\n") if line]
    return lines


def three_copies(board: str, elves) -> System:
    system = System(board, {(ISA_OF[board], "itdense"): elves[ISA_OF[board]]})
    for name in NAMES:
        system.add(name, "itdense", priority=4)
    return system


@pytest.mark.parametrize("board", BOARDS)
def test_preempted_components_print_what_the_program_prints_in_one_piece(board, elves, expected):
    system = three_copies(board, elves)
    system.run(SECONDS)
    for name in NAMES:
        assert system.output(name) == expected[board], name
    assert expected[board][-1].startswith("itdense: done ")


@pytest.mark.parametrize("board", BOARDS)
def test_a_system_snapshot_restored_after_a_detour_prints_the_same_lines(board, elves, expected):
    rng = random.Random(7)
    system = three_copies(board, elves)
    kernel = system.kernel
    kernel.start()
    kernel.run_for(rng.uniform(0.05, 0.6))
    snap, length = kernel.snapshot(), len(system.lines)
    kernel.run_for(rng.uniform(0.01, 0.3))
    kernel.restore(snap)
    del system.lines[length:]
    kernel.run_for(SECONDS)
    for name in NAMES:
        assert system.output(name) == expected[board], name
