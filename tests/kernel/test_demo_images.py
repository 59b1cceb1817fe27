"""The shipped demo images, booted from their descriptions on both boards.

They need the components built (the `demo_elves` fixture builds them into the
folder the descriptions point at, build/components).
"""

from __future__ import annotations

import pathlib
import re

import pytest

from kernel import Kernel
from kernel.process import State
from machine import BufferBackend, Machine, Perm
from sysdesc import load_system
from firmware import components
from tests.boards import BOARDS as ALL_BOARDS, demo_pin
from tests.conftest import ROOT

#: the boards with a shipped demo description (firmware/images/demo-<board>.toml)
BOARDS = tuple(b for b in ALL_BOARDS if (ROOT / "firmware" / "images" / f"demo-{b}.toml").is_file())
BLINKY_PIN = {board: demo_pin(board, "blinky") for board in BOARDS}
SHELL_LED_PIN = {board: demo_pin(board, "shell_led") for board in BOARDS}



@pytest.fixture(scope="session")
def demo_elves():
    # The descriptions name build/components/<isa>/<name>.elf, relative to themselves.
    return components.build_all(ROOT / "build" / "components")


class Demo:
    def __init__(self, board: str) -> None:
        self.system = load_system(ROOT / "firmware" / "images" / f"demo-{board}.toml")
        self.machine = Machine(self.system.board)
        self.kernel = Kernel(self.machine)
        self.uart = BufferBackend()
        self.machine.attach_uart("uart0", self.uart)
        self.lines: list[tuple[str, str]] = []
        self.kernel.on_debug_line = lambda c, text: self.lines.append((c, text))
        self.kernel.boot(self.system)

    def expect(self, text: str, timeout: float = 1.0) -> str:
        start = len(self.uart.output)
        stop = self.kernel.run_until(lambda: text.encode() in self.uart.output[start:], timeout)
        assert stop.reason == "condition", f"{text!r} not seen; UART said {self.uart.text[-300:]!r}"
        return self.uart.text

    def command(self, line: str, timeout: float = 1.0) -> str:
        mark = len(self.uart.output)
        self.uart.send(line + "\r")
        self.kernel.run_until(lambda: b"atoll> " in self.uart.output[mark + len(line):], timeout)
        return self.uart.output[mark:].decode()


@pytest.fixture(params=BOARDS)
def demo(request, demo_elves) -> Demo:
    d = Demo(request.param)
    d.board = request.param
    d.expect("atoll> ")
    return d


def test_the_demo_boots_and_prints_its_banners(demo):
    text = demo.uart.text
    assert "[console] Atoll console ready" in text
    assert "Atoll shell ready; type help" in text
    assert ("hello", "hello from a component") in demo.lines


def test_the_shell_answers_its_commands(demo):
    assert "commands: help, echo TEXT, led on|off, uptime, ps" in demo.command("help")
    assert "one two three\r\n" in demo.command("echo one two three")
    assert re.search(r"up \d+\.\d{6} s", demo.command("uptime"))
    assert "unknown command: frob (try help)" in demo.command("frob")


def test_ps_lists_every_component_with_its_state(demo):
    table = demo.command("ps")

    for name in ("supervisor", "uart", "gpio", "console", "shell", "blinky", "hello"):
        assert re.search(rf"\d+  {name} ", table), table
    assert re.search(r"hello\s+6\s+exited", table)
    assert re.search(r"shell\s+4\s+running", table)


def test_led_on_and_off_drive_the_shells_pin(demo):
    gpio = demo.machine.peripheral("gpio0")
    pin = SHELL_LED_PIN[demo.board]

    demo.command("led on")
    on = gpio.level(pin)
    demo.command("led off")

    assert on != gpio.level(pin)


def test_blinky_toggles_its_pin_every_500_ms_of_virtual_time(demo):
    demo.kernel.run_for(3.2)

    pin = BLINKY_PIN[demo.board]
    edges = [cycle for cycle, p, _ in demo.machine.peripheral("gpio0").edges if p == pin]
    gaps = [(b - a) / demo.machine.clock.frequency_hz for a, b in zip(edges, edges[1:])]
    assert len(gaps) >= 5
    assert all(abs(gap - 0.5) < 20e-6 for gap in gaps), gaps


def test_a_uart_byte_from_the_host_wakes_the_driver_through_its_interrupt(demo):
    interrupts = demo.kernel.stats.interrupts
    demo.kernel.run_for(0.5)
    idle_instructions = demo.machine.counter.executed

    demo.kernel.run_for(0.5)
    assert demo.machine.counter.executed - idle_instructions < 200_000  # blinky only; nobody polls
    demo.uart.send("x")
    demo.kernel.run_for(0.01)

    assert demo.kernel.stats.interrupts > interrupts
    assert demo.uart.output.endswith(b"x")  # echoed by the shell


def test_a_crashed_component_is_restarted_while_the_shell_keeps_answering(demo):
    blinky = demo.kernel.process("blinky")
    # take execute permission from blinky's code: its next instruction fetch faults
    code = next(m for m in blinky.space.mappings if m.perms & Perm.X)
    blinky.space.unmap(code.vbase)
    blinky.space.map(code.vbase, code.pbase, code.size, code.perms & ~Perm.X, "image")
    demo.kernel.run_for(1.2)

    assert blinky.thread.faults >= 1 or blinky.restarts >= 1
    assert any(c == "supervisor" and "restart" in text for c, text in demo.lines)
    assert "still here\r\n" in demo.command("echo still here")


def test_commands_typed_ahead_in_one_burst_are_all_answered(demo):
    mark = len(demo.uart.output)
    demo.uart.send("echo one\recho two\recho three\r")

    demo.kernel.run_until(lambda: demo.uart.output[mark:].count(b"atoll> ") >= 3, 2.0)

    text = demo.uart.output[mark:].decode()
    assert [line for line in text.split("\r\n") if line in ("one", "two", "three")] == ["one", "two", "three"]
