"""A bare-metal program on the hifive1 traps and is interrupted as the RISC-V privileged spec
1.10 and the FE310-G002 manual say (machine/exceptions/riscv.py): real ELF files
(tests/machine/guest/riscv) run on the machine alone and print what their handlers saw.

The same programs give the same UART bytes on QEMU's sifive_e
(tests/firmware/test_rv_traps_match_qemu.py).
"""

from __future__ import annotations

import pytest
from unicorn import riscv_const as R

from machine import BufferBackend, FaultKind, Machine, StopReason, symbols
from machine.exceptions.riscv import MSTATUS_MIE, MSTATUS_MPIE
from tests.machine.rv_guests import BOARD, build_rv_guests
from tests.machine.slicing import assert_same_outcome, run_past_breakpoints, sliced_run, whole_run

#: long enough for any of the programs to print its last line (the scheduler takes ~0.9 s)
TIMEOUT = 2.0
#: the cycles the scheduler runs whole and cut into pieces
SLICED_RUN = 9_000_000


@pytest.fixture(scope="module")
def rv_guests(tmp_path_factory):
    return build_rv_guests(tmp_path_factory.mktemp("rv-guests"))


def run(elf, until: bytes = b"done\r\n", send: bytes | None = None) -> tuple[Machine, object, bytes]:
    machine = Machine(BOARD)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    if send is not None:
        machine.run_until(lambda: b"ready" in uart.output, timeout=TIMEOUT)
        uart.send(send)
    stop = machine.run_until(lambda: until in uart.output, timeout=TIMEOUT)
    return machine, stop, bytes(uart.output)


def test_a_timer_interrupt_scheduler_switches_two_tasks_in_its_trap_handler(rv_guests):
    _, stop, out = run(rv_guests["sched"])

    assert stop.reason is StopReason.CONDITION, stop
    assert out == b"".join(b"task %d turn %d\r\n" % (task, turn) for turn in range(4) for task in (0, 1)) + \
        b"sched: done\r\n"


def test_two_tasks_that_yield_with_ecall_take_turns(rv_guests):
    _, stop, out = run(rv_guests["yield"])

    assert stop.reason is StopReason.CONDITION, stop
    assert out == b"ping 0\r\npong 0\r\nping 1\r\npong 1\r\nping 2\r\npong 2\r\nyield: done\r\n"


def test_each_synchronous_trap_leaves_its_cause_its_pc_and_the_faulting_address(rv_guests):
    _, stop, out = run(rv_guests["faults"])

    assert stop.reason is StopReason.CONDITION, stop
    assert out.decode().splitlines() == [
        "trap mcause=0x0000000b mepc=ok mpp=3",                     # ecall from M-mode
        "trap mcause=0x00000003 mepc=ok mpp=3",                     # ebreak
        "trap mcause=0x00000002 mepc=ok mpp=3",                     # illegal instruction
        "trap mcause=0x00000005 mepc=ok mtval=0x90000000 mpp=3",    # load from nothing
        "trap mcause=0x00000007 mepc=ok mtval=0x90000004 mpp=3",    # store to nothing (offset 4)
        "trap mcause=0x00000001 mepc=ok mtval=0x90000000 mpp=3",    # a call to nothing
        "faults: done",
    ]


def test_vectored_mtvec_sends_interrupts_to_base_plus_four_times_the_cause_and_exceptions_to_base(rv_guests):
    _, stop, out = run(rv_guests["vectored"])

    assert stop.reason is StopReason.CONDITION, stop
    assert out.decode().splitlines() == [
        "entry 3 mcause=0x80000003",                  # CLINT msip
        "entry 7 mcause=0x80000007",                  # mtimecmp in the past
        "entry 11 mcause=0x8000000b claimed 3",       # UART0 through the PLIC
        "entry 0 mcause=0x0000000b",                  # ecall: BASE
        "vectored: done",
    ]


def test_bytes_received_on_uart0_are_taken_by_interrupt_claimed_and_completed_through_the_plic(rv_guests):
    _, stop, out = run(rv_guests["uart_rx"], until=b"interrupts\r\n", send=b"hello\n")

    assert stop.reason is StopReason.CONDITION, stop
    assert out == b"uart_rx: ready\r\nuart_rx: got 'hello' in 1 or more interrupts\r\n"


def test_wfi_wakes_with_mie_clear_and_an_interrupt_enabled_while_pending_is_taken_at_the_next_instruction(
        rv_guests):
    _, stop, out = run(rv_guests["wfi"])

    assert stop.reason is StopReason.CONDITION, stop
    assert out.decode().splitlines() == [
        "woke: mtip=1 calls=0",                                   # WFI returned, no trap
        "masked: calls=0",                                        # MIE clear: still not taken
        "enabled: calls=1 at the next instruction",               # csrsi mstatus, 8
        "msip masked by mie: calls=1",
        "mie enabled: calls=2 at the next instruction msi",       # csrs mie
        "wfi: done",
    ]


def test_a_trap_to_an_mtvec_that_points_at_nothing_ends_the_run_naming_it(rv_guests):
    machine, stop, out = run(rv_guests["nowhere"], until=b"returned")

    at = symbols(machine.image)["at_ecall"]
    assert out.startswith(b"nowhere: calling") and b"returned" not in out
    assert stop.reason is StopReason.FAULT, stop
    assert stop.fault.kind is FaultKind.CPU_ERROR
    assert stop.fault.pc == at
    assert stop.fault.detail == (f"environment call from M-mode at pc {at:#010x}: "
                                 "mtvec 0x90000000 points at nothing (0x90000000)")


def test_a_handler_that_traps_at_its_first_instruction_ends_the_run_as_a_trap_loop(rv_guests):
    _, stop, out = run(rv_guests["trap_loop"], until=b"returned")

    assert out.startswith(b"trap_loop: calling") and b"returned" not in out
    assert stop.reason is StopReason.FAULT, stop
    assert stop.fault.kind is FaultKind.UNDEFINED_INSTRUCTION
    assert stop.fault.pc == 0x8000_2000
    assert stop.fault.detail == ("trap loop: the handler at 0x80002000 (entered for environment call "
                                 "from M-mode) raised illegal instruction at its first instruction")


def test_a_machine_without_a_bare_metal_program_has_no_guest_exception_model():
    # the kernel's machines: components keep trapping to the kernel
    assert Machine(BOARD).guest is None


@pytest.mark.parametrize("seed", (11, 12, 13))
def test_an_interrupt_driven_program_cut_into_slices_and_snapshot_detours_ends_the_same(seed, rv_guests):
    want = whole_run(BOARD, rv_guests["sched"], SLICED_RUN)
    assert want.uart.count(b"turn") >= 4      # several timer interrupts were taken on the way

    got, plan = sliced_run(BOARD, rv_guests["sched"], seed, SLICED_RUN)
    assert_same_outcome(got, want, f"seed {seed}: {plan.log[-12:]}")


def test_breakpoints_that_another_space_passes_through_leave_an_interrupt_driven_run_as_it_was(rv_guests):
    want = whole_run(BOARD, rv_guests["sched"], SLICED_RUN)
    assert_same_outcome(run_past_breakpoints(BOARD, rv_guests["sched"], SLICED_RUN), want, "sched")


def test_a_reset_board_runs_an_interrupt_driven_program_again_from_power_on(rv_guests):
    machine, stop, out = run(rv_guests["sched"], until=b"task 1 turn 1\r\n")
    assert stop.reason is StopReason.CONDITION, stop

    machine.reset()   # interrupts were on and a trap taken: power-on has neither (spec 1.10 3.3)
    assert machine.uc.reg_read(R.UC_RISCV_REG_MSTATUS) & (MSTATUS_MIE | MSTATUS_MPIE) == 0
    assert machine.uc.reg_read(R.UC_RISCV_REG_MIE) == 0
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    stop = machine.run_until(lambda: b"done\r\n" in uart.output, timeout=TIMEOUT)

    assert stop.reason is StopReason.CONDITION, stop
    assert bytes(uart.output) == b"".join(b"task %d turn %d\r\n" % (task, turn)
                                          for turn in range(4) for task in (0, 1)) + b"sched: done\r\n"
