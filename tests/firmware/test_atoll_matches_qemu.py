"""Differential test against a real peer: the same ELF on QEMU and on Atoll's board
gives the same UART0 bytes, byte for byte.

QEMU (`-M mps2-an385`, `-M sifive_e`) is installed by `make test` from Debian's
packages; this is skipped only outside CI when QEMU is missing.
"""

import pytest

from machine import BufferBackend, Machine
from tests.boards import BARE_BOARDS

BOARDS = list(BARE_BOARDS)
PROGRAMS = ["hello", "blink", "compute", "memsort"]

pytestmark = pytest.mark.qemu


def atoll_output(board: str, elf, length: int) -> bytes:
    machine = Machine(board)
    machine.load_elf(elf)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    machine.run_until(lambda: len(uart.output) >= length, timeout=1.0)
    machine.run_for(0.05)  # anything extra would show up in the comparison
    return bytes(uart.output)


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("board", BOARDS)
def test_atoll_and_qemu_print_the_same_uart_bytes(board, program, bare_firmware, qemu):
    qemu.require(board)
    elf = bare_firmware[board, program]

    ours = atoll_output(board, elf, length=16)
    theirs = qemu.run(board, elf, count=len(ours), settle=0.3, timeout=10)

    assert len(ours) >= 16
    assert ours == theirs
