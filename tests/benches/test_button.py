"""A button on GPIO input pin 5 wakes the client waiting for it, through the pin's
interrupt, the kernel and the gpio server (the interrupt path), on both boards."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.atoll(image="tests/benches/images/button-{board}.toml")


def probe_lines(dut, prefix):
    return [(t, line) for t, c, line in dut.debug_lines if c == "gpio_probe" and line.startswith(prefix)]


def test_pressing_the_button_wakes_the_waiting_client_through_the_pin_interrupt(dut):
    dut.run_for("50ms")      # the probe is now waiting for a rising edge on pin 5
    assert probe_lines(dut, "probe: rising") == []
    assert dut.component("gpio").state == "receiving"
    interrupts = dut.stats.interrupts

    pressed = dut.now
    dut.gpio.drive(5, True)
    dut.run_until(lambda: probe_lines(dut, "probe: rising"), timeout="10ms")

    (woken, line), = probe_lines(dut, "probe: rising")
    assert line.startswith("probe: rising 5 0 level 1 at ")
    assert dut.stats.interrupts > interrupts
    assert 0 <= woken - pressed < 0.001
    assert abs(int(line.split()[-2]) / 1e6 - pressed) < 0.001


def test_releasing_the_button_wakes_the_client_waiting_for_the_falling_edge(dut):
    dut.run_for("50ms")
    dut.gpio.drive(5, True)
    dut.run_for("10ms")
    dut.gpio.drive(5, False)
    dut.run_until(lambda: probe_lines(dut, "probe: falling"), timeout="10ms")

    assert probe_lines(dut, "probe: falling")[0][1].startswith("probe: falling 5 0 level 0 at ")


def test_without_a_press_the_client_keeps_waiting(dut):
    dut.run_for("200ms")

    assert probe_lines(dut, "probe: rising") == []
    assert dut.component("gpio_probe").state == "reply-wait"
