"""blinky toggles its LED every 500 ms: a full period of one second, measured on the
pin's edge log in virtual time, on both boards."""

from __future__ import annotations

import re

import pytest

from tests.boards import BOARDS, demo_pin

pytestmark = pytest.mark.atoll(image="firmware/images/demo-{board}.toml")
BLINKY_PIN = {board: demo_pin(board, "blinky") for board in BOARDS}


def test_blinky_toggles_its_pin_with_a_period_of_one_second(dut, board):
    check = dut.gpio.toggles_with_period(BLINKY_PIN[board], period="1s", tolerance="20us", cycles=4)

    assert check, check
    assert dut.now >= 4.0


def test_a_wrong_period_is_reported_with_the_periods_measured(dut, board):
    check = dut.gpio.toggles_with_period(BLINKY_PIN[board], period="800ms", tolerance="1ms", cycles=2)

    assert not check
    assert "FAILED" in repr(check) and re.search(r"measured \[(1\.00000\d|0\.99999\d), ", repr(check)), check


def test_edges_carry_their_virtual_time_and_alternate(dut, board):
    dut.run_for("2.2s")

    edges = dut.gpio.edges(BLINKY_PIN[board])
    assert [e.level for e in edges] == [True, False, True, False, True]
    assert all(abs((b.time - a.time) - 0.5) < 20e-6 for a, b in zip(edges, edges[1:]))
    assert dut.gpio.edges(BLINKY_PIN[board], since="1.2s") == edges[3:]
