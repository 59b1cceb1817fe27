"""The same bench twice gives identical transcripts, byte timestamps and edge logs."""

from __future__ import annotations

import pytest

from atoll.pytest_plugin import BOARDS
from atoll.testbench import Device
from tests.conftest import ROOT


def session(board):
    dut = Device(ROOT / "firmware" / "images" / f"demo-{board}.toml")
    dut.expect("atoll> ")
    for line in ("help", "echo same again", "ps", "uptime", "led on"):
        dut.command(line)
    dut.run_for("1.5s")
    return dut


@pytest.mark.parametrize("board", BOARDS)
def test_two_runs_of_one_bench_give_identical_transcripts_and_timestamps(board):
    first, second = session(board), session(board)

    assert first.uart.output == second.uart.output
    assert first.uart.timestamps == second.uart.timestamps
    assert first.gpio.edges() == second.gpio.edges()
    assert first.debug_lines == second.debug_lines
    assert (first.cycles, first.ipc_count) == (second.cycles, second.ipc_count)
