"""The bench API itself (atoll.testbench, atoll.pytest_plugin): expectations and their
failure messages, durations, interrupts and registers injected, reset, bare metal, and
the plugin's board parametrization and failure report."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from atoll.testbench import BenchError, BenchTimeout, Device, ExpectTimeout, seconds
from tests.conftest import ROOT

pytestmark = pytest.mark.atoll(image="firmware/images/demo-{board}.toml")


def test_durations_accept_seconds_and_unit_strings_and_refuse_nonsense():
    assert seconds(2) == 2.0 and seconds("500ms") == 0.5 and seconds("250us") == 250e-6
    for bad in ("soon", -1, None, True):
        with pytest.raises(BenchError):
            seconds(bad)


def test_the_dut_fixture_runs_each_bench_on_both_boards(board, dut):
    assert board in ("mps2-an385", "hifive1")
    assert dut.board == board and dut.now < 0.01


def test_a_failed_expectation_shows_the_last_output_and_the_virtual_time(dut):
    dut.expect("atoll> ")
    with pytest.raises(ExpectTimeout) as failure:
        dut.expect("never printed", timeout="250ms")

    message = str(failure.value)
    assert "'never printed' not seen within 0.25 s of virtual time" in message
    assert re.search(r"now 0\.\d{6} s", message)
    assert message.endswith("Atoll shell ready; type help\r\natoll> ")


def test_expect_takes_a_regex_returns_the_match_and_consumes_up_to_it(dut):
    m = dut.expect(re.compile(r"console ready \((\w+)\)"))
    assert m.group(1) in ("armv7m", "rv32imac")
    dut.expect("atoll> ")
    assert dut.read_available() == ""
    dut.write("echo a\r")
    dut.run_for("20ms")
    assert dut.read_available() == "echo a\r\na\r\natoll> "


def test_run_until_raises_when_the_condition_never_holds(dut):
    with pytest.raises(BenchTimeout, match="condition not met within 0.1 s"):
        dut.run_until(lambda: False, timeout="100ms")
    assert 0.1 <= dut.now < 0.102


def test_wait_runs_as_run_until_does_but_returns_a_timeout_instead_of_raising(dut):
    assert dut.wait(lambda: False, timeout="100ms").reason == "timeout"
    assert 0.1 <= dut.now < 0.102
    assert dut.wait(lambda: "atoll> " in dut.uart.text, timeout="1s").reason != "timeout"
    assert dut.uart.text.endswith("atoll> ")


def test_the_fault_injections_of_the_device_are_those_of_its_faults_part(dut):
    dut.expect("atoll> ")
    dut.faults.kill("shell")
    assert dut.component("shell").state == "stopped"
    with pytest.raises(BenchError, match="^shell is stopped; it cannot fault$"):
        dut.fault("shell")


def test_a_stuck_uart_interrupt_keeps_interrupting_until_released(dut, board):
    dut.expect("atoll> ")
    output = "rx" if board == "mps2-an385" else "irq"
    dut.raise_interrupt("uart0", output, stuck=True)
    dut.run_for("20ms")
    stuck = dut.stats.interrupts
    dut.run_for("20ms")
    assert dut.stats.interrupts > stuck + 5      # the driver acks, the line is still high

    dut.release_interrupt("uart0", output)
    dut.run_for("5ms")
    settled = dut.stats.interrupts
    dut.run_for("20ms")
    assert dut.stats.interrupts == settled
    assert "ok\r\n" in dut.command("echo ok")


def test_a_register_override_feeds_the_driver_a_wrong_value_until_cleared(dut, board):
    dut.expect("atoll> ")
    register = "STATE" if board == "mps2-an385" else "txdata"
    value = 0 if board == "mps2-an385" else 1 << 31      # never ready / always full
    dut.override_read("uart0", register, value)

    dut.write("echo hi\r")
    dut.run_for("50ms")
    assert "hi\r\n" not in dut.read_available()

    dut.clear_override("uart0", register)
    dut.run_for("50ms")
    if board == "hifive1":   # the TX path resumes; the queued answer comes out
        assert "hi\r\n" in dut.uart.text


def test_reset_boots_again_from_time_zero_and_keeps_the_old_transcript(dut):
    dut.expect("atoll> ")
    dut.command("echo before")
    dut.reset()

    assert dut.now == 0 and dut.uart.text == ""
    dut.expect("atoll> ")
    assert "before" in dut.history[0] and "before" in dut.transcript()


def test_a_bare_metal_elf_boots_on_the_board_it_is_given(bare_firmware):
    dut = Device(bare_firmware["mps2-an385", "blink"], board="mps2-an385")

    dut.expect("blink: period 25000 cycles")
    assert dut.gpio.toggles_with_period(0, period=50000 / 25e6, tolerance="1us", cycles=3)
    with pytest.raises(BenchError, match="no components"):
        dut.components()


def test_an_unknown_component_is_named_with_the_ones_there_are(dut):
    with pytest.raises(BenchError, match="no component named 'nope'; there are: supervisor, uart"):
        dut.fault("nope")


BENCH = '''
import pytest
pytestmark = pytest.mark.atoll(image="{image}")

def test_fails_after_talking(dut):
    dut.expect("atoll> ")
    dut.command("echo transcript please")
    assert False
'''


def test_a_failing_bench_reports_its_uart_transcript_once_per_board(tmp_path):
    (tmp_path / "test_one.py").write_text(BENCH.format(image=ROOT / "firmware/images/demo-{board}.toml"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "atoll.pytest_plugin", "-p", "no:cacheprovider",
                             "-q", "-p", "no:xdist", str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    out = result.stdout
    assert "2 failed" in out, out
    assert "test_fails_after_talking[mps2-an385]" in out and "test_fails_after_talking[hifive1]" in out
    assert out.count("atoll transcript: demo-") == 2
    assert "atoll> echo transcript please" in out


def test_a_failing_bench_run_with_atoll_trace_keeps_a_trace_file_and_names_it(tmp_path):
    import json
    import re

    (tmp_path / "test_one.py").write_text(BENCH.format(image=ROOT / "firmware/images/demo-{board}.toml"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "atoll.pytest_plugin", "-p", "no:cacheprovider",
                             "-q", "-p", "no:xdist", "--atoll-trace", "--atoll-board", "hifive1",
                             "--basetemp", str(tmp_path / "base"), str(tmp_path / "test_one.py")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    paths = re.findall(r"(\S+\.json) \(open it in ui\.perfetto\.dev\)", result.stdout)
    assert len(paths) == 1, result.stdout
    trace = json.loads(pathlib.Path(paths[0]).read_text())
    names = {e["args"]["name"] for e in trace["traceEvents"] if e.get("ph") == "M" and e.get("name") == "thread_name"}
    assert {"uart", "shell"} <= names
