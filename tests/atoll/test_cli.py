"""The `atoll` command line, run as a user runs it (a real subprocess).

User mistakes are one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

BOARDS = ("mps2-an385", "hifive1")


ROOT = pathlib.Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


class Result:
    """A finished command: stdout as bytes (UART bytes are exact), stderr as text."""

    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr.decode()


def atoll(*args: str, timeout: float = 60, **kw) -> Result:
    return Result(subprocess.run([sys.executable, "-m", "atoll.cli", *args], capture_output=True,
                                 timeout=timeout, env=ENV, **kw))


@pytest.mark.parametrize("board", BOARDS)
def test_boot_prints_the_greeting_and_a_summary_line(board, bare_firmware):
    result = atoll("boot", str(bare_firmware[board, "hello"]), "--board", board, "--for", "20ms")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Hello from Atoll on {board}!\r\n".encode()
    assert result.stderr.startswith(f"atoll: {board}: 0.020000 s virtual, ")
    assert result.stderr.count("\n") == 1


def test_boot_writes_uart0_to_a_file_when_asked(bare_firmware, tmp_path):
    log = tmp_path / "uart.log"

    result = atoll("boot", str(bare_firmware["hifive1", "hello"]), "--board", "hifive1", "--for", "10ms",
                   "--uart", f"file:{log}")

    assert result.returncode == 0, result.stderr
    assert log.read_bytes() == b"Hello from Atoll on hifive1!\r\n"


def test_boot_serves_uart0_on_a_tcp_port(bare_firmware):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "atoll.cli", "boot", str(bare_firmware["mps2-an385", "hello"]),
                             "--board", "mps2-an385", "--uart", f"tcp:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    try:
        received = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not received.endswith(b"\r\n"):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
                    client.settimeout(5)
                    while not received.endswith(b"\r\n"):
                        chunk = client.recv(64)
                        if not chunk:
                            break
                        received += chunk
            except OSError:
                time.sleep(0.1)
        assert received == b"Hello from Atoll on mps2-an385!\r\n"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


BAD_INPUT = [
    (["boot", "missing.elf", "--board", "hifive1"], "atoll: missing.elf: no such file"),
    (["boot", "{hello}", "--board", "nosuch"],
     "atoll: unknown board 'nosuch'; known boards: hifive1, mps2-an385 "
     "(or give the path of a board file ending in .toml)"),
    (["boot", "{hello}"], "atoll: {hello}: a bare-metal ELF needs --board (one of: hifive1, mps2-an385)"),
    (["boot", "{hello}", "--board", "hifive1", "--for", "soon"],
     "atoll boot: argument --for: must be a duration such as 10s, 500ms or 250us, not 'soon'"),
    (["boot", "{hello}", "--board", "hifive1", "--uart", "serial"],
     "atoll: --uart: must be stdio, tcp:PORT[,wait] or file:PATH, not 'serial'"),
    (["boot", "{hello}", "--board", "hifive1", "--uart", "uart2=stdio"],
     "atoll: --uart: hifive1 has no UART named 'uart2' (it has: uart0, uart1)"),
    (["boot", "{hello}", "--board", "hifive1", "--uart", "file:{text}", "--uart", "uart0=stdio"],
     "atoll: --uart: uart0 given twice"),
    (["boot", "{hello}", "--board", "hifive1", "--uart", "uart1=stdio", "--uart", "stdio"],
     "atoll: --uart: only one UART can be on stdio, not uart1 and uart0"),
    (["boot", "{hello}", "--board", "hifive1", "--uart", "tcp:5555,later"],
     "atoll: --uart: tcp takes only the option wait (tcp:PORT,wait), not 'later'"),
    (["boot", "{hello}", "--board", "hifive1", "--uart", "tcp:99999"],
     "atoll: --uart: tcp needs a port number from 1 to 65535, not '99999'"),
    (["boot", "{text}", "--board", "hifive1"], "atoll: {text}: not an ELF file (no ELF magic number)"),
    (["boot", "{arm_elf}", "--board", "hifive1"], "atoll: {arm_elf}: is built for EM_ARM, not RISC-V (rv32imac)"),
    (["frobnicate"], "atoll: argument command: invalid choice: 'frobnicate' (choose from 'boot', 'policy', 'boards', 'build', 'keygen', 'debug', 'campaign', 'replay', 'build-component')"),
]


@pytest.mark.parametrize("args,message", BAD_INPUT, ids=[" ".join(a[:1] + a[2:3]) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_status_2(args, message, bare_firmware, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not firmware\n")
    names = {"hello": str(bare_firmware["hifive1", "hello"]), "text": str(text),
             "arm_elf": str(bare_firmware["mps2-an385", "hello"])}
    args = [a.format(**names) for a in args]

    result = atoll(*args, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr == message.format(**names) + "\n"


def test_a_segment_outside_the_boards_memory_is_refused(bare_firmware, tmp_path):
    # A RISC-V ELF linked for hifive1 flash does not fit an ARM board; a RISC-V board
    # with no flash at 0x2040_0000 is made by writing a board file.
    board = tmp_path / "tiny.toml"
    board.write_text("""
[board]
name = "tiny"
[cpu]
isa = "rv32imac"
model = "sifive-e31"
frequency_hz = 1_000_000
reset = "entry"
[[region]]
name = "ram"
base = 0x8000_0000
size = 0x1_0000
kind = "ram"
access = "rwx"
""")
    elf = bare_firmware["hifive1", "hello"]

    result = atoll("boot", str(elf), "--board", str(board))

    assert result.returncode == 2
    assert result.stderr.startswith(f"atoll: {elf}: segment at 0x20400000-")
    assert result.stderr.endswith(" is outside the memory of board tiny\n")


def test_boards_lists_both_shipped_boards():
    result = atoll("boards")

    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.decode().splitlines()]
    assert names == ["hifive1", "mps2-an385"]


def test_stdio_backend_prints_aside_messages_only_between_uart_lines():
    import io

    from machine import StdioBackend

    out, err = io.StringIO(), io.StringIO()
    backend = StdioBackend(stdin=io.StringIO(), stdout=out, stderr=err)
    for byte in b"hal":
        backend.transmit(byte, 0)
    backend.print_aside("[kernel] note")
    assert err.getvalue() == ""          # the UART line is still open
    for byte in b"f\n":
        backend.transmit(byte, 0)

    assert out.getvalue() == "half\n"
    assert err.getvalue() == "[kernel] note\n"


def test_stdio_backend_holds_at_most_its_bound_of_aside_messages_and_says_how_many_it_dropped():
    import io

    from machine import StdioBackend

    out, err = io.StringIO(), io.StringIO()
    backend = StdioBackend(stdin=io.StringIO(), stdout=out, stderr=err)
    for byte in b"atoll> ":              # a prompt: the UART line stays open
        backend.transmit(byte, 0)
    bound = StdioBackend.ASIDE_LINES
    for i in range(5 * bound):            # a component floods its debug lines meanwhile
        backend.print_aside(f"[flood] {i}")
        assert len(backend._aside) <= bound + bound // 8
    assert err.getvalue() == ""
    backend.transmit(ord("\n"), 0)

    lines = err.getvalue().splitlines()
    held = len(lines) - 1
    assert bound <= held <= bound + bound // 8
    assert lines[0] == f"[atoll] {5 * bound - held} debug line(s) dropped while the UART's line was open"
    assert lines[1:] == [f"[flood] {i}" for i in range(5 * bound - held, 5 * bound)]   # the newest, in order
