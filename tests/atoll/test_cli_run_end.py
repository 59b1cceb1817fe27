"""Runs that end well, and UARTs put where the user asks (`atoll boot`, real subprocesses).

SIGTERM (a `timeout`, a `kill`, a cancelled CI job) ends a run as Ctrl-C does: the summary
line, whole trace and VCD files, exit status 0. `--uart tcp:PORT,wait` holds the run until a
client connects; `--uart NAME=SPEC` puts any UART on the terminal, a port or a file.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from firmware import components
from tests.atoll.test_traces import COMPONENTS, ENV, demo, read_vcd, track_names
from tests.conftest import ROOT

BOARDS = ("mps2-an385", "hifive1")


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


def _signals_as_on_a_terminal() -> None:
    """A child started from a job without job control inherits SIGINT ignored; a user's
    signals always have the default action, so the child gets it back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "atoll.cli", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                            preexec_fn=_signals_as_on_a_terminal)


def finish(proc: subprocess.Popen) -> tuple[bytes, str]:
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, err.decode()


def read_until(stream, marker: bytes) -> bytes:
    """Lines of a child's stream up to and including the one holding `marker`."""
    seen = b""
    while marker not in seen:
        line = stream.readline()
        assert line, f"the stream ended before {marker!r}: {seen!r}"
        seen += line
    return seen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("board", BOARDS)
def test_sigterm_during_a_run_writes_the_summary_and_whole_trace_and_vcd_files(board, built, tmp_path):
    trace, wave, uart = tmp_path / "run.json", tmp_path / "run.vcd", tmp_path / "uart.log"
    proc = start("boot", demo(board), "--uart", f"file:{uart}", "--trace", trace, "--vcd", wave)
    deadline = time.monotonic() + 60
    while b"atoll> " not in (uart.read_bytes() if uart.exists() else b""):
        assert proc.poll() is None and time.monotonic() < deadline, "the system did not come up"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = finish(proc)

    assert proc.returncode == 0, err
    assert f"atoll: wrote {trace}\n" in err and f"atoll: wrote {wave}\n" in err
    assert err.splitlines()[-1].startswith(f"atoll: {board}: ")
    assert " s virtual, " in err.splitlines()[-1]
    assert set(track_names(json.loads(trace.read_text())).values()) >= set(COMPONENTS)
    assert read_vcd(wave)[0] == "1 ns"


@pytest.mark.parametrize("board", BOARDS)
def test_sigterm_while_the_gdb_stub_waits_for_gdb_ends_the_run_with_its_summary_and_vcd(board, built, tmp_path):
    wave = tmp_path / "run.vcd"
    proc = start("boot", demo(board), "--uart", f"file:{tmp_path / 'uart.log'}", "--gdb", "0", "--wait",
                 "--vcd", wave)
    read_until(proc.stderr, b"(waiting for GDB)")
    proc.send_signal(signal.SIGTERM)
    _, err = finish(proc)

    assert proc.returncode == 0, err
    assert err.splitlines()[-2] == f"atoll: wrote {wave}"
    assert err.splitlines()[-1].startswith(f"atoll: {board}: 0.000000 s virtual, 0 instructions, ")
    assert read_vcd(wave)[0] == "1 ns"


@pytest.mark.parametrize("board", BOARDS)
def test_a_tcp_uart_that_waits_gets_the_first_bytes_to_a_client_that_connects_a_second_later(
        board, bare_firmware):
    port = free_port()
    proc = start("boot", bare_firmware[board, "hello"], "--board", board, "--for", "20ms",
                 "--uart", f"tcp:{port},wait")
    try:
        said = read_until(proc.stderr, b"waiting for a client").decode()
        assert said == (f"atoll: uart0 on tcp 127.0.0.1:{port}\n"
                        f"atoll: uart0: waiting for a client on tcp 127.0.0.1:{port}\n")
        time.sleep(1.0)  # a 20 ms run that did not wait would be over and its port closed
        assert proc.poll() is None
        received = b""
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            while not received.endswith(b"\r\n"):
                chunk = client.recv(64)
                if not chunk:
                    break
                received += chunk
    finally:
        _, err = finish(proc)

    assert received == f"Hello from Atoll on {board}!\r\n".encode()
    assert proc.returncode == 0, err
    # the whole 20 ms of virtual time ran after the client came: none passed while waiting
    assert err.startswith(f"atoll: {board}: 0.020000 s virtual, ")


def test_uart1_on_the_terminal_and_uart0_in_a_file_on_the_smart_home(built, tmp_path):
    log = tmp_path / "uart0.log"
    proc = subprocess.run([sys.executable, "-m", "atoll.cli", "boot",
                           str(ROOT / "firmware" / "images" / "smart-home-mps2-an385.toml"), "--for", "2s",
                           "--uart", "uart1=stdio", "--uart", f"file:{log}"],
                          input=b"ON\nDIM 40\n", capture_output=True, timeout=120, env=ENV)

    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"OK ON 100\r\nOK DIM 40\r\n"   # the bulb's answers on its network link
    assert b"atoll> " in log.read_bytes()                   # the shell's prompt, on UART0



def test_uart1_on_a_port_that_waits_answers_a_client_on_the_hifive1_smart_home(built, tmp_path):
    port = free_port()
    proc = start("boot", ROOT / "firmware" / "images" / "smart-home-hifive1.toml", "--for", "2s",
                 "--uart", f"uart1=tcp:{port},wait", "--uart", f"file:{tmp_path / 'uart0.log'}")
    try:
        read_until(proc.stderr, b"waiting for a client")
        received = b""
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(b"ON\n")
            while not received.endswith(b"\r\n"):
                chunk = client.recv(64)
                if not chunk:
                    break
                received += chunk
    finally:
        _, err = finish(proc)

    assert received == b"OK ON 100\r\n"   # the bulb's answer on its network link
    assert proc.returncode == 0, err
