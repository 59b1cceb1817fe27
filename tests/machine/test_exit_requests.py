"""Where a run ends when an access to memory asks for the end: at the accessing instruction.

An access to nothing (a mapping onto a physical address with nothing behind it) must end
the run at the instruction that made it, with nothing after it run, for loads and for
stores alike. Inside Unicorn the two take different ways out: a load leaves translated
code at once, a store only notes the stop and returns, and the exit is taken after it.
Unicorn 2.1.4 checks for that exit after every load and store; the build the project
installs takes it in the store's slow path instead (patches/unicorn/, docs/performance.md,
"The Unicorn build"). These tests pin the outcome on both boards, so that neither build
lets a faulting store run on.
"""

from __future__ import annotations

import pytest

from machine import AccessKind, FaultKind, Perm

NOWHERE = 0x0004_0000      # virtual; mapped onto physical memory with nothing behind it
FUNCTIONS = {AccessKind.READ: "probe_load", AccessKind.WRITE: "probe_store"}


def accessing_instruction(probe, function: str) -> tuple[int, int]:
    """(address, position from 1) of the one load or store in a probe function."""
    disassembler = probe.cpu.disassembler()
    start = probe.address(function)
    code = probe.machine.read_virtual(probe.space, start, 32)
    for position, insn in enumerate(disassembler.disasm(code, start), 1):
        mnemonic = insn.mnemonic.removeprefix("c.")
        if mnemonic in ("ldr", "lw", "str", "sw"):
            return insn.address, position
    raise AssertionError(f"{function}: no load or store in its first 32 bytes")


@pytest.mark.parametrize("access", [AccessKind.READ, AccessKind.WRITE], ids=["load", "store"])
def test_an_access_to_nothing_ends_the_run_at_the_accessing_instruction(probe, access):
    probe.space.map(NOWHERE, 0x7000_0000, 0x1000, Perm.R | Perm.W, "nowhere")
    function = FUNCTIONS[access]
    address, position = accessing_instruction(probe, function)
    before = probe.machine.counter.executed

    stop = probe.call(function, NOWHERE, 0x1234_5678)

    f = stop.fault
    assert (stop.reason, f.kind, f.access, f.pc) == ("fault", FaultKind.BUS_ERROR, access, address)
    assert probe.cpu.pc == address
    assert probe.machine.counter.executed - before == position

