"""Traces: `atoll boot --trace FILE.json --vcd FILE.vcd`, and the recorders behind them.

The trace is a Chrome/Perfetto JSON timeline of scheduling, syscalls, IPC, IRQs and
faults; the VCD holds every GPIO pin as a waveform. Both are checked here by reading
the files back: the JSON with `json`, the VCD with pyvcd's tokenizer.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from vcd.reader import TokenKind, tokenize

from atoll.trace import TraceRecorder
from atoll.vcd import VcdRecorder
from kernel import Kernel
from machine import Machine, load_board
from sysdesc import load_any
from firmware import components
from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

BOARDS = ("mps2-an385", "hifive1")
COMPONENTS = ("supervisor", "uart", "gpio", "console", "shell", "blinky", "hello")
BLINKY_PIN = {"mps2-an385": "gpio0.pin0", "hifive1": "gpio0.pin19"}
RUN_NS = 1_200_000_000


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


def atoll(*args, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "atoll.cli", *map(str, args)], capture_output=True,
                          timeout=timeout, env=ENV)
    return proc.returncode, proc.stdout, proc.stderr.decode()


def demo(board: str) -> pathlib.Path:
    return ROOT / "firmware" / "images" / f"demo-{board}.toml"


def read_vcd(path: pathlib.Path) -> tuple[str, dict[str, list[tuple[int, int]]]]:
    """The timescale and, per wire ("scope.name"), its (time, value) changes, the initial dump first."""
    names: dict[str, str] = {}
    scopes: list[str] = []
    changes: dict[str, list[tuple[int, int]]] = {}
    timescale = ""
    now = 0
    with open(path, "rb") as f:
        for token in tokenize(f):
            if token.kind is TokenKind.TIMESCALE:
                timescale = f"{int(token.data.magnitude)} {token.data.unit.value}"
            elif token.kind is TokenKind.SCOPE:
                scopes.append(token.data.ident)
            elif token.kind is TokenKind.UPSCOPE:
                scopes.pop()
            elif token.kind is TokenKind.VAR:
                names[token.data.id_code] = ".".join([*scopes, token.data.reference])
                changes[names[token.data.id_code]] = []
            elif token.kind is TokenKind.CHANGE_TIME:
                now = token.data
            elif token.kind is TokenKind.CHANGE_SCALAR:
                changes[names[token.data.id_code]].append((now, int(token.data.value)))
    return timescale, changes


def toggles(changes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The changes of one wire that really change its value (the initial value is not one)."""
    out = []
    for i, (t, value) in enumerate(changes):
        if i and value != changes[i - 1][1]:
            out.append((t, value))
    return out


@pytest.fixture(scope="module", params=BOARDS)
def recorded(request, built, tmp_path_factory):
    """The demo booted for 1.2 s of virtual time with both files: (board, trace document, vcd path)."""
    board = request.param
    folder = tmp_path_factory.mktemp(f"traces-{board}")
    trace, wave = folder / "run.json", folder / "run.vcd"
    code, out, err = atoll("boot", demo(board), "--for", "1.2s", "--trace", trace, "--vcd", wave)
    assert code == 0, err
    assert f"atoll: wrote {trace}" in err and f"atoll: wrote {wave}" in err
    return board, json.loads(trace.read_text()), wave


def events(document, ph=None, cat=None):
    return [e for e in document["traceEvents"]
            if (ph is None or e["ph"] == ph) and (cat is None or e.get("cat") == cat)]


def track_names(document) -> dict[int, str]:
    return {e["tid"]: e["args"]["name"] for e in events(document, "M") if e["name"] == "thread_name"}


def test_the_trace_is_a_json_object_with_a_track_named_for_every_component(recorded):
    board, document, _ = recorded

    assert document["displayTimeUnit"] == "ns"
    names = track_names(document)
    assert set(COMPONENTS) | {"kernel"} == set(names.values())
    assert len(names) == len(COMPONENTS) + 1
    process = [e for e in events(document, "M") if e["name"] == "process_name"]
    assert process[0]["args"]["name"] == f"demo-{board}"
    assert document["otherData"]["truncated"] is False


def test_every_component_that_ran_has_running_intervals_that_never_overlap(recorded):
    _, document, _ = recorded
    names = track_names(document)
    running = sorted(events(document, "X"), key=lambda e: e["ts"])

    assert {names[e["tid"]] for e in running} == set(COMPONENTS) | {"kernel"}
    assert all(e["name"] == names[e["tid"]] or e["name"] == "idle" for e in running)
    for earlier, later in zip(running, running[1:]):  # one CPU: one interval at a time
        assert later["ts"] >= earlier["ts"] + earlier["dur"] - 0.001
    assert running[-1]["ts"] + running[-1]["dur"] == pytest.approx(RUN_NS / 1000)


def test_syscalls_are_instants_named_after_the_abi_on_the_callers_track(recorded):
    _, document, _ = recorded
    names = track_names(document)
    syscalls = events(document, "i", "syscall")

    assert {"SLEEP", "CALL", "REPLY_RECV", "DEBUG_PUTC", "EXIT"} <= {e["name"] for e in syscalls}
    sleeps = [e["ts"] for e in syscalls if e["name"] == "SLEEP" and names[e["tid"]] == "blinky"]
    assert len(sleeps) == 3
    assert [b - a for a, b in zip(sleeps, sleeps[1:])] == [pytest.approx(500_000, abs=5)] * 2
    assert all(e["s"] == "t" for e in syscalls)


def test_ipc_carries_source_destination_and_label_and_each_call_flows_to_its_reply(recorded):
    _, document, _ = recorded
    names = track_names(document)
    ipc = events(document, "i", "ipc")

    calls = [e for e in ipc if e["name"] == "call"]
    assert ("blinky", "gpio") in {(e["args"]["source"], e["args"]["destination"]) for e in calls}
    assert all(names[e["tid"]] == e["args"]["source"] for e in calls)
    assert all({"source", "destination", "label"} <= set(e["args"]) for e in ipc)
    assert any(e["name"] == "reply" and e["args"]["destination"] == "blinky" for e in ipc)
    starts = {e["id"]: e for e in events(document, "s")}
    finishes = {e["id"]: e for e in events(document, "f")}
    assert finishes and set(finishes) <= set(starts)
    for flow, finish in finishes.items():
        assert finish["ts"] >= starts[flow]["ts"]


def test_interrupts_are_on_the_kernel_track_and_an_exit_on_the_components(recorded):
    _, document, _ = recorded
    names = track_names(document)

    irqs = events(document, "i", "irq")
    assert irqs and all(names[e["tid"]] == "kernel" and e["args"]["destination"] == "uart" for e in irqs)
    exits = events(document, "i", "fault")
    assert [(names[e["tid"]], e["name"], e["args"]["code"]) for e in exits] == [("hello", "exit", "EXITED")]


def test_the_vcd_parses_and_blinkys_pin_toggles_every_500_ms_of_virtual_time(recorded):
    board, _, wave = recorded
    timescale, changes = read_vcd(wave)

    assert timescale == "1 ns"
    # every pin of every GPIO block of the board file (hifive1: one of 32; mps2-an385: four of 16)
    blocks = Machine(board).gpio_blocks
    assert set(changes) == {f"{name}.pin{n}" for name, block in blocks.items() for n in range(block.NUM_PINS)}
    assert {name.split(".")[0] for name in changes} == {
        "mps2-an385": {"gpio0", "gpio1", "gpio2", "gpio3"}, "hifive1": {"gpio0"}}[board]
    pin = changes[BLINKY_PIN[board]]
    assert pin[0] == (0, 0)
    edges = toggles(pin)
    assert [level for _, level in edges] == [1, 0, 1]
    periods = [b - a for (a, _), (b, _) in zip(edges, edges[1:])]
    assert periods == [pytest.approx(500_000_000, abs=5_000)] * 2
    others = [name for name, c in changes.items() if name != BLINKY_PIN[board] and toggles(c)]
    assert others == []


def test_a_bare_metal_program_gets_a_vcd_of_its_blinking_pin(bare_firmware, tmp_path):
    wave = tmp_path / "blink.vcd"

    code, _, err = atoll("boot", bare_firmware["mps2-an385", "blink"], "--board", "mps2-an385",
                         "--for", "20ms", "--vcd", wave)

    assert code == 0, err
    _, changes = read_vcd(wave)
    edges = {name: toggles(c) for name, c in changes.items() if toggles(c)}
    assert len(edges) == 1
    (times,) = ([t for t, _ in e] for e in edges.values())
    assert len(times) >= 15
    assert all(b - a == pytest.approx(1_000_000, abs=1_000) for a, b in zip(times, times[1:]))


def test_trace_on_a_bare_metal_program_is_one_line_and_exit_status_2(bare_firmware, tmp_path):
    code, out, err = atoll("boot", bare_firmware["hifive1", "hello"], "--board", "hifive1", "--for", "10ms",
                           "--trace", tmp_path / "t.json")

    assert code == 2
    assert err.count("\n") == 1 and err.startswith("atoll: --trace needs a system")
    assert out == b""
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("flag", ["--trace", "--vcd"])
def test_an_output_path_that_cannot_be_written_is_one_line_before_the_run(flag, built, tmp_path):
    missing = tmp_path / "no-such-folder" / "out"

    code, out, err = atoll("boot", demo("hifive1"), "--for", "100ms", flag, missing)

    assert code == 2
    assert err == f"atoll: {flag}: cannot write {missing}: No such file or directory\n"
    assert out == b""  # the system never ran


def _ctrl_c_as_on_a_terminal() -> None:
    """A run started from a background job inherits SIGINT ignored (POSIX shells do that
    without job control), and Python then never turns it into KeyboardInterrupt; a user's
    Ctrl-C always has the default action, so the child gets it back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_still_writes_both_files(built, tmp_path):
    trace, wave, uart = tmp_path / "run.json", tmp_path / "run.vcd", tmp_path / "uart.log"
    proc = subprocess.Popen([sys.executable, "-m", "atoll.cli", "boot", str(demo("hifive1")), "--uart",
                             f"file:{uart}", "--trace", str(trace), "--vcd", str(wave)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                            preexec_fn=_ctrl_c_as_on_a_terminal)
    try:
        deadline = time.monotonic() + 60
        while b"atoll> " not in (uart.read_bytes() if uart.exists() else b""):
            assert proc.poll() is None and time.monotonic() < deadline, "the system did not come up"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, err.decode()
    assert set(track_names(json.loads(trace.read_text())).values()) >= set(COMPONENTS)
    assert read_vcd(wave)[0] == "1 ns"


def test_a_recorder_stops_at_its_bound_and_says_so_in_the_file(built):
    system = load_any(demo("mps2-an385"))
    kernel = Kernel(Machine(system.board))
    recorder = TraceRecorder(kernel, name=system.name, max_events=40)
    kernel.boot(system)
    kernel.run_for(0.01)
    out = io.StringIO()

    recorder.write(out)

    document = json.loads(out.getvalue())
    assert document["otherData"]["truncated"] is True
    assert "recording stopped after 40 events" in document["otherData"]["note"]
    assert len([e for e in document["traceEvents"] if e["ph"] != "M"]) <= 40 + 3
    assert [e["name"] for e in document["traceEvents"]][-1] == "trace truncated"


def test_detaching_a_recorder_gives_the_kernel_back_its_observers_and_log(built):
    system = load_any(demo("hifive1"))
    kernel = Kernel(Machine(system.board))
    seen = []
    kernel.on_switch = lambda cycle, old, new: seen.append(new)
    recorder = TraceRecorder(kernel)
    kernel.boot(system)
    kernel.run_for(0.01)
    entries = list(kernel.ipc_log)

    recorder.detach()

    assert seen and kernel.on_switch is not None and kernel.on_syscall is None
    assert type(kernel.ipc_log) is type(recorder._log) and list(kernel.ipc_log) == entries
    assert kernel.ipc_log.maxlen == recorder._log.maxlen
    kernel.run_for(0.01)
    assert len(recorder.events()) > 0


def test_a_vcd_recorder_stops_at_its_bound_and_says_so_in_a_comment(bare_firmware):
    machine = Machine(load_board("hifive1"))
    machine.load_elf(bare_firmware["hifive1", "blink"])
    recorder = VcdRecorder(machine, max_changes=3)
    machine.run(machine.clock.cycles(0.01))
    out = io.StringIO()

    recorder.write(out)

    assert len(recorder.changes) == 3
    assert "recording stopped after 3 changes" in out.getvalue().splitlines()[0]
