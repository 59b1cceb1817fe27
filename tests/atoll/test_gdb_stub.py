"""The GDB stub (`atoll boot IMAGE --gdb PORT --wait`), driven by the real gdb-multiarch and
by a raw socket that feeds it broken and random packets.

The stub runs in a subprocess, as a user starts it; it listens on a free port
(`--gdb 0`) and names it on stderr. Without gdb-multiarch the GDB tests are skipped,
unless CI is set: then they fail.
"""

from __future__ import annotations

import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from firmware import components
from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
GDB = shutil.which("gdb-multiarch")
ISA = {"mps2-an385": "armv7m", "hifive1": "rv32imac"}
GDB_ARCH = {"mps2-an385": "armv7", "hifive1": "riscv:rv32"}

needs_gdb = pytest.mark.skipif(GDB is None and not os.environ.get("CI"),
                               reason="gdb-multiarch is not installed (make system-packages)")


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


class Stub:
    """`atoll boot demo-BOARD.toml --gdb 0 --wait` in a subprocess."""

    def __init__(self, board: str, tmp_path: pathlib.Path) -> None:
        self.err_path = tmp_path / f"stub-{board}.err"
        self.err = self.err_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atoll.cli", "boot", str(ROOT / "firmware" / "images" / f"demo-{board}.toml"),
             "--gdb", "0", "--wait", "--uart", f"file:{tmp_path / 'uart.log'}"],
            stdout=subprocess.DEVNULL, stderr=self.err, env=ENV)
        deadline = time.monotonic() + 60
        while True:
            match = re.search(r"GDB stub on 127\.0\.0\.1:(\d+)", self.stderr())
            if match:
                self.port = int(match.group(1))
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the stub did not start: {self.stderr()}")
            time.sleep(0.05)

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.err.close()


@pytest.fixture
def stub_factory(tmp_path):
    stubs = []

    def start(board: str) -> Stub:
        stub = Stub(board, tmp_path)
        stubs.append(stub)
        return stub
    yield start
    for stub in stubs:
        stub.stop()


def gdb(port: int, board: str, *commands: str) -> str:
    """A batch session; each component's ELF comes from the stub (one GDB inferior each)."""
    if GDB is None:
        pytest.fail("gdb-multiarch is not installed, and CI is set")
    args = [GDB, "-nx", "-batch", "-ex", f"target extended-remote :{port}"]
    for c in commands:
        args += ["-ex", c]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return proc.stdout + proc.stderr


@needs_gdb
@pytest.mark.parametrize("board", ["mps2-an385", "hifive1"])
def test_gdb_multiarch_breaks_in_a_server_steps_watches_a_global_and_detaches(board, built, stub_factory):
    stub = stub_factory(board)

    out = gdb(stub.port, board,
              "info threads", "thread 2.1", "break tx_pump", "continue",
              "print stats", "info registers pc sp", "print $pc == tx_pump", "stepi", "print/x $pc",
              "delete", "watch stats.tx_bytes", "continue", "print stats.tx_bytes",
              "monitor ps", "detach")

    assert re.search(r"1\.1\s+Thread 1\.1 \(supervisor \(running\)\)", out), out
    assert re.search(r"2\.1\s+Thread 2\.1 \(uart \(ready\)\)", out), out
    assert "Thread 7.1 (hello" in out, out
    assert re.search(r"Thread 2\.1 hit Breakpoint 1(\.1)?, tx_pump \(\)", out), out
    assert "$1 = {rx_bytes = 0, rx_dropped = 0, overruns = 0, tx_bytes = 0}" in out, out
    assert re.search(r"pc\s+0x100[0-9a-f]{2}\s+0x100[0-9a-f]{2} <tx_pump\+\d+>", out), out
    assert re.search(r"sp\s+0x6fffff", out), out
    assert re.search(r"\$3 = 0x100[0-9a-f]{2}", out), out
    assert "Hardware watchpoint 2: stats.tx_bytes" in out, out
    assert "Old value = 0\nNew value = 1" in out, out
    assert "$4 = 1" in out, out
    assert re.search(r"2 uart\s+running\s+1 0x00010[0-9a-f]{3}", out), out
    assert "received signal" not in out, out
    assert "detached" in out, out
    # detaching leaves the system running
    time.sleep(0.5)
    assert stub.proc.poll() is None, stub.stderr()
    assert "[hello] hello from a component" in stub.stderr()


@needs_gdb
def test_a_breakpoint_stops_only_the_component_it_was_set_in(built, stub_factory):
    stub = stub_factory("mps2-an385")

    # every component is linked at the same addresses, and console's `main` is at the
    # supervisor's: set with thread 4 (console) selected, it stops console, not the
    # supervisor that runs first
    out = gdb(stub.port, "mps2-an385", "thread 4.1", "break main thread 4.1", "continue", "info threads", "kill")

    assert re.search(r"Thread 4\.1 hit Breakpoint 1", out), out
    assert re.search(r"\* 4\.1\s+Thread 4\.1 \(console \(running\)\)", out), out
    stub.proc.wait(timeout=30)


# -- raw RSP --------------------------------------------------------------------------------


def packet(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + b"%02x" % (sum(payload) & 0xFF)


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def drain(self, seconds: float) -> None:
        self.sock.settimeout(seconds)
        try:
            while self.sock.recv(65536):
                pass
        except socket.timeout:
            pass
        self.buffer = b""

    def reply(self) -> bytes:
        self.sock.settimeout(10)
        while True:
            match = re.search(rb"\$([^#]*)#[0-9a-f]{2}", self.buffer)
            if match:
                self.buffer = self.buffer[match.end():]
                return match.group(1)
            data = self.sock.recv(65536)
            assert data, "the stub closed the connection"
            self.buffer += data

    def ask(self, payload: bytes) -> bytes:
        self.sock.sendall(packet(payload))
        return self.reply()


def test_random_truncated_and_badly_checksummed_packets_never_kill_the_stub(built, stub_factory):
    stub = stub_factory("hifive1")
    client = Client(stub.port)
    assert client.ask(b"?").startswith(b"T05")
    rng = random.Random(1234)
    letters = b"?gGpPmMXcsHTZzqQv!"
    nasty = [b"m", b"mzz,4", b"m10000,ffffffff", b"p", b"pzz", b"P1", b"Pff=00", b"G12", b"Hg", b"Hgzz",
             b"Z0", b"Z9,0,0", b"Z2,0,4", b"z0,zz,2", b"qRcmd,zz", b"qRcmd," + b"nonsense".hex().encode(),
             b"qXfer:features:read:target.xml:zz", b"qXfer:features:read:other.xml:0,10", b"X0,4:ab",
             b"M0,2:zz", b"vCont;q", b"vCont;", b"vCont;s:zz", b"qThreadExtraInfo,99", b"T99", b"s0zz"]
    for round_ in range(400):
        choice = rng.random()
        if choice < 0.25:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        elif choice < 0.45:
            data = packet(rng.choice(nasty))
        elif choice < 0.6:
            data = packet(bytes([rng.choice(letters)]) + bytes(rng.randrange(32, 127) for _ in range(rng.randrange(30))))
            if data[1:2] in (b"k", b"D") or data[1:6] == b"vKill":
                continue
        elif choice < 0.75:
            data = packet(b"m" + b"%x,%x" % (rng.randrange(1 << 32), rng.randrange(64)))[:-2] + b"00"
        elif choice < 0.9:
            data = packet(rng.choice(nasty))[:rng.randrange(1, 8)]  # truncated
        else:
            data = b"$" + b"A" * 70000 + b"#00"                        # oversized
        client.sock.sendall(data)
    client.sock.sendall(b"#00\x03")       # close any open frame, stop it if it runs
    client.drain(1.0)

    assert client.ask(b"?")[:1] in (b"T", b"S")
    assert client.ask(b"qC").startswith(b"QC")
    assert stub.proc.poll() is None, stub.stderr()
    assert "Traceback" not in stub.stderr()


def test_ctrl_c_interrupts_a_running_system_and_vkill_ends_the_run(built, stub_factory):
    stub = stub_factory("mps2-an385")
    client = Client(stub.port)
    assert client.ask(b"QStartNoAckMode") == b"OK"
    client.drain(0.2)
    assert client.ask(b"qfThreadInfo") == b"m1,2,3,4,5,6,7"
    assert bytes.fromhex(client.ask(b"qThreadExtraInfo,2").decode()).startswith(b"uart")
    xml = client.ask(b"qXfer:features:read:target.xml:0,fff")
    assert xml.startswith(b"l") and b"org.gnu.gdb.arm.m-profile" in xml

    client.sock.sendall(packet(b"vCont;c"))
    time.sleep(0.3)
    client.sock.sendall(b"\x03")

    assert client.reply().startswith(b"T02thread:")
    ps = bytes.fromhex(client.ask(b"qRcmd," + b"ps".hex().encode()).decode()).decode()
    assert "supervisor" in ps and "uart" in ps
    assert client.ask(b"vKill;1") == b"OK"
    assert stub.proc.wait(timeout=30) == 0



# -- stops of the guest's own: bkpt/ebreak and faults ---------------------------------
# The stub serves a system built with the kernel's API (tests/kernel/guest/ components)
# from a thread of the test; GDB (a subprocess) drives it.

from tests.kernel.system_harness import System, guests  # noqa: E402,F401  (fixture)


#: stubs serving from threads of this process, stopped after each test (tests/atoll/conftest.py):
#: one GDB left running would go on running its system, and recording it, for the rest of the run
SERVING: list = []


def stub_on(system):
    """A `GdbStub` serving `system` from a thread of this process, waiting for GDB."""
    import threading

    from atoll.gdbstub import GdbStub
    system.kernel.start()
    stub = GdbStub(system.machine, system.kernel, port=0)
    thread = threading.Thread(target=stub.serve, kwargs={"wait": True}, daemon=True)
    thread.start()
    SERVING.append((stub, thread))
    return stub


def stop_serving() -> None:
    """Stop every stub `stub_on` started (the serving loop ends after its slice)."""
    while SERVING:
        stub, thread = SERVING.pop()
        stub.killed = True
        thread.join(timeout=10)


def gdb_on(stub, system, elf, *commands: str) -> str:
    """GDB's output; a GDB that never stops is killed after a while and what it said returned."""
    if GDB is None:
        pytest.fail("gdb-multiarch is not installed, and CI is set")
    args = [GDB, "-nx", "-batch", "-ex", f"file {elf}",
            "-ex", f"target extended-remote :{stub.port}"]
    for c in commands:
        args += ["-ex", c]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        said = b"".join(x for x in (e.stdout, e.stderr) if x).decode(errors="replace")
        return f"{said}\n(GDB never returned)"
    return proc.stdout + proc.stderr


BKPT = {"mps2-an385": r"bkpt\s+(0x0+|#?0)\b", "hifive1": r"ebreak"}
STORE = {"mps2-an385": r"\bstr\s", "hifive1": r"\bsw\s"}


@needs_gdb
@pytest.mark.parametrize("board", ["mps2-an385", "hifive1"])
def test_a_guest_breakpoint_instruction_stops_gdb_with_sigtrap_and_continuing_runs_past_it(board, guests):
    system = System(board, guests)
    breaker = system.add("breaker", priority=3)
    stub = stub_on(system)

    out = gdb_on(stub, system, guests[ISA[board], "breaker"],
                 "continue", "info threads", "x/i $pc", "monitor fault", "continue")

    tid = breaker.index
    assert re.search(rf"(Program|Thread {tid}(\.1)?) received signal SIGTRAP, Trace/breakpoint trap\.", out), out
    assert re.search(rf"\* {tid}(\.1)?\s+Thread {tid}(\.1)? \(breaker", out), out
    assert re.search(r"=> 0x[0-9a-f]+ <main\+\d+>:\s+" + BKPT[board], out), out
    assert re.search(rf"thread {tid} \(breaker\) stopped at \(continuing hands it to the kernel\): "
                     r"breakpoint fault at pc 0x[0-9a-f]{8} in space 'breaker'\n"
                     r"kind=breakpoint address=- access=- pc=0x[0-9a-f]{8}", out), out
    # continuing runs on after the instruction: the component finishes, and so does the run
    assert re.search(r"\[Inferior 1 \(process 1\) exited normally\]", out), out
    assert system.output("breaker") == ["breaker: about to break", "breaker: still here"]
    assert breaker.last_fault is None


@needs_gdb
@pytest.mark.parametrize("board", ["mps2-an385", "hifive1"])
def test_a_component_that_writes_outside_its_memory_stops_gdb_with_sigsegv_at_the_store(board, guests):
    system = System(board, guests)
    system.add("yielder", priority=4)
    wild = system.add("wild_write", priority=3)
    stub = stub_on(system)

    out = gdb_on(stub, system, guests[ISA[board], "wild_write"],
                 "continue", "info threads", "x/i $pc", "print/x $pc", "monitor fault", "kill")

    tid = wild.index
    assert re.search(rf"(Program|Thread {tid}(\.1)?) received signal SIGSEGV, Segmentation fault\.", out), out
    assert re.search(rf"\* {tid}(\.1)?\s+Thread {tid}(\.1)? \(wild_write", out), out
    assert re.search(r"=> 0x[0-9a-f]+ <main\+\d+>:\s+" + STORE[board], out), out
    pc = re.search(r"\$1 = (0x[0-9a-f]+)", out).group(1)
    assert re.search(rf"thread {tid} \(wild_write\) stopped at \(continuing hands it to the kernel\): "
                     r"unmapped fault: write of 0x00f00000 at pc 0x[0-9a-f]{8} in space 'wild_write'.*\n"
                     rf"kind=unmapped address=0x00f00000 access=write pc=0x0*{pc[2:]}\n", out), out
    assert system.output("wild_write") == ["wild: about to write outside"]


UNDEFINED = {"mps2-an385": (r"udf\s", 2), "hifive1": (r"\.2byte\s+0xffff\b", 4)}


@needs_gdb
@pytest.mark.parametrize("board", ["mps2-an385", "hifive1"])
def test_an_undefined_instruction_stops_gdb_with_sigill_and_a_moved_pc_runs_on_from_there(board, guests):
    system = System(board, guests)
    undefiner = system.add("undefiner", priority=3)
    stub = stub_on(system)
    pattern, length = UNDEFINED[board]

    out = gdb_on(stub, system, guests[ISA[board], "undefiner"],
                 "continue", "x/i $pc", "monitor fault", f"set $pc += {length}", "continue")

    assert re.search(r"received signal SIGILL, Illegal instruction\.", out), out
    assert re.search(r"=> 0x[0-9a-f]+ <main\+\d+>:\s+" + pattern, out), out
    assert "kind=undefined-instruction address=- access=- pc=0x" in out, out
    assert re.search(r"\[Inferior 1 \(process 1\) exited normally\]", out), out
    assert system.output("undefiner") == ["undefiner: about to run an undefined instruction",
                                          "undefiner: skipped it"]
    assert undefiner.last_fault is None
