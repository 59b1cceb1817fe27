"""Reverse debugging and snapshots through the GDB stub, driven by the real gdb-multiarch.

The stub runs `atoll boot demo-BOARD.toml --gdb 0 --wait` in a subprocess (as in
test_gdb_stub.py); GDB's reverse-stepi/step/next/finish/continue go through the stub's
`bs`/`bc` packets and GDB's own breakpoints, on both boards.
"""

from __future__ import annotations

import re

import pytest

from tests.atoll.test_gdb_stub import Stub, gdb, needs_gdb
from firmware import components
from tests.boards import BOARDS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


@pytest.fixture
def stub(request, tmp_path):
    started = []

    def start(board: str) -> Stub:
        started.append(Stub(board, tmp_path))
        return started[-1]
    yield start
    for s in started:
        s.stop()


def values(out: str) -> dict[int, str]:
    """GDB's `$N = VALUE` lines."""
    return {int(n): v for n, v in re.findall(r"^\$(\d+) = (.*)$", out, re.M)}


@needs_gdb
@pytest.mark.parametrize("board", BOARDS)
def test_gdb_reverse_continue_stepi_finish_next_and_step_go_back_in_the_uart_server(board, built, stub):
    s = stub(board)
    out = gdb(s.port, board,
              "thread 2.1", "break tx_pump",
              "continue", "print stats.tx_bytes", "print/x $pc",           # $1 $2
              "continue", "print stats.tx_bytes", "print/x $pc",           # $3 $4
              "continue", "print stats.tx_bytes",                          # $5
              "reverse-continue", "print stats.tx_bytes", "print/x $pc",   # $6 $7
              "stepi", "reverse-stepi", "print/x $pc",                     # $8
              "next", "next", "print/x $pc", "reverse-next", "print/x $pc",  # $9 $10
              "reverse-step", "print/x $pc",                               # $11
              "delete", "break hw_tx_room", "continue",
              "reverse-finish", "stepi", "print $pc == hw_tx_room",        # $12
              "delete", "reverse-continue", "monitor record", "kill")

    # (GDB's warning that it reads the components' ELF files locally is not about reverse execution)
    assert "does not support" not in out.replace("remote target does not support file transfer", ""), out
    v = values(out)
    assert (v[6], v[7]) == (v[3], v[4]), out       # back at the hit before, as it was then
    assert len(re.findall(r"Thread 2\.1 hit Breakpoint 1", out)) >= 4, out
    assert v[8] == v[7], out                       # reverse-stepi undid the stepi
    assert v[10] != v[9] and v[11] != v[10], out   # line steps back moved
    assert v[12] == "1", out                       # reverse-finish stopped at the call
    assert "No more reverse-execution history." in out, out
    assert "recording on: a snapshot every 100000000 instructions" in out, out


@needs_gdb
@pytest.mark.parametrize("board", BOARDS)
def test_gdb_reverse_continue_stops_at_the_write_a_watchpoint_watches(board, built, stub):
    s = stub(board)
    out = gdb(s.port, board,
              "thread 2.1", "break tx_pump", "continue", "delete", "watch stats.tx_bytes",
              "continue", "continue", "print stats.tx_bytes", "monitor record", "reverse-continue",
              "print stats.tx_bytes", "stepi", "print stats.tx_bytes", "kill")

    v = values(out)
    # showing GDB the accessing instruction at a watch stop is no change of the system: the
    # history takes no snapshot for it that could never be thinned away
    assert re.search(r"history: instructions 0 to \d+ \(1 snapshots, 0 pinned, ", out), out
    assert int(v[2]) == int(v[1]) - 1, out
    assert re.search(rf"Old value = {v[1]}\nNew value = {v[2]}\n", out), out
    assert v[3] == v[1], out      # stopped just before the store: one instruction on, it is written


@needs_gdb
@pytest.mark.parametrize("board", BOARDS)
def test_monitor_snapshot_save_restore_and_list_from_gdb(board, built, stub):
    s = stub(board)
    out = gdb(s.port, board,
              "thread 2.1", "break tx_pump", "continue", "print stats.tx_bytes",
              "monitor snapshot save before", "continue", "continue", "print stats.tx_bytes",
              "monitor snapshot list", "monitor snapshot restore before",
              "maintenance flush register-cache", "print stats.tx_bytes",
              "monitor snapshot restore after", "monitor snapshot save ../x", "monitor record interval 0",
              "kill")

    v = values(out)
    assert v[3] == v[1] != v[2], out
    assert re.search(r"snapshot 'before' saved at \d+\.\d+ s \(instruction \d+\)", out), out
    assert re.search(r"^before\s+\d+\.\d+ s  instruction \d+$", out, re.M), out
    assert "snapshot 'before' restored: " in out, out
    assert "no snapshot named 'after' (saved: before)" in out, out
    assert "snapshot name '../x': use 1 to 64 letters, digits, '_', '.' or '-'" in out, out
    assert "monitor record interval: the snapshot interval must be at least 1 instruction, not 0" in out, out
