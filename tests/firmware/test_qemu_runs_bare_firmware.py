"""Real QEMU runs the bare-metal firmware and prints exactly the expected UART0 bytes.

This proves the start-up code, linker scripts and UART drivers against QEMU's models of both boards
(independently of our own emulator), so the same ELFs can later be compared byte for byte with
Atoll's boards. Skipped only when QEMU is missing and CI is not set.
"""

import pytest

from tests.boards import BARE_BOARDS

BOARDS = list(BARE_BOARDS)

BLINK_LINES = {
    "mps2-an385": b"blink: period 25000 cycles\r\n",
    "hifive1": b"blink: period 33 mtime-ticks\r\n",
}

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("board", BOARDS)
def test_hello_prints_exactly_its_greeting_on_uart0(board, bare_firmware, qemu):
    qemu.require(board)
    expected = f"Hello from Atoll on {board}!\r\n".encode()

    # Listen a little past the expected bytes, so anything extra shows up in the comparison.
    output = qemu.run(board, bare_firmware[board, "hello"], count=len(expected), settle=0.3, timeout=10)

    assert output == expected


@pytest.mark.parametrize("board", BOARDS)
def test_blink_announces_its_period_on_uart0(board, bare_firmware, qemu):
    qemu.require(board)
    expected = BLINK_LINES[board]

    output = qemu.run(board, bare_firmware[board, "blink"], count=len(expected), settle=0.3, timeout=10)

    assert output == expected
