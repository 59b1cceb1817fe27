"""The interactive debugger (`atoll debug IMAGE`), driven through its command interface.

Each test boots the demo image on a board, stopped before its first instruction, and
types commands at `Debugger.execute` as a person types them at the prompt; the
terminal front end is checked once through the CLI with commands on stdin.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import capstone
import pytest

from atoll.debugger import Debugger
from machine import Fault, FaultKind
from firmware import components
from tests.conftest import ROOT

BOARDS = ["mps2-an385", "hifive1"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


@pytest.fixture(params=BOARDS)
def debugger(request, built) -> Debugger:
    return Debugger.from_image(ROOT / "firmware" / "images" / f"demo-{request.param}.toml")


def location(out: str) -> tuple[str, int]:
    m = re.search(r" at (\S+):(\d+)\n", out)
    assert m is not None, out
    return m.group(1), int(m.group(2))


def stop_in_tx_pump_loop(debugger: Debugger) -> str:
    assert "Breakpoint 1 at" in debugger.execute("break servers/uart/main.c:17 uart")
    out = debugger.execute("continue 1s")
    assert out.startswith("Breakpoint 1, uart: "), out
    return out


def test_it_starts_stopped_before_the_first_instruction_of_the_first_component(debugger):
    out = debugger.execute("where")
    assert out.startswith("supervisor: 0x00010000 in _start at firmware/lib/src/crt0.c:"), out
    assert debugger.machine.counter.executed == 0


def test_a_breakpoint_at_a_file_line_in_a_server_is_hit_by_continue(debugger):
    out = stop_in_tx_pump_loop(debugger)
    assert location(out) == ("servers/uart/main.c", 17)
    assert "while (ring_used(&tx_ring) && hw_tx_room())" in out
    assert debugger.kernel.current.name == "uart"
    assert "[uart] uart: ready" in out
    info = debugger.execute("info breakpoints")
    assert re.search(r"^1\s+breakpoint\s+0x[0-9a-f]{8} uart\s+1  servers/uart/main.c:17$", info, re.M), info


def test_a_breakpoint_on_a_symbol_for_one_component_stops_only_that_component(debugger):
    out = debugger.execute("break main console")
    assert re.fullmatch(r"Breakpoint 1 at 0x[0-9a-f]{8} \(main\) in console\n", out), out
    out = debugger.execute("continue 1s")
    assert out.startswith("Breakpoint 1, console: "), out
    assert " in main at servers/console/main.c:" in out


def test_an_address_breakpoint_stops_whichever_component_runs_there(debugger):
    entry = debugger.symbols["uart"].symbols["_start"][0]
    out = debugger.execute(f"break *{entry:#x}")
    assert "in every component" in out, out
    out = debugger.execute("continue 1s")
    assert out.startswith("Breakpoint 1, uart: "), out   # the supervisor is past _start already
    assert debugger.execute("delete 1") == ""
    assert debugger.execute("info breakpoints") == "no breakpoints or watchpoints\n"


def test_next_steps_by_source_line_and_step_enters_a_call(debugger):
    stop_in_tx_pump_loop(debugger)
    syms = debugger.symbols["uart"]
    out = debugger.execute("next")
    here = location(out)
    assert here != ("servers/uart/main.c", 17), out
    pc = debugger.session.pc(debugger.kernel.process("uart"))
    assert syms.line_starts[pc] == here                      # stopped where a line begins
    for _ in range(4):                                       # over ring_get (inlined) to hw_tx's line
        if here == ("servers/uart/main.c", 18):
            break
        here = location(debugger.execute("next"))
    assert here == ("servers/uart/main.c", 18)
    out = debugger.execute("step")
    file, _ = location(out)
    assert re.fullmatch(r"servers/uart/hw_(cmsdk|sifive)\.c", file), out
    assert " in hw_tx at " in out
    bt = debugger.execute("bt")
    assert re.search(r"#0\s+0x[0-9a-f]{8} in hw_tx \(byte=(\d+ '.+'|<optimized out>)\)", bt), bt
    assert re.search(r"#1\s+0x[0-9a-f]{8} in tx_pump \(\) at servers/uart/main.c:18", bt), bt
    assert " in main () at servers/uart/main.c:" in bt, bt
    out = debugger.execute("finish")
    assert "Run till exit from hw_tx" in out, out
    assert location(out.split("\nValue returned")[0] + "\n")[0] == "servers/uart/main.c"


def test_disas_output_equals_capstone_for_the_same_bytes(debugger):
    stop_in_tx_pump_loop(debugger)
    process = debugger.kernel.current.process
    start = debugger.symbols["uart"].symbols["tx_pump"][0]
    out = debugger.execute("disas tx_pump 12")
    code = debugger.machine.read_virtual(process.space, start, 48)
    if debugger.isa == "armv7m":
        cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    else:
        cs = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)
    expected = [(i.address, i.mnemonic, i.op_str) for i in cs.disasm(code, start, 12)]
    got = []
    for line in out.splitlines():
        m = re.match(r"^(?:=>| ) {0,2}0x([0-9a-f]{8})(?: <([^>]+)>)?:\t(\S+)\t?(.*)$", line)
        assert m is not None, line
        got.append((int(m.group(1), 16), m.group(3), m.group(4)))
    assert got == expected
    assert out.splitlines()[0].endswith(f"{start:#010x} <tx_pump>:\t{expected[0][1]}\t{expected[0][2]}")
    assert "=> " in out                                        # the pc is marked
    assert debugger.execute("x/2i tx_pump").splitlines() == out.splitlines()[:2]


def test_regs_and_x_read_the_stopped_component_through_its_own_address_space(debugger):
    stop_in_tx_pump_loop(debugger)
    process = debugger.kernel.current.process
    regs = debugger.execute("regs")
    assert regs.startswith("registers of uart (running):"), regs
    sp = int(re.search(r"^sp\s+(0x[0-9a-f]{8})", regs, re.M).group(1), 16)
    out = debugger.execute("x/4xw $sp")
    words = [int(w, 16) for w in out.split(":", 1)[1].split()]
    raw = debugger.machine.read_virtual(process.space, sp, 16)
    assert words == [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 16, 4)]
    assert debugger.execute("x/s 0").startswith("cannot read")


def test_a_watchpoint_on_a_global_stops_after_the_write(debugger):
    stop_in_tx_pump_loop(debugger)
    debugger.execute("delete")
    out = debugger.execute("watch stats uart")
    m = re.fullmatch(r"Watchpoint (\d+): stats \(0x[0-9a-f]{8}, 16 bytes\) in uart\n", out)
    assert m is not None, out
    out = debugger.execute("continue 1s")
    assert out.startswith(f"Watchpoint {m.group(1)}: write at "), out
    assert "now 0x00000001" in out                           # stats.tx_bytes went from 0 to 1


def test_stepping_over_a_syscall_shows_its_name_result_and_who_runs_next(debugger):
    syscalls = []
    for _ in range(1000):
        out = debugger.execute("stepi")
        if out.startswith("syscall "):
            syscalls.append(out)
            if out.startswith("syscall RECV"):
                break
    else:
        pytest.fail(f"no RECV in 1000 instructions: {syscalls}")
    # the supervisor reads the time and sets its heartbeat timer, still running
    assert syscalls[0].startswith("syscall TIME_NOW from supervisor: returned 0; next runs: supervisor\n")
    # then it waits for fault reports; uart, the next priority, runs
    assert out.startswith("syscall RECV from supervisor: supervisor is receiving (recv faults"), out
    assert "; next runs: uart\nuart: 0x00010000 <_start>" in out


def test_ps_after_a_fault_shows_the_component_stopped_with_a_fault_count(debugger):
    debugger.execute("continue 100ms")
    blinky = debugger.kernel.process("blinky")
    pc = debugger.session.pc(blinky)
    debugger.kernel.fault(blinky, Fault(FaultKind.UNDEFINED_INSTRUCTION, pc, "blinky"))
    ps = debugger.execute("ps")
    assert re.search(r"^\s+6 blinky\s+stopped\s+5 0x[0-9a-f]{8}\s+1\s+0  fault: undefined_instruction$", ps,
                     re.M), ps
    assert re.search(r"^\s+2 uart\s+\S+\s+1 0x[0-9a-f]{8}\s+0\s+0  ", ps, re.M), ps
    debugger.execute("continue 100ms")                       # the supervisor restarts it
    ps = debugger.execute("ps")
    assert re.search(r"^\s+6 blinky\s+(?!stopped)\S+\s+5 0x[0-9a-f]{8}\s+1\s+1  ", ps, re.M), ps
    ipc = debugger.execute("ipc 50")
    assert re.search(r"fault\s+blinky -> supervisor label 0x", ipc), ipc


def test_kernel_views_show_capabilities_ipc_interrupts_and_time(debugger):
    stop_in_tx_pump_loop(debugger)
    caps = debugger.execute("caps uart")
    assert "slot  1: endpoint uart [r]" in caps, caps
    assert re.search(r"^\s+\d+ us  call\s+console -> uart label 0x10001$", debugger.execute("ipc 5"), re.M)
    assert re.search(r"^\s+\d+ uart\s+0 yes", debugger.execute("irq"), re.M)
    assert re.search(r"^\d+ us virtual \(\d+ cycles at \d+ Hz\), \d+ instructions$", debugger.execute("time"), re.M)
    assert "console      reply-wait" in debugger.execute("ps")
    assert "reply from uart" in debugger.execute("ps")


def test_mistakes_are_one_line_and_help_lists_the_commands(debugger):
    assert debugger.execute("frobnicate") == "unknown command 'frobnicate'; try 'help'\n"
    assert debugger.execute("break nosuchfunction") == "no function 'nosuchfunction' in any component\n"
    assert debugger.execute("break main.c:17 nobody").startswith("no component named 'nobody'")
    assert debugger.execute("break main.c:17").startswith("main.c is ambiguous: firmware/apps/blinky/main.c, ")
    assert debugger.execute("stepi x") == "expected a positive count, not 'x'\n"
    help_text = debugger.execute("help")
    for word in ("break", "watch", "continue", "stepi", "next", "finish", "disas", "ps", "caps", "ipc"):
        assert re.search(rf"^  {word}\b", help_text, re.M), word


def test_atoll_debug_reads_commands_from_its_terminal_and_reports_bad_images(built, tmp_path):
    image = ROOT / "firmware" / "images" / "demo-hifive1.toml"
    done = subprocess.run([sys.executable, "-m", "atoll.cli", "debug", str(image)],
                          input="break tx_pump\ncontinue 1s\nbt\nquit\n", capture_output=True, text=True,
                          env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Breakpoint 1, uart: 0x" in done.stdout, done.stdout
    assert "in main () at servers/uart/main.c" in done.stdout
    done = subprocess.run([sys.executable, "-m", "atoll.cli", "debug", str(tmp_path / "missing.toml")],
                          capture_output=True, text=True, env=ENV, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no such file" in done.stderr


def two_hellos(folder, board: str, first: str):
    """A system of two `hello` components, the first (the one that runs first) named `first`."""
    isa = {"mps2-an385": "armv7m", "hifive1": "rv32imac"}[board]
    elf = ROOT / "build" / "components" / isa / "hello.elf"
    path = folder / f"{first}.toml"
    path.write_text(f'[system]\nname = "hellos"\nboard = "{board}"\n\n'
                    f'[[component]]\nname = "{first}"\nelf = "{elf}"\npriority = 1\nstack = 2048\n\n'
                    f'[[component]]\nname = "second"\nelf = "{elf}"\npriority = 2\nstack = 2048\n')
    return Debugger.from_image(path)


@pytest.mark.parametrize("board", BOARDS)
def test_stepi_keeps_stepping_past_a_syscall_of_a_component_whose_name_says_stopped(board, built, tmp_path):
    # how many instructions `plain` runs up to and including its first syscall
    plain = two_hellos(tmp_path, board, "plain")
    for steps in range(1, 20_000):
        if plain.execute("stepi").startswith("syscall "):
            break
    else:
        pytest.fail("no syscall in 20000 instructions")
    plain = two_hellos(tmp_path, board, "plain")
    named = two_hellos(tmp_path, board, "unstopped")
    # the same program under another name steps as far: stepping ends on what happened, not on words
    expected = plain.execute(f"stepi {steps + 5}").replace("plain", "unstopped")
    assert named.execute(f"stepi {steps + 5}") == expected
    # (a step over a Thumb IT instruction runs the instructions it makes conditional with it)
    assert named.machine.counter.executed == plain.machine.counter.executed >= steps + 5
