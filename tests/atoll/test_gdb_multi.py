"""GDB with many components: each is a GDB inferior (the remote protocol's multiprocess
extensions) with its own ELF; breakpoints and watchpoints stay in the component they were set
in; a step of one thread waits for it and lets time pass; Ctrl-C during a step is answered
once; watchpoints report at the instruction after the access; `load` and `monitor reset`;
faults the kernel decides stop GDB.

Real gdb-multiarch sessions, in batch mode (`-ex` commands) and in GDB/MI as an IDE drives
it, each on a freshly booted demo.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.atoll.test_gdb_stub import (  # noqa: F401  (fixtures)
    ENV, GDB, ISA, Client, Stub, built, gdb_on, needs_gdb, packet, stub_on)
from tests.boards import BOARDS
from tests.kernel.system_harness import System, guests  # noqa: F401  (fixture)

pytestmark = needs_gdb

STORE = {"mps2-an385": r"\bstr(\.w)?\s", "hifive1": r"\bsw\s"}
LOAD = {"mps2-an385": r"\bldr(\.w)?\s", "hifive1": r"\blw\s"}


@pytest.fixture(params=BOARDS)
def demo(request, built, tmp_path):
    """The board's demo image under `atoll boot --gdb 0 --wait`, fresh: its start-up (the
    greeting the uart sends, the shell's prompt) is what the sessions stop in."""
    stub = Stub(request.param, tmp_path)
    stub.board = request.param
    yield stub
    stub.stop()


def session(port: int, *commands: str, target: str = "extended-remote",
            before: tuple[str, ...] = ("set schedule-multiple on",)) -> str:
    """A batch GDB session with nothing loaded before it connects: every component's ELF comes
    from the stub (qXfer:exec-file); GDB resumes every inferior (the whole system runs), as
    docs/debugging.md asks. What GDB said; a GDB that never returns is killed."""
    if GDB is None:
        pytest.fail("gdb-multiarch is not installed, and CI is set")
    args = [GDB, "-nx", "-batch"]
    for c in (*before, f"target {target} :{port}", *commands):
        args += ["-ex", c]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        said = b"".join(x for x in (e.stdout, e.stderr) if x).decode(errors="replace")
        return f"{said}\n(GDB never returned)"
    return proc.stdout + proc.stderr


def test_a_step_of_a_component_that_does_not_run_runs_the_others_until_it_has_stepped(demo):
    # the supervisor runs first, uart waits to be scheduled; stepping uart runs
    # the system until uart runs, then steps it (never a stop in the supervisor)
    out = session(demo.port, "inferior 2", "stepi", "info threads", "stepi", "info threads")

    assert "received signal" not in out, out
    assert len(re.findall(r"\* 2\.1\s+Thread 2\.1 \(uart \(running\)\)\s+\S", out)) == 2, out
    assert re.search(r"1\.1\s+Thread 1\.1 \(supervisor \(receiving\)\)", out), out


def test_every_component_is_an_inferior_with_its_own_elf_and_breakpoints_stay_in_the_component_they_were_set_in(demo):
    out = session(demo.port,
                  "info inferiors", "inferior 2", "break tx_pump if stats.tx_bytes > 2", "inferior 5",
                  "continue", "print stats.tx_bytes > 2", "bt", "info threads",
                  "delete", "inferior 1", "break hw_tx thread 2.1", "continue", "info threads")

    isa = ISA[demo.board]
    for n, name in enumerate(["supervisor", "uart", "gpio", "console", "shell"], 1):
        assert re.search(rf"{n}\s+process {n}\s+.*components/{isa}/{name}\.elf", out), out
    # set with uart selected, continued with the shell selected: uart stops, condition in uart's memory
    assert re.search(r"Thread 2\.1 hit Breakpoint 1(\.\d)?, tx_pump \(\) at .*servers/uart/main\.c", out), out
    assert "$1 = 1" in out, out
    assert re.search(r"#\d\s+(0x[0-9a-f]+ in )?main \(\) at .*servers/uart/main\.c", out), out
    # every component's frames with its own symbols
    assert re.search(r"5\.1\s+Thread 5\.1 \(shell \([a-z-]+\)\)\s+.*at .*(shell|syscall)", out), out
    # `break X thread N` set while another component is selected
    assert re.search(r"Thread 2\.1 hit Breakpoint 2(\.\d)?, hw_tx \(", out), out
    assert "received signal" not in out, out


def test_a_watchpoint_reports_at_the_instruction_after_the_access_and_gdb_mi_drives_it(demo):
    mi = "\n".join([
        "-gdb-set schedule-multiple on", f"-target-select extended-remote :{demo.port}", "-list-thread-groups",
        "-thread-select 2", "-break-watch stats.tx_bytes", "-thread-select 5", "-exec-continue",
        "-data-disassemble -a $pc -- 0", "-break-delete", "-thread-select 2",
        "-break-watch -a stats.tx_bytes", "-exec-continue", "-data-disassemble -a $pc -- 0",
        "-break-delete", "-target-detach", "-gdb-exit"]) + "\n"
    proc = subprocess.run([GDB, "-nx", "--interpreter=mi3"], input=mi, capture_output=True, text=True,
                          timeout=60)
    out = proc.stdout

    assert re.search(r'\^done,groups=\[\{id="i1",type="process",pid="1",executable=".*supervisor\.elf"', out), out
    assert re.search(r'\{id="i2",type="process",pid="2",executable=".*uart\.elf"', out), out
    stops = re.findall(r'\*stopped,(?:hw-awpt=\{[^}]*\},)?reason="(access-)?watchpoint-trigger",'
                       r'.*?frame=\{addr="(0x[0-9a-f]+)".*?thread-id="(\d+)"', out)
    assert [(kind, tid) for kind, _, tid in stops] == [("", "2"), ("access-", "2")], out
    assert 'value={old="0",new="1"}' in out, out
    # the instruction just before the stop is the access itself (the store, then a load)
    blocks = re.findall(r'\^done,asm_insns=\[(.*)\]', out)
    assert len(blocks) == 2, out
    for (_, pc, _), block, access in zip(stops, blocks, (STORE, LOAD)):
        insns = re.findall(r'\{address="(0x[0-9a-f]+)",.*?inst="([^"]*)"\}', block)
        before = [inst.replace("\\t", " ") for address, inst in insns if int(address, 16) < int(pc, 16)]
        assert before and re.search(access[demo.board], before[-1]), (pc, block, out)


def test_load_writes_a_components_elf_into_its_memory_and_monitor_reset_restarts_the_system(demo):
    out = session(demo.port, "inferior 2", "load", "monitor reset", "info threads")

    assert re.search(r"Loading section \.text, size 0x[0-9a-f]+ lma 0x1", out), out
    assert "Transfer rate" in out, out
    assert "every component restarted" in out, out
    assert re.search(r"\* 2\.1\s+Thread 2\.1 \(uart \(ready\)\)\s+_start \(\)", out), out
    assert "Error" not in out and "failed" not in out, out


@pytest.mark.parametrize("board", BOARDS)
def test_ctrl_c_during_a_step_that_waits_is_answered_once_and_the_stream_stays_in_step(board, guests):
    system = System(board, guests)
    system.add("yielder", priority=4)
    bad = system.add("bad_syscall", priority=3)
    stub = stub_on(system)
    client = Client(stub.port)
    assert b"multiprocess+" in client.ask(b"qSupported:multiprocess+;swbreak+")
    assert client.ask(b"QStartNoAckMode") == b"OK"
    client.drain(0.2)
    tid = b"p%x.1" % bad.index
    assert client.ask(b"vCont;c").startswith(b"T0c")          # SIGSYS: the kernel stopped it
    assert client.ask(b"Hg" + tid) == b"OK"

    # the stopped component never runs again: the step waits, the others run, until Ctrl-C
    client.sock.sendall(packet(b"vCont;s:" + tid + b";c"))
    time.sleep(0.3)
    client.sock.sendall(b"\x03")

    assert client.reply().startswith(b"T02thread:p")
    assert client.ask(b"qC").startswith(b"QCp")
    ps = bytes.fromhex(client.ask(b"qRcmd," + b"ps".hex().encode()).decode()).decode()
    assert "bad_syscall" in ps and "yielder" in ps, ps
    client.sock.sendall(b"\x03")           # while stopped: nothing to answer
    assert client.ask(b"?").startswith(b"T02thread:p")


@pytest.mark.parametrize("board", BOARDS)
def test_bare_metal_next_over_a_uart_polling_loop_returns_and_load_and_monitor_reset_work(board, bare_firmware,
                                                                                         tmp_path):
    elf = bare_firmware[board, "hello"]
    log = tmp_path / "uart.log"
    err = (tmp_path / "stub.err").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "atoll.cli", "boot", str(elf), "--board", board, "--gdb", "0",
                             "--wait", "--uart", f"file:{log}"], stdout=subprocess.DEVNULL, stderr=err, env=ENV)
    try:
        for _ in range(600):
            found = re.search(r"GDB stub on 127\.0\.0\.1:(\d+)", (tmp_path / "stub.err").read_text())
            if found or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert found, (tmp_path / "stub.err").read_text()
        port = int(found.group(1))
        # each `next` over `uart_putc(*s++)` steps through its inlined wait for the transmitter
        # (8 characters or more: as many as a transmit FIFO holds, and then some)
        out = session(port, "break uart_puts", "continue", "delete", *["next"] * 24, "load", "monitor reset",
                      "print/x $pc", target="remote", before=(f"file {elf}",))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        err.close()

    assert "(GDB never returned)" not in out, out
    assert len(re.findall(r"\n\d+\s+uart_putc\(\*s\+\+\);", out)) >= 8, out
    assert log.read_text().startswith("Hel"), out   # sent while stepping (a reset drops the rest)
    assert "Transfer rate" in out, out
    assert "board reset" in out, out


@pytest.mark.parametrize("board", BOARDS)
def test_an_unknown_syscall_stops_gdb_with_sigsys_and_monitor_fault_names_it(board, guests):
    system = System(board, guests)
    bad = system.add("bad_syscall", priority=3)
    stub = stub_on(system)

    out = gdb_on(stub, system, guests[ISA[board], "bad_syscall"], "continue", "info threads", "monitor fault",
                 "kill")

    tid = bad.index
    assert re.search(r"received signal SIGSYS, Bad system call\.", out), out
    assert re.search(rf"\* {tid}(\.1)?\s+Thread {tid}(\.1)? \(bad_syscall \(stopped\)\)", out), out
    assert re.search(rf"thread {tid} \(bad_syscall\) stopped by the kernel: cpu-error fault at pc 0x[0-9a-f]{{8}} "
                     r"in space 'bad_syscall' \(unknown syscall 99\)", out), out
    assert system.output("bad_syscall") == ["bad: calling syscall 99"]


@pytest.mark.parametrize("board", BOARDS)
def test_a_missed_heartbeat_stops_gdb_with_sigxcpu_in_the_hung_component(board, guests):
    from tests.kernel.test_supervisor import supervised
    system = System(board, guests)
    server = system.add("hanger", priority=2)
    client = system.add("redialer", priority=3)
    system.serve("echo", server, clients={client: 2})
    supervised(system, "hanger")
    stub = stub_on(system)

    out = gdb_on(stub, system, guests[ISA[board], "hanger"], "continue", "monitor fault", "kill")

    tid = server.index
    assert re.search(rf"Thread {tid}\.1 received signal SIGXCPU, CPU time limit exceeded\.", out), out
    assert re.search(rf"thread {tid} \(hanger\) stopped by the kernel: .*"
                     r"\(no answer to its supervisor's heartbeat within 5000 us\)\n"
                     r"kind=hung address=- access=- pc=0x[0-9a-f]{8}", out), out
