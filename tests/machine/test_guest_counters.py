"""What a guest can read of time: only virtual time, the same on every run.

On RISC-V the counter CSRs (cycle, instret, time and their high halves; mcycle and
minstret in M-mode) read the machine's clock: cycle = mcycle = instret = minstret =
the virtual cycles since reset, time = the CLINT's mtime. On Cortex-M there is no
counter but SysTick (not modelled: it reads its reset value) and the DWT (not there:
a bus error). The probe (tests/machine/guest/probe.c) reads each counter in its own
function; it runs privileged unless the test drops it to user mode.
"""

from __future__ import annotations

import pytest

from machine import AccessKind, FaultKind, Perm

from tests.machine.probe_harness import Probe

RISCV = "hifive1"
CORTEX_M = "mps2-an385"
WORD = 0xFFFF_FFFF


@pytest.fixture
def rv(probe_elves) -> Probe:
    return Probe(RISCV, probe_elves["rv32imac"])


def read(probe: Probe, csr: str) -> int:
    stop = probe.call(f"probe_read_{csr}")
    assert stop.reason == "trap" and stop.trap.kind == "breakpoint", stop
    return probe.result()


@pytest.mark.parametrize("csr", ["mcycle", "minstret", "cycle", "instret"])
def test_a_privileged_program_reads_the_virtual_cycle_count_from_each_counter(rv, csr):
    rv.machine.clock.advance(1_000_000)
    before = rv.machine.clock.now

    value = read(rv, csr)

    assert before < value <= rv.machine.clock.now


@pytest.mark.parametrize("csr", ["mcycleh", "minstreth", "cycleh", "instreth"])
def test_the_high_halves_carry_the_cycle_count_past_32_bits(rv, csr):
    rv.machine.clock.advance(5 << 32)

    assert read(rv, csr) == 5


def test_time_reads_the_clints_mtime_at_32768_hz(rv):
    rv.machine.clock.advance(3 * 16_000_000)   # 3 s at the board's 16 MHz

    low, high = read(rv, "time"), read(rv, "timeh")

    assert (high << 32 | low) == rv.machine.peripheral("clint").mtime == 3 * 32768


def test_time_follows_software_writes_to_mtime(rv):
    clint = rv.machine.peripheral("clint")
    clint.write(0xBFFC, 4, 7)   # mtime_hi

    assert read(rv, "timeh") == 7


def test_user_code_reads_the_same_virtual_counters_and_no_machine_counter(rv):
    rv.machine.clock.advance(1_000_000)
    before = rv.machine.clock.now
    rv.prepare("probe_read_cycle")
    rv.machine.enter_user_mode()
    rv.machine.run(10_000)
    assert before < rv.result() <= rv.machine.clock.now
    assert read(rv, "time") == rv.machine.peripheral("clint").mtime & WORD

    stop = rv.call("probe_read_mcycle")

    assert stop.fault.kind is FaultKind.UNDEFINED_INSTRUCTION
    assert rv.address("probe_read_mcycle") <= stop.fault.pc < rv.address("probe_read_mcycle") + 16


def test_two_machines_running_the_same_program_read_the_same_counters(probe_elves):
    def readings() -> list[int]:
        probe = Probe(RISCV, probe_elves["rv32imac"])
        values = []
        for _ in range(3):
            probe.machine.clock.advance(123_457)
            values += [read(probe, csr) for csr in ("cycle", "cycleh", "instret", "time", "mcycle", "minstret")]
        return values

    assert readings() == readings()


def test_a_counter_read_from_the_host_between_runs_reads_zero_not_the_hosts_clock(rv):
    # Unicorn's own register read goes through the same CSR table as the guest's instruction.
    from unicorn.riscv_const import UC_RISCV_REG_CYCLE, UC_RISCV_REG_INSTRETH, UC_RISCV_REG_MCYCLE
    rv.machine.clock.advance(1_000)

    values = {rv.machine.uc.reg_read(reg)
              for reg in (UC_RISCV_REG_CYCLE, UC_RISCV_REG_MCYCLE, UC_RISCV_REG_INSTRETH) for _ in range(3)}

    assert values == {0}


def test_on_cortex_m_systick_reads_its_reset_value_and_the_dwt_cycle_counter_is_not_there(probe_elves):
    probe = Probe(CORTEX_M, probe_elves["armv7m"])
    probe.space.map(0xE000_E000, 0xE000_E000, 0x1000, Perm.R | Perm.W, "scs")
    probe.space.map(0xE000_1000, 0xE000_1000, 0x1000, Perm.R | Perm.W, "dwt")

    readings = []
    for _ in range(2):
        probe.machine.clock.advance(1_000_000)
        stop = probe.call("probe_load", 0xE000_E018)   # SYST_CVR
        assert stop.trap.kind == "breakpoint"
        readings.append(probe.result())
    stop = probe.call("probe_load", 0xE000_1004)       # DWT_CYCCNT

    assert readings == [0, 0]
    assert (stop.fault.kind, stop.fault.access) == (FaultKind.BUS_ERROR, AccessKind.READ)
