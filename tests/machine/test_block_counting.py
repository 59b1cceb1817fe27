"""The instruction counter counts per translated block (machine/native/counter.c): a block is
counted whole when it starts, and settled where a run leaves it in the middle. These tests
check the settling where a peripheral reads the time, and where a guest's own exception model takes a fault raised in the middle of
a block and the guest goes on in the same run: single steps across the faulting instructions
must each advance the count by exactly one instruction (the faulting one counts as started),
not by the rest of the block the fault left.

The guests are the exception programs of the other machine tests: `fault`
(tests/machine/guest/armv7m: an unmapped load, UsageFaults) and `faults`
(tests/machine/guest/riscv: ecall, ebreak, an illegal instruction, load and store faults).
"""

from __future__ import annotations

import os
import pathlib

import pytest

from atoll.toolchain import build
from firmware.build import BOARDS as BARE_BOARDS
from machine import BufferBackend, Machine, MachineDebug, StopReason, symbols
from tests.boards import BARE_BOARDS as BOARDS
from tests.machine.rv_guests import build_rv_guests

#: UART bytes compared between a run in one piece and one in single steps
BYTES = 4
ARM_GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "armv7m"
#: board: (program, where the steps start: at most a few instructions before a load from
#: nothing, and the entry of the handler that takes its fault)
CASES = {"mps2-an385": ("fault", "load_unmapped", "busfault_handler"), "hifive1": ("faults", "at_load", "trap_entry")}


@pytest.fixture(scope="module")
def guests(tmp_path_factory) -> dict[str, pathlib.Path]:
    out = tmp_path_factory.mktemp("block-counting")
    spec = BARE_BOARDS["mps2-an385"]
    arm = build([ARM_GUEST / "fault.c", ARM_GUEST / "start.c"], out / "fault.elf", spec.isa,
                spec.directory / "link.ld", include_dirs=[ARM_GUEST])
    return {"mps2-an385": arm, "hifive1": build_rv_guests(out)["faults"]}


@pytest.mark.parametrize("board", sorted(CASES))
def test_a_single_step_onto_a_fault_the_guest_takes_mid_block_advances_the_count_by_one(board, guests):
    program, function, handler = CASES[board]
    machine = Machine(board)
    machine.attach_uart("uart0", BufferBackend())
    machine.load_elf(guests[board])
    debug = MachineDebug(machine)
    entry = symbols(machine.image)[function] & ~1
    debug.add_breakpoint(entry, machine.bare_space)
    stop = machine.run(5_000_000)
    assert stop.reason is StopReason.STOPPED and debug.take_hit() is not None, stop
    debug.remove_breakpoint(entry, machine.bare_space)

    handler_entry, counts = symbols(machine.image)[handler] & ~1, []
    while machine.cpu.pc != handler_entry and len(counts) < 8:
        before = machine.counter.executed
        machine.step(1, events=False)
        counts.append(machine.counter.executed - before)

    assert machine.cpu.pc == handler_entry, f"{program}: the steps never reached {handler}"
    assert counts == [1] * len(counts), f"{program}: instructions counted by each step"


@pytest.mark.parametrize("board", BOARDS)
def test_a_peripheral_sees_the_time_of_the_instruction_that_accesses_it(board, bare_firmware, monkeypatch):
    # The reference: the program in one-instruction steps, where the time of an access is the
    # time before its step plus the instructions the step started up to the accessing one
    # (one, but a step into a Thumb IT block runs the whole block, straight-line code),
    # whatever the counter says. A run in one piece must give the UART the same times for its
    # accesses (its TX-full polls, its data writes), which happen in the middle of blocks.
    # Compared up to the first byte's completion: a clock event (the completion) fires at the
    # end of a block in a run, and at once in single steps.
    uart_type = type(Machine(board).peripheral("uart0"))
    accesses: list[tuple] = []
    step_start: list = []   # in the stepped run: the machine, the time and pc before the step

    def now(dev) -> int:
        if not step_start:
            return dev.clock.now
        machine, time, at = step_start
        while at != dev.pc_source():
            time += 1
            at += machine.cpu.instruction_length(int.from_bytes(machine.read_physical(at, 2), "little"))
        return time + 1

    read, write = uart_type.read, uart_type.write
    monkeypatch.setattr(uart_type, "read", lambda dev, offset, size: (
        accesses.append(("read", offset, now(dev), dev.pc_source())), read(dev, offset, size))[1])
    monkeypatch.setattr(uart_type, "write", lambda dev, offset, size, value: (
        accesses.append(("write", offset, now(dev), dev.pc_source())), write(dev, offset, size, value))[1])
    seen = []
    for stepped in (False, True):
        accesses.clear()
        machine = Machine(board)
        machine.load_elf(bare_firmware[board, "hello"])
        uart = BufferBackend()
        machine.attach_uart("uart0", uart)
        if stepped:
            while not uart.output:
                step_start[:] = [machine, machine.clock.now, machine.cpu.pc]
                machine.step(1)
        else:
            machine.run_until(lambda: bool(uart.output), timeout=1.0)
        seen.append([a for a in accesses if a[2] < uart.timestamps[0]])

    assert len(seen[0]) > 10 and any(kind == "write" for kind, *_ in seen[0])
    assert seen[0] == seen[1]


@pytest.mark.parametrize("board", BOARDS)
def test_a_forked_process_changes_only_its_own_copy_of_guest_memory(board):
    # the counter reads guest code from host memory the machine owns; a process pool's
    # workers, forked from a process that holds a machine, must not share that memory
    machine = Machine(board)
    ram = machine.board.regions[-1]
    machine.write_physical(ram.base, b"mine")
    pid = os.fork()
    if pid == 0:   # the child writes its copy, and leaves at once
        try:
            machine.write_physical(ram.base, b"kids")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)

    assert machine.read_physical(ram.base, 4) == b"mine"


@pytest.mark.parametrize("board", BOARDS)
def test_an_exception_a_peripheral_raises_in_an_access_ends_the_run_and_is_raised_by_it(board, bare_firmware,
                                                                                       monkeypatch):
    uart_type = type(Machine(board).peripheral("uart0"))
    seen = []

    def failing_read(dev, offset, size):
        seen.append(dev.clock.now)
        raise RuntimeError("the peripheral failed")

    monkeypatch.setattr(uart_type, "read", failing_read)
    machine = Machine(board)
    machine.attach_uart("uart0", BufferBackend())
    machine.load_elf(bare_firmware[board, "hello"])
    with pytest.raises(RuntimeError, match="the peripheral failed"):
        machine.run(1_000_000)
    assert len(seen) == 1 and machine.clock.now < 1_000_000
