"""Components cannot reach the machine's own page, and read only virtual time.

Hostile components (tests/kernel/guest/): page_jumper jumps into the machine's page at
0xFFFFF800, top_jumper to the last word 0xFFFFFFFC, page_writer stores to 0xFFFFF000;
each is stopped with its fault while a sleeper beside it keeps its virtual-time
schedule. counter_reader reads the CPU's counters across a sleep and prints them: on
RISC-V the cycle, instret and time CSRs read virtual time, the same on every run; a
Cortex-M component has no counter in its address space at all.
"""

from __future__ import annotations

import re

import pytest

from kernel.process import State
from machine import AccessKind, FaultKind
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)

@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def never_spin(system: System, limit: int = 10_000) -> None:
    """Fail, rather than hang, if the machine spins in place: the kernel asked `limit` times in a
    row to let the CPU wait with the clock not moving at all."""
    handler = system.machine.trap_handler
    seen = {"cycle": -1, "count": 0}

    def guarded(trap):
        if trap.kind == "wait":
            now = system.machine.clock.now
            seen["count"] = seen["count"] + 1 if now == seen["cycle"] else 0
            seen["cycle"] = now
            if seen["count"] >= limit:
                raise AssertionError(f"the machine spun in place at cycle {now}, time standing still")
        return handler(trap)

    system.machine.trap_handler = guarded


def run_beside_a_sleeper(board, guests, hostile: str):
    system = System(board, guests)
    process = system.add(hostile, priority=3)
    system.add("sleeper", priority=4)
    never_spin(system)
    system.run(0.02)
    assert len(system.output("sleeper")) == 5
    assert system.kernel.process("sleeper").exit_code == 7
    assert process.thread.state is State.STOPPED
    return system, process


def test_a_component_jumping_into_the_machines_page_is_stopped_and_time_goes_on_for_the_others(board, guests):
    system, jumper = run_beside_a_sleeper(board, guests, "page_jumper")

    assert system.output("page_jumper") == ["jumper: jumping into the machine's page"]
    fault = jumper.last_fault
    assert (fault.kind, fault.address, fault.access, fault.pc, fault.space) == (
        FaultKind.PERMISSION, 0xFFFF_F800, AccessKind.FETCH, 0xFFFF_F800, "page_jumper")
    assert fault.detail == "the machine's own page"


def test_a_component_jumping_to_the_last_word_of_the_address_space_faults_with_that_pc(board, guests):
    system, jumper = run_beside_a_sleeper(board, guests, "top_jumper")

    assert system.output("top_jumper") == ["top: jumping to 0xfffffffc"]
    fault = jumper.last_fault
    assert (fault.kind, fault.address, fault.access, fault.pc) == (
        FaultKind.PERMISSION, 0xFFFF_FFFC, AccessKind.FETCH, 0xFFFF_FFFC)


def test_a_component_writing_the_machines_page_gets_a_write_permission_fault(board, guests):
    system, writer = run_beside_a_sleeper(board, guests, "page_writer")

    assert system.output("page_writer") == ["writer: writing the machine's page"]
    fault = writer.last_fault
    assert (fault.kind, fault.address, fault.access, fault.space) == (
        FaultKind.PERMISSION, 0xFFFF_F000, AccessKind.WRITE, "page_writer")
    assert str(fault).endswith("in space 'page_writer' (the machine's own page)")


_COUNTERS = re.compile(r"counters (\d): cycle (\d+):(\d+) instret (\d+):(\d+) time (\d+):(\d+)")


def read_counters(board, guests) -> tuple[list[str], System]:
    system = System(board, guests)
    system.add("counter_reader")
    system.run(0.01)
    return system.output("counter_reader"), system


def test_a_component_reads_the_same_counters_on_every_run(board, guests):
    first, system = read_counters(board, guests)
    second, _ = read_counters(board, guests)

    assert first == second
    if system.isa == "rv32imac":
        assert len(first) == 2 and system.kernel.process("counter_reader").exit_code == 0
    else:
        assert first == ["counters 1: reading SYST_CVR"]


def test_on_risc_v_a_components_counters_are_virtual_time_across_a_sleep(guests):
    lines, system = read_counters("hifive1", guests)

    (cycle1, instret1, time1), (cycle2, instret2, time2) = [
        tuple(int(m[i]) << 32 | int(m[i + 1]) for i in (2, 4, 6)) for m in map(_COUNTERS.fullmatch, lines)]
    hz, rtc = system.machine.clock.frequency_hz, 32768
    assert cycle1 < cycle2 <= system.machine.clock.now
    assert cycle2 - cycle1 >= hz // 1000          # the 1000 us sleep, in cycles
    assert instret2 - instret1 >= hz // 1000
    assert time2 - time1 >= rtc // 1000           # ... and in mtime ticks
    assert time2 <= system.machine.peripheral("clint").mtime


def test_on_cortex_m_a_component_has_no_counter_in_its_address_space(guests):
    lines, system = read_counters("mps2-an385", guests)

    fault = system.kernel.process("counter_reader").last_fault
    assert (fault.kind, fault.address, fault.access) == (FaultKind.UNMAPPED, 0xE000_E000, AccessKind.READ)
