"""Reverse execution (atoll/recording.py, atoll/reverse.py) and its `atoll debug` commands.

A forward run of the demo image is recorded while the debugger runs and steps it; going
back to each point it stopped at must give the very registers (of every component),
memory, kernel counters and time the forward run had there -- across syscalls,
interrupts and context switches, which the history checks it holds. The `atoll debug`
commands are then driven as a person types them, on both boards.
"""

from __future__ import annotations

import re
import zlib

import pytest

from atoll.debugger import Debugger
from firmware import components
from tests.boards import BOARDS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


def demo(board: str) -> Debugger:
    return Debugger.from_image(ROOT / "firmware" / "images" / f"demo-{board}.toml")


def whole_state(d: Debugger) -> tuple:
    """Everything a replay must reproduce, in comparable form."""
    m, k, control = d.machine, d.kernel, d.session.control
    registers = tuple(tuple(control.read(p.thread, name) for name in m.cpu.GDB_REGISTERS) for p in k.processes)
    memory = tuple(zlib.crc32(bytes(m.uc.mem_read(r.base, r.size))) for r in m.board.regions)
    stats = k.state.stats
    return (m.counter.executed, m.clock.now, registers, memory, k.current.process.index,
            (stats.syscalls, stats.ipc, stats.switches, stats.interrupts))


@pytest.mark.parametrize("board", BOARDS)
def test_going_back_across_syscalls_interrupts_and_context_switches_gives_the_state_the_forward_run_had(
        board, built):
    d = demo(board)
    recording = d.reverse.recording
    recording.set_interval(4000)
    control, kernel, clock = d.session.control, d.kernel, d.machine.clock
    seen = {}
    for i in range(14):
        control.run(clock.cycles(0.004))
        control.wait_until_ready()
        for _ in range(i % 4):
            thread = kernel.current
            control.step(thread, thread.process.space)
        if kernel.current is not None and not d.machine.waiting:
            state = whole_state(d)
            seen[state[0]] = state
    positions = sorted(seen)
    counters = [seen[p][5] for p in positions]
    assert counters[-1][0] > counters[0][0] and counters[-1][2] > counters[0][2] and \
        counters[-1][3] > counters[0][3], "the history holds syscalls, context switches and interrupts"
    assert len(recording.marks) >= 3

    for position in reversed(positions):
        recording.goto(position)
        assert whole_state(d) == seen[position]


@pytest.mark.parametrize("board", BOARDS)
def test_steps_followed_by_what_fell_due_during_them_are_gone_back_through_as_they_ran(board, built):
    """The GDB stub lets time pass after each instruction it steps (`Control.advance`: clock
    events fire, an interrupt is taken); going back must replay that too."""
    d = demo(board)          # one snapshot, at the start: every going back replays from there
    control, kernel, stats = d.session.control, d.kernel, d.kernel.state.stats
    seen = {}
    for i in range(6400):
        assert control.wait_until_ready()
        thread = kernel.current
        control.step(thread, thread.process.space)
        control.advance()
        if i % 1600 == 1599 and kernel.current is not None and not d.machine.waiting:
            state = whole_state(d)
            seen[state[0]] = state
    assert stats.interrupts > 0 and stats.switches > 10, "the steps went through interrupts and switches"
    assert len(d.reverse.recording.marks) == 1

    for position in sorted(seen, reverse=True):
        d.reverse.recording.goto(position)
        assert whole_state(d) == seen[position]


def stop_at_tx_pump(d: Debugger, times: int) -> list[tuple[int, int]]:
    """(instruction count, stats.tx_bytes) at each of `times` stops at tx_pump in the uart server."""
    d.execute("break tx_pump uart")
    stops = []
    for _ in range(times):
        out = d.execute("continue 1s")        # bounded: a stop that never comes fails, not hangs
        assert "Breakpoint 1, uart:" in out, out
        stops.append((d.machine.counter.executed, tx_bytes(d)))
    return stops


def tx_bytes(d: Debugger) -> int:
    out = d.execute("x/4dw stats")
    return int(out.split(":")[1].split()[3])


@pytest.mark.parametrize("board", BOARDS)
def test_reverse_continue_goes_back_to_each_earlier_breakpoint_hit_then_says_the_history_ends(board, built):
    d = demo(board)
    stops = stop_at_tx_pump(d, 3)

    out = d.execute("reverse-continue")
    assert out.startswith("Breakpoint 1, uart: "), out
    assert (d.machine.counter.executed, tx_bytes(d)) == stops[1]
    d.execute("rc")
    assert (d.machine.counter.executed, tx_bytes(d)) == stops[0]
    out = d.execute("rc")
    assert out.startswith("No more reverse-execution history.\n"), out
    assert d.machine.counter.executed == 0

    # forward again runs on from there, to the same first stop
    assert "Breakpoint 1, uart:" in d.execute("continue 1s")
    assert (d.machine.counter.executed, tx_bytes(d)) == stops[0]


@pytest.mark.parametrize("board", BOARDS)
def test_reverse_continue_stops_before_the_write_a_watchpoint_saw(board, built):
    d = demo(board)
    stop_at_tx_pump(d, 1)
    d.execute("delete")
    assert d.execute("watch stats.tx_bytes uart").startswith("Watchpoint 2: stats.tx_bytes (")
    for _ in range(2):
        out = d.execute("continue 1s")
        assert "Watchpoint 2: write at" in out, out
    after = tx_bytes(d)

    out = d.execute("rc")
    assert out.startswith(f"Watchpoint 2: write at {d.session.address('stats') + 12:#010x}"), out
    assert tx_bytes(d) == after - 1
    # the instruction GDB would show: the next step writes the watched word
    d.execute("stepi")
    assert tx_bytes(d) == after


@pytest.mark.parametrize("board", BOARDS)
def test_reverse_stepi_undoes_stepi_and_reverse_finish_goes_back_to_the_call(board, built):
    d = demo(board)
    stop_at_tx_pump(d, 2)
    before = (d.machine.counter.executed, d.session.pc(d.selected))
    d.execute("stepi 3")
    out = d.execute("rsi 3")
    assert (d.machine.counter.executed, d.session.pc(d.selected)) == before, out

    d.execute("break hw_tx_room uart")
    assert "Breakpoint 2, uart:" in d.execute("continue 1s")
    entry = d.session.address("hw_tx_room")
    d.execute("stepi 2")
    out = d.execute("reverse-finish")
    assert out.startswith("Run back to call of hw_tx_room\nuart: "), out
    assert d.session.pc(d.selected) != entry
    d.execute("delete")
    d.execute("stepi")      # the call
    assert d.session.pc(d.selected) == entry


@pytest.mark.parametrize("board", BOARDS)
def test_reverse_next_and_reverse_step_stop_at_the_start_of_an_earlier_line(board, built):
    d = demo(board)
    stop_at_tx_pump(d, 2)
    d.execute("delete")
    syms = d.session.syms(d.selected)
    lines = []
    for _ in range(3):
        d.execute("next")
        lines.append((d.machine.counter.executed, syms.line_at(d.session.pc(d.selected))))

    out = d.execute("rn")
    pc = d.session.pc(d.selected)
    assert pc in syms.line_starts, out
    assert syms.line_at(pc) != lines[-1][1] and d.machine.counter.executed < lines[-1][0], out
    out = d.execute("rs")
    assert re.search(r"uart: 0x[0-9a-f]{8} in \w+ at \S+:\d+\n", out), out
    assert d.machine.counter.executed < lines[-1][0]


@pytest.mark.parametrize("board", BOARDS)
def test_record_and_snapshot_commands_and_their_mistakes(board, built):
    d = demo(board)
    assert d.execute("record").startswith("recording on: a snapshot every 100000000 instructions, at most 64 kept\n")
    assert d.execute("record interval 0") == \
        "record interval: the snapshot interval must be at least 1 instruction, not 0\n"
    assert d.execute("record keep x") == "record keep: not a number: 'x'\n"
    assert d.execute("record sideways") == \
        "usage: record [on | off | interval INSTRUCTIONS | keep SNAPSHOTS]\n"
    stops = stop_at_tx_pump(d, 1)
    assert d.execute("snapshot save first").startswith("snapshot 'first' saved at ")
    assert "Breakpoint 1, uart:" in d.execute("continue 1s")
    assert "first " in d.execute("snapshot list")
    out = d.execute("snapshot restore first")
    assert out.startswith("snapshot 'first' restored: "), out
    assert (d.machine.counter.executed, tx_bytes(d)) == stops[0]
    assert d.execute("snapshot restore second") == "no snapshot named 'second' (saved: first)\n"
    assert d.execute("snapshot save a/b") == \
        "snapshot name 'a/b': use 1 to 64 letters, digits, '_', '.' or '-'\n"
    assert d.execute("snapshot") == "usage: snapshot save NAME | restore NAME | list | delete NAME\n"
    assert d.execute("snapshot delete first") == "snapshot 'first' deleted\n"
    assert d.execute("snapshot list") == "no snapshots saved\n"


@pytest.mark.parametrize("board", BOARDS)
def test_stepping_back_one_component_goes_through_the_others_to_its_own_last_instruction(board, built):
    d = demo(board)
    machine, kernel, control = d.machine, d.kernel, d.session.control
    control.run(machine.clock.cycles(0.01))
    trail = []                      # (instruction count, component, pc) before each step
    switch = None
    while switch is None or len(trail) < switch + 4:
        control.wait_until_ready()
        thread = kernel.current
        trail.append((machine.counter.executed, thread.process.index, control.pc(thread)))
        control.step(thread, thread.process.space)
        if switch is None and len(trail) > 1 and trail[-1][1] != trail[-2][1]:
            switch = len(trail) - 1
    last_of_first = trail[switch - 1]           # the first component's last instruction (a syscall)
    assert trail[switch][1] != last_of_first[1]

    assert d.reverse.reverse.step_back(kernel.process_by_index(last_of_first[1]).space)

    assert (machine.counter.executed, kernel.current.process.index, control.pc(kernel.current)) == last_of_first
