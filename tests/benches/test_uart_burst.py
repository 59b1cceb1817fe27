"""The uart driver under a burst of input much larger than the UART's receive FIFO
(one byte on mps2-an385, eight on hifive1): no byte is lost."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.atoll(image="firmware/images/demo-{board}.toml")


def test_a_burst_of_three_long_lines_is_echoed_and_answered_byte_for_byte(dut, board):
    dut.expect("atoll> ")
    lines = [f"echo {i}-" + "".join(chr(0x61 + (i + k) % 26) for k in range(70)) for i in range(3)]
    burst = "".join(line + "\r" for line in lines)
    assert len(burst) > 200

    dut.write(burst)        # all at once: the host sends at the line rate, the guest must keep up
    for line in lines:
        dut.expect(line + "\r\n")              # the echo of what was typed
        dut.expect(line[5:] + "\r\n", "2s")    # the answer
        dut.expect("atoll> ")


def test_the_uart_model_dropped_nothing(dut, board):
    dut.expect("atoll> ")
    dut.write("echo " + "x" * 80 + "\r")
    dut.expect("x" * 80 + "\r\n" + "x" * 80 + "\r\n", "2s")

    uart = dut.machine.peripheral("uart0")
    if board == "hifive1":
        assert uart.rx_dropped == 0
    else:
        assert uart.get("STATE") & 0b1100 == 0   # no RX (or TX) overrun flag
