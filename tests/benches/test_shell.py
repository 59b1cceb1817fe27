"""The demo shell over UART0, on both boards: a bench as a user would write one."""

from __future__ import annotations

import re

import pytest

from tests.boards import demo_pin

pytestmark = pytest.mark.atoll(image="firmware/images/demo-{board}.toml")


def test_the_shell_prompts_after_the_boot_banners(dut):
    dut.expect("Atoll shell ready; type help")
    dut.expect("atoll> ")

    assert "Atoll console ready" in dut.uart.text
    assert any(c == "hello" and line == "hello from a component" for _, c, line in dut.debug_lines)


def test_the_shell_answers_help_echo_and_uptime(dut, board):
    dut.expect("atoll> ")

    assert "commands: help, echo TEXT, led on|off, uptime, ps" in dut.command("help")
    assert dut.command("echo over the wire") == "echo over the wire\r\nover the wire\r\n"
    up = re.search(r"up (\d+)\.(\d{6}) s", dut.command("uptime"))
    assert up and abs(int(up[1]) + int(up[2]) / 1e6 - dut.now) < 0.01


def test_ps_shows_every_component_and_the_kernel_agrees(dut):
    dut.expect("atoll> ")
    table = dut.command("ps")

    for c in dut.components():   # states move while ps runs; names and priorities do not
        assert re.search(rf"{c.index}\s+{c.name}\s+{c.priority}\s", table), table
    assert re.search(r"hello\s+6\s+exited", table)
    assert dut.component("hello").state == "exited"


def test_led_on_drives_the_shells_pin_high_and_off_low(dut, board):
    pin = demo_pin(board, "shell_led")
    dut.expect("atoll> ")

    dut.command("led on")
    assert dut.gpio.level(pin) is True
    dut.command("led off")
    assert dut.gpio.level(pin) is False
