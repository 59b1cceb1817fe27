"""Differential test against a real peer: the RISC-V machine-mode programs
(tests/machine/guest/riscv: traps, timer and software interrupts, the PLIC, vectored mtvec,
WFI) give the same UART0 bytes on QEMU's sifive_e and on Atoll's hifive1.

Differences allowed for by the programs themselves (docs/boards.md): QEMU's mtime runs at
10 MHz, the FE310's at 32,768 Hz, so the scheduler's tick is long enough for either and prints
one line per turn whatever its length; QEMU resets mtimecmp to 0 (the FE310 leaves it
undefined, Atoll sets all ones), so programs set it before enabling the timer; QEMU's PLIC pends
a claimed source again when its line rises, so a handler masks the source before it claims; and
QEMU writes the instruction bits (Atoll 0, as spec 1.10 allows) to mtval on an illegal
instruction, which the programs do not print.
"""

import pytest

from machine import BufferBackend, Machine
from tests.machine.rv_guests import BOARD, build_rv_guests

PROGRAMS = ["sched", "yield", "faults", "vectored", "wfi", "uart_rx"]
#: what is typed into UART0 once the program says it is ready
INPUT = {"uart_rx": (b"ready", b"hello\n")}

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def rv_guests(tmp_path_factory):
    return build_rv_guests(tmp_path_factory.mktemp("rv-guests"))


def atoll_output(elf, send) -> bytes:
    machine = Machine(BOARD)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    if send is not None:
        machine.run_until(lambda: send[0] in uart.output, timeout=2.0)
        uart.send(send[1])
    machine.run_until(lambda: uart.output.endswith(b"\r\n") and (b"done" in uart.output or
                                                                  b"interrupts" in uart.output), timeout=2.0)
    machine.run_for(0.05)  # anything extra would show up in the comparison
    return bytes(uart.output)


@pytest.mark.parametrize("program", PROGRAMS)
def test_atoll_and_qemu_print_the_same_uart_bytes_for_a_trapping_program(program, rv_guests, qemu):
    qemu.require(BOARD)
    elf = rv_guests[program]
    send = INPUT.get(program)

    ours = atoll_output(elf, send)
    theirs = qemu.run(BOARD, elf, count=len(ours), settle=0.3, timeout=10, send=send)

    assert ours.count(b"\n") >= 2, ours
    assert ours == theirs
