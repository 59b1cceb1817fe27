"""The ARMv7-M guest exception model (machine/exceptions/armv7m.py), through real programs.

The programs in tests/machine/guest/armv7m/ are built with the project's toolchain and booted
bare-metal on mps2-an385; each prints what it observes on UART0. Their output is checked here
against the rules of the ARMv7-M Architecture Reference Manual (the lines say which rule), and
byte for byte against QEMU's `-M mps2-an385`, which models the same rules. The exception
model is ARM-only: RISC-V machine mode has its own programs.
"""

from __future__ import annotations

import pathlib

import pytest

from atoll.toolchain import build
from firmware.build import BOARDS as BARE_BOARDS
from machine import StopReason
from machine.memory import FaultKind
from tests.firmware import qemu
from tests.machine.slicing import Plan, assert_same_outcome, boot, run_past_breakpoints, sliced_run, whole_run

GUEST = pathlib.Path(__file__).resolve().parent / "guest" / "armv7m"
BOARD = "mps2-an385"
PROGRAMS = ("svc", "nest", "fault", "switcher")
#: virtual cycles every program needs to finish (the longest, switcher, about 450,000)
RUN = 1_500_000


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, pathlib.Path]:
    out = tmp_path_factory.mktemp("armv7m")
    spec = BARE_BOARDS[BOARD]
    return {name: build([GUEST / f"{name}.c", GUEST / "start.c"], out / f"{name}.elf", spec.isa,
                        spec.directory / "link.ld", include_dirs=[GUEST])
            for name in PROGRAMS}


def run(elf: pathlib.Path, cycles: int = RUN):
    machine, uart = boot(BOARD, elf)
    stop = machine.run(cycles)
    return machine, stop, bytes(uart.output).decode()


# -- SVC, VTOR, WFI, SYSRESETREQ -------------------------------------------------------------

def test_an_svc_handler_reads_its_immediate_and_arguments_from_the_frame_stacked_on_msp_or_psp(programs):
    _, stop, out = run(programs["svc"])
    assert stop.reason is StopReason.TIME
    # r0 + r1 * 42, written back into the stacked r0 (B1.5.6: r0 is stacked first)
    assert "svc on msp: 0x00000059\n" in out
    assert "svc on psp: 0x0000007f, sp is psp\n" in out


def test_a_vector_table_relocated_with_vtor_serves_the_next_exception(programs):
    _, _, out = run(programs["svc"])
    assert "vtor 0x20000200\nrelocated svc handler, ipsr 0x0000000b\n" in out


def test_wfi_sleeps_until_systick_pends_and_time_jumps_while_it_sleeps(programs):
    machine, _, out = run(programs["svc"])
    assert "woke on systick 3 times\n" in out
    assert machine.counter.executed < machine.clock.now // 2   # the sleeps cost no instructions


def test_sysresetreq_resets_the_board_and_the_program_boots_again_with_ram_kept(programs):
    machine, stop, out = run(programs["svc"])
    assert out.endswith("sysresetreq\nboot 2 after SYSRESETREQ\ndone\n")
    assert stop.reason is StopReason.TIME and machine.clock.now == RUN   # time went on


# -- priorities, nesting, masking, tail-chaining ----------------------------------------------

def test_a_more_urgent_interrupt_nests_and_a_less_urgent_one_waits_then_tail_chains(programs):
    _, _, out = run(programs["nest"])
    assert ("-- nesting and tail-chaining\n"
            "irq0 in, active 0x00000001\n"
            "irq1, icsr vectactive 0x00000011 nested\n"
            "irq0 after pending irq1 and irq2, ispr 0x00000004\n"
            "irq0 out\n"
            "irq2\n"
            "irq2 tail-chained on irq0's frame, lr 0xfffffff9\n") in out


def test_only_the_three_implemented_priority_bits_of_an_ipr_byte_are_kept(programs):
    _, _, out = run(programs["nest"])
    assert "ipr0 reads 0x40c04080\n" in out


def test_primask_faultmask_and_basepri_hold_interrupts_until_they_are_lowered(programs):
    _, _, out = run(programs["nest"])
    assert ("masked, ispr 0x00000001\nirq0 in, active 0x00000001\nirq0 out\n"
            "after cpsie, spins 0x00000000\n") in out
    assert "masked by faultmask\nirq1, icsr vectactive 0x00000011 rettobase\nafter cpsie f\n" in out
    assert ("irq0 held by basepri 0x80\n"
            "irq1, icsr vectactive 0x00000011 rettobase\nirq1 went through\n"
            "basepri_max 0xc0 leaves 0x00000080\n"
            "irq0 in, active 0x00000001\nirq0 out\nafter basepri 0\n") in out


def test_with_prigroup_7_a_more_urgent_priority_in_the_same_group_does_not_preempt(programs):
    _, _, out = run(programs["nest"])
    assert ("aircr 0xfa050700\nirq0 in, active 0x00000001\n"
            "irq0: irq1 in the same group waits, ispr 0x00000002\nirq0 out\n"
            "irq1, icsr vectactive 0x00000011 rettobase\n") in out


def test_pendsv_set_in_a_handler_runs_after_it_returns(programs):
    _, _, out = run(programs["nest"])
    assert out.endswith("irq3, pending pendsv\nirq3 out\npendsv\ndone\n")


def test_two_tasks_that_never_yield_take_turns_on_systick_and_pendsv(programs):
    _, _, out = run(programs["switcher"])
    assert out == "A0 B0 A1 B1 A2 B2 A3 B3 \nswitches 0x00000007\ndone\n"


# -- faults ------------------------------------------------------------------------------------

def test_faults_go_to_their_handler_when_enabled_and_escalate_to_hardfault_otherwise(programs):
    _, _, out = run(programs["fault"])
    assert ("undefined, usagefault disabled\nhardfault: cfsr 0x00010000 hfsr 0x40000000\n"
            "undefined, usagefault enabled\nusagefault: cfsr 0x00010000 hfsr 0x00000000\n"
            "unmapped load, busfault enabled\nbusfault: cfsr 0x00008200 hfsr 0x00000000 bfar 0x60000000\n"
            "unmapped load under basepri 0x20\nhardfault: cfsr 0x00008200 hfsr 0x40000000 bfar 0x60000000\n"
            "svc with primask set\nhardfault: cfsr 0x00000000 hfsr 0x40000000\n") in out


def test_a_fault_in_the_hardfault_handler_locks_up_and_ends_the_run_naming_it(programs):
    machine, stop, out = run(programs["fault"])
    assert out.endswith("fault in hardfault\nhardfault: cfsr 0x00010000 hfsr 0x40000000\n")
    assert stop.reason is StopReason.FAULT and stop.fault.kind is FaultKind.CPU_ERROR
    assert stop.fault.detail == (f"lockup: UsageFault (UNDEFINSTR) at pc {stop.fault.pc:#010x} while the "
                                 "execution priority is -1 (in HardFault)")
    assert machine.read_physical(stop.fault.pc, 2) == b"\x01\xde"   # the handler's udf #1


# -- the same on QEMU ------------------------------------------------------------------------

#: how far each program's output is compared: QEMU stops at a reset (-no-reboot) and at lockup
UNTIL = {"svc": "sysresetreq\n", "nest": "done\n", "switcher": "done\n",
         "fault": "fault in hardfault\nhardfault: cfsr 0x00010000 hfsr 0x40000000\n"}


@pytest.mark.qemu
@pytest.mark.parametrize("program", PROGRAMS)
def test_atoll_and_qemu_print_the_same_bytes_for_each_exception_program(program, programs):
    qemu.require(BOARD)
    _, _, ours = run(programs[program])
    ours = ours[:ours.index(UNTIL[program]) + len(UNTIL[program])]
    theirs = qemu.run(BOARD, programs[program], until=UNTIL[program].encode(), settle=0.2, timeout=10)
    assert theirs.decode(errors="replace")[:len(ours)] == ours


# -- the deterministic clock and slicing -----------------------------------------------------

class _ExceptionPlan(Plan):
    """The slicing test's plan. A debugger's steps take no interrupt (it waits for the next
    run), so steps after which one is pending are undone and the stretch run instead."""

    def exact_steps(self) -> None:
        snap, length = self.machine.snapshot(), len(self.uart.output)
        super().exact_steps()
        if self.machine.guest.best_pending() is not None:
            self.rewind(snap, length)
            self.log.append("steps undone: an exception pended")
            self.run_piece()


@pytest.mark.parametrize("program, seed", [("switcher", 11), ("switcher", 12), ("nest", 13), ("nest", 14)])
def test_an_interrupt_driven_program_cut_into_slices_steps_and_snapshot_detours_ends_the_same(
        programs, program, seed):
    want = whole_run(BOARD, programs[program], RUN)
    got, plan = sliced_run(BOARD, programs[program], seed, RUN, _ExceptionPlan)
    assert_same_outcome(got, want, f"{program}, seed {seed}: {plan.log[-12:]}")


@pytest.mark.parametrize("program", ["switcher", "nest"])
def test_breakpoints_that_another_space_passes_through_leave_an_interrupt_driven_run_as_it_was(
        programs, program):
    want = whole_run(BOARD, programs[program], RUN)
    assert_same_outcome(run_past_breakpoints(BOARD, programs[program], RUN), want, program)
