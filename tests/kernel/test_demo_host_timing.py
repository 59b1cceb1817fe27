"""The shipped demo images boot to their shell's prompt in host timing (machine/hosttime.py),
with the kernel's traps, the IPC fast path, interrupts and restarts as in exact timing."""

from __future__ import annotations

import pytest

from kernel import Kernel
from machine import BufferBackend, Machine
from sysdesc import load_system
from tests.conftest import ROOT
from tests.kernel.test_demo_images import BOARDS, demo_elves  # noqa: F401  (a fixture)


@pytest.mark.parametrize("board", BOARDS)
def test_the_demo_boots_to_its_prompt_and_answers_a_command_in_host_timing(board, demo_elves):  # noqa: F811
    system = load_system(ROOT / "firmware" / "images" / f"demo-{board}.toml")
    machine = Machine(system.board, timing="host")
    kernel = Kernel(machine)
    uart = BufferBackend()
    machine.attach_uart("uart0", uart)
    kernel.boot(system)

    booted = kernel.run_until(lambda: b"atoll> " in uart.output, 5.0)
    mark = len(uart.output)
    for key in b"uptime\r":   # typed, not pasted: host time runs on while the guest works
        uart.send(bytes([key]))
        kernel.run_until(lambda n=len(uart.output): len(uart.output) > n, 5.0)
    answered = kernel.run_until(lambda: b"atoll> " in uart.output[mark:], 5.0)

    assert booted.reason == "condition", uart.text[-300:]
    assert "Atoll shell ready; type help" in uart.text
    assert answered.reason == "condition", uart.text[-300:]
    assert uart.output[mark:].startswith(b"uptime\r\n")
    assert kernel.stats.faults == 0
