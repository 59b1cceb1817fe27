"""Forking one booted demo into many runs: a restored snapshot replays exactly.

The demo boots once per board (a module fixture); each test restores the snapshot
taken after boot, so every test starts from the same moment, as docs/testbenches.md
shows. After a restore the same commands give the same transcript at the same
virtual times, the same edges, debug lines and kernel counters.
"""

from __future__ import annotations

import pytest

from atoll.pytest_plugin import BOARDS
from atoll.testbench import BenchError, Device
from tests.conftest import ROOT

COMMANDS = ("help", "echo forked", "ps", "uptime", "led on")


@pytest.fixture(scope="module", params=BOARDS)
def booted(request):
    """One demo per board, booted to its prompt, and the snapshot taken there."""
    dut = Device(ROOT / "firmware" / "images" / f"demo-{request.param}.toml")
    dut.expect("atoll> ")
    return dut, dut.snapshot()


def session(dut: Device) -> tuple:
    """Run the commands and a while more; everything observable that came of it."""
    answers = [dut.command(line) for line in COMMANDS]
    dut.run_for("300ms")
    return (answers, dut.uart.output, dut.uart.timestamps, dut.gpio.edges(), list(dut.debug_lines),
            dut.cycles, dut.ipc_count, dut.stats.switches, dut.components())


def test_commands_after_a_restore_give_the_same_transcript_at_the_same_times(booted):
    dut, snap = booted
    dut.restore(snap)
    first = session(dut)
    dut.restore(snap)
    second = session(dut)

    assert first == second
    assert "forked\r\n" in first[0][1]


def test_a_restore_puts_back_the_output_the_cursor_and_the_clock(booted):
    dut, snap = booted
    dut.restore(snap)
    output, now = dut.uart.output, dut.now
    dut.command("echo gone")
    dut.run_for("50ms")

    dut.restore(snap)

    assert (dut.uart.output, dut.now, dut.read_available()) == (output, now, "")


def test_a_restored_demo_runs_as_a_freshly_booted_one(booted):
    dut, snap = booted
    fresh = Device(dut.image)
    fresh.expect("atoll> ")
    dut.restore(snap)

    assert session(dut) == session(fresh)


def test_a_snapshot_taken_after_a_fault_and_a_restart_replays_exactly(booted):
    dut, snap = booted
    dut.restore(snap)
    dut.fault("uart")
    dut.run_until(lambda: dut.restart_count("uart") == 1, timeout="100ms")
    dut.command("echo after the crash")
    restarted = dut.snapshot()

    first = session(dut)
    dut.restore(restarted)
    second = session(dut)

    assert first == second
    assert dut.fault_count("uart") == 1 and dut.restart_count("uart") == 1
    dut.restore(snap)
    assert dut.fault_count("uart") == 0 and dut.component("uart").state != "stopped"


def test_a_snapshot_taken_while_a_line_is_still_arriving_replays_exactly(booted):
    dut, snap = booted
    dut.restore(snap)
    dut.writeline("echo typed slowly")
    dut.run_for("200us")                 # a few characters are still on the line
    assert dut.machine.peripheral("uart0").input_pending
    midway = dut.snapshot()

    first = session(dut)
    dut.restore(midway)
    second = session(dut)

    assert first == second


def test_a_snapshot_is_refused_by_a_device_that_was_reset_since(booted):
    dut, _ = booted
    other = Device(dut.image)
    other.expect("atoll> ")
    snap = other.snapshot()
    other.reset()

    with pytest.raises(BenchError, match="reset"):
        other.restore(snap)
    with pytest.raises(BenchError, match="device it was taken from"):
        dut.restore(snap)


def pending_events(dut: Device) -> list:
    """The clock's queue, described: whose event, at which cycle, in which order."""
    out = []
    for when, seq, ev in dut.machine.clock._queue:
        if ev.cancelled:
            continue
        callback, args = getattr(ev.callback, "func", ev.callback), getattr(ev.callback, "args", ())
        owner = callback.__self__
        out.append((when, seq, getattr(owner, "name", type(owner).__name__), callback.__func__.__name__,
                    tuple(getattr(a, "name", a) for a in args)))
    return sorted(out)


def test_the_kernels_sleeps_timers_and_slice_come_back_bound_to_the_restored_threads(booted):
    dut, snap = booted
    dut.restore(snap)
    dut.command("led on")
    dut.run_for("3ms")
    before = pending_events(dut)
    assert any(name == "_wake_sleeper" for _, _, _, name, _ in before)
    midway = dut.snapshot()

    dut.run_for("20ms")
    dut.restore(midway)

    assert pending_events(dut) == before
    sleepers = [ev.callback for _, _, ev in dut.machine.clock._queue
                if not ev.cancelled and getattr(ev.callback, "func", None) == dut.kernel.timers._wake_sleeper]
    for callback in sleepers:   # the thread the event wakes is the one the kernel now holds
        thread = callback.args[0]
        assert dut.kernel.process(thread.name).thread is thread and thread.wake_event is not None
