"""Hostile load on both boards: what a component may do in a loop must not take the system or
the host down.

Each test runs a real guest (tests/kernel/guest/) that keeps doing one allowed or denied thing:

- putc_flood: one debug line forged to pass for the lock's (a carriage return, "[lock] ...",
  an escape sequence), then empty debug lines for ever;
- label_flood: CALLs with a new label each time, all denied by the policy;
- gpio_toggler: toggles a pin of the GPIO block it was given, for ever;
- irq_storm: a driver that never clears its UART's interrupt and acks it for ever;
- overrunner: overruns UART1's transmitter and exits (on mps2-an385 the overflow output
  shares IRQ 12 with UART0's);
- uart_flood: writes a line to UART0 for ever, as fast as the transmitter goes.

Host memory is checked by the size of each structure the action grows, against the bound its
module states, while the action keeps going: the count of what was dropped must add up to
everything the guest did.
"""

from __future__ import annotations

import io
import json
import logging
import re

import capstone
import pytest

from kernel import DEBUG_LOG_LINES, JsonLinesSink
from kernel.abi import FaultCode
from kernel.interrupts import IRQ_STORM_ACKS, IRQ_STORM_MS
from kernel.kernel import Kernel
from kernel.monitor import AUDIT_RATE, RECORDS, VERDICTS
from kernel.process import State
from machine import BufferBackend, Machine
from machine.peripherals.gpio_pads import EDGE_LOG
from sysdesc.description import load_system
from tests.kernel.system_harness import BOARDS, ISA_OF, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


#: the UART output each board's irq_storm guest provokes and never clears
STORM_OUTPUT = {"mps2-an385": "tx", "hifive1": "irq"}


# -- debug lines -------------------------------------------------------------------------------


def test_a_debug_line_cannot_move_the_terminal_cursor_or_pass_for_another_components_line(board, guests):
    system = System(board, guests)
    system.add("putc_flood")
    system.run(0.001)

    assert system.output("putc_flood")[0] == "\\r[lock] door unlocked\\x1b[2K"
    assert system.kernel.debug_log[0][1:] == ("putc_flood", "\\r[lock] door unlocked\\x1b[2K")


def test_a_component_writing_debug_lines_for_ever_leaves_the_newest_lines_and_counts_the_rest(board, guests):
    system = System(board, guests)
    system.add("putc_flood")
    system.kernel.start()
    log = system.kernel.debug_log
    most = 0
    for _ in range(4):   # the bound holds while the guest keeps writing
        system.kernel.run_until(lambda: len(system.lines) >= most + DEBUG_LOG_LINES // 2, 10)
        most = len(system.lines)
        assert len(log) <= DEBUG_LOG_LINES + DEBUG_LOG_LINES // 8

    assert log.dropped > 0
    assert log.dropped + len(log) == len(system.lines)   # every line is kept or counted
    assert [entry[1:] for entry in log] == [("putc_flood", text) for text in system.output("putc_flood")[-len(log):]]
    cycles = [entry[0] for entry in log]
    assert cycles == sorted(cycles)


# -- the policy monitor's cache and audit ------------------------------------------------------

DESCRIPTION = """
[system]
name = "label-flood"
board = "{board}"
policy = "flood.policy.toml"

[[component]]
name = "echo"
elf = "{echo}"
priority = 2
stack = 2048

[[component]]
name = "flood"
elf = "{flood}"
priority = 3
stack = 2048

[[endpoint]]
name = "echo"
server = "echo"
server_slot = 1
clients = {{ flood = 1 }}
"""

POLICY = """
[policy]
mode = "enforce"
audit = "denied"

[[rule]]
name = "nobody calls echo"
action = "deny"
from = "*"
to = "echo"
methods = ["*"]
"""


def test_a_component_calling_with_a_new_label_each_time_keeps_the_verdict_cache_and_audit_bounded(
        board, guests, tmp_path):
    isa = ISA_OF[board]
    (tmp_path / "flood.policy.toml").write_text(POLICY)
    (tmp_path / "flood.toml").write_text(DESCRIPTION.format(
        board=board, echo=guests[isa, "echo_server"].as_posix(), flood=guests[isa, "label_flood"].as_posix()))
    kernel = Kernel(Machine(board))
    stream = io.StringIO()
    sink = kernel.on_audit = JsonLinesSink(stream)
    kernel.boot(load_system(tmp_path / "flood.toml"))
    monitor = kernel.monitor
    most = 0
    for _ in range(3):   # the bounds hold while the guest keeps calling
        kernel.run_until(lambda: monitor.denied >= most + RECORDS // 2, 10)
        most = monitor.denied
        assert monitor.cached_verdicts <= VERDICTS
        assert len(monitor.records) <= RECORDS

    calls = monitor.denied
    assert calls > RECORDS and kernel.now_us() < 1_000_000   # all of it in the first virtual second
    assert monitor.verdicts_evicted == calls - VERDICTS      # each new label was one more verdict
    assert monitor.records_dropped == calls - RECORDS
    assert [r["method"] for r in list(monitor.records)[-2:]] == [f"label {calls - 1:#x}", f"label {calls:#x}"]
    assert sink.written == AUDIT_RATE and sink.dropped == calls - AUDIT_RATE
    sink.close()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == AUDIT_RATE + 1
    assert {r["decision"] for r in lines[:-1]} == {"deny"}
    assert lines[-1]["kind"] == "dropped" and lines[-1]["dropped"] == calls - AUDIT_RATE


def test_the_audit_stream_says_how_many_records_the_rate_limit_dropped_when_the_next_second_begins():
    stream = io.StringIO()
    sink = JsonLinesSink(stream, rate=2)
    for time_us in (10, 20, 30, 40, 1_000_005, 1_000_006, 1_000_007):
        sink({"time_us": time_us, "decision": "deny"})

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["time_us"], r["decision"]) for r in lines] == [
        (10, "deny"), (20, "deny"), (1_000_005, "dropped"), (1_000_005, "deny"), (1_000_006, "deny")]
    assert lines[2]["dropped"] == 2
    assert lines[2]["reason"] == "2 record(s) not written: more than 2 in one second of virtual time"
    assert (sink.written, sink.dropped) == (5, 3)


# -- GPIO edges ------------------------------------------------------------------------------


def test_a_component_toggling_a_pin_for_ever_keeps_the_edge_log_within_its_bound(board, guests):
    system = System(board, guests)
    gpio = system.machine.board.peripheral("gpio0")
    system.add("gpio_toggler", uses={"gpio0": gpio.base})
    system.kernel.start()
    edges = system.machine.peripheral("gpio0").edges
    for round_ in range(1, 3):   # the bound holds while the guest keeps toggling
        system.kernel.run_until(lambda: edges.dropped + len(edges) >= round_ * EDGE_LOG * 1.2, 10)
        assert len(edges) <= EDGE_LOG + EDGE_LOG // 8

    assert edges.dropped > 0
    assert {pin for _, pin, _ in edges} == {0}
    assert all(a[2] != b[2] and a[0] < b[0] for a, b in zip(edges, edges[1:]))   # every edge, in order
    assert edges[-1][2] == system.machine.peripheral("gpio0").level(0)


# -- UART output in a test buffer ---------------------------------------------------------------


def test_a_component_writing_its_uart_for_ever_keeps_the_test_buffer_within_its_bound(board, guests):
    system = System(board, guests)
    system.add("uart_flood", uses={"uart0": system.machine.board.peripheral("uart0").base})
    keep = 4096   # the default is BufferBackend.KEEP (1 MiB); a small one keeps the test short
    backend = BufferBackend(keep=keep)
    system.machine.attach_uart("uart0", backend)
    system.kernel.start()
    for round_ in range(1, 4):   # the bound holds while the guest keeps writing
        system.kernel.run_until(lambda: backend.total >= round_ * 2 * keep, 10)
        assert len(backend.output) == len(backend.timestamps) <= keep + keep // 8

    assert backend.dropped + len(backend.output) == backend.total >= 6 * keep
    line = b"0123456789abcde\n"
    assert bytes(backend.output) in line * (len(backend.output) // 16 + 2)   # the newest bytes, in order
    assert backend.since(backend.total - 32) == bytes(backend.output[-32:])
    assert backend.timestamps == sorted(backend.timestamps)


# -- interrupt storms ------------------------------------------------------------------------


def storm_system(board, guests, supervised=False):
    """irq_storm at priority 1 on UART0's interrupt (bit 0), a spinner at priority 3."""
    system = System(board, guests)
    uart = system.machine.board.peripheral("uart0")
    driver = system.add("irq_storm", priority=1, uses={"uart0": uart.base})
    line = system.kernel.route_interrupt(driver, "uart0", STORM_OUTPUT[board], 0)
    system.add("spinner", priority=3)
    if supervised:
        sup = system.add("supervisor", priority=0)
        system.kernel.supervise(driver, sup, system.serve("faults", sup))
    return system, driver, line


def test_a_driver_that_never_clears_its_interrupt_is_stopped_and_its_line_masked(board, guests, caplog):
    system, driver, line = storm_system(board, guests)
    system.run(IRQ_STORM_MS / 1000 * 2)

    stats = system.kernel.stats
    assert stats.irq_storms == 1
    assert stats.interrupts >= IRQ_STORM_ACKS
    assert driver.thread.state is State.STOPPED
    assert driver.last_fault.detail == f"interrupt storm on line {line}"
    assert not system.machine.interrupts.is_enabled(line)
    assert [r.getMessage() for r in caplog.records if r.name == "atoll.kernel" and r.levelno >= logging.WARNING] == [
        f"interrupt line {line} was asserted again at each of {stats.interrupts} acks by irq_storm "
        f"in {IRQ_STORM_MS} ms: masked, a fault of irq_storm"]
    storm = next(e.cycle for e in system.kernel.ipc_log if e.kind == "fault")
    first = next(e.cycle for e in system.kernel.ipc_log if e.kind == "irq")
    assert storm - first >= system.machine.clock.cycles(IRQ_STORM_MS / 1000)
    # the component below the storm runs on after it
    assert len([cycle for cycle, c, _ in system.kernel.debug_log if c == "spinner" and cycle > storm]) >= 3


def test_an_interrupt_storm_is_reported_to_the_drivers_supervisor_as_a_fault(board, guests):
    system, driver, line = storm_system(board, guests, supervised=True)
    system.run(IRQ_STORM_MS / 1000 * 2)

    reports = [text for text in system.output("supervisor") if "fault" in text]
    assert reports[0].startswith(f"supervisor: component {driver.index} fault {int(FaultCode.IRQ_STORM)} at pc ")
    assert system.kernel.stats.irq_storms >= 1
    assert driver.restarts >= 1   # restarted, its line unmasked again for the new generation


def test_a_uart_left_in_overrun_storms_the_shared_overflow_line_until_it_is_masked(guests):
    """The reported case on mps2-an385: the uart server owns IRQ 12 (UART0's overflow), which
    UART1's overflow shares; a component given UART1 overruns it and exits."""
    system = System("mps2-an385", guests)
    board = system.machine.board
    server = system.add("uart", priority=1, uses={"uart0": board.peripheral("uart0").base})
    for output, bit in (("rx", 0), ("tx", 1), ("overflow", 2)):
        system.kernel.route_interrupt(server, "uart0", output, bit)
    system.serve("uart", server)
    system.add("overrunner", priority=2, uses={"uart1": board.peripheral("uart1").base})
    system.add("spinner", priority=3)
    system.run(IRQ_STORM_MS / 1000 * 2)

    assert system.kernel.stats.irq_storms == 1
    assert not system.machine.interrupts.is_enabled(12)
    assert system.output("overrunner") == ["overrunner: done"]
    storm = next(e.cycle for e in system.kernel.ipc_log if e.kind == "fault" and e.source == "uart")
    assert len([cycle for cycle, c, _ in system.kernel.debug_log if c == "spinner" and cycle > storm]) >= 3


# -- UART transmit overrun -------------------------------------------------------------------

#: what each board's UART says, and how many bytes the overrunner's writes lose
OVERRUN = {
    "mps2-an385": ("DATA written while TXFULL: the byte is dropped and TXOVR set", 2),
    "hifive1": ("txdata written while the TX FIFO is full: the byte is dropped", 3),
}


def test_a_uart_transmit_overrun_is_said_once_with_the_peripheral_and_the_pc(board, guests, caplog):
    system = System(board, guests)
    process = system.add("overrunner", uses={"uart1": system.machine.board.peripheral("uart1").base})
    caplog.set_level(logging.WARNING, logger="atoll.machine")
    system.run(0.01)

    what, lost = OVERRUN[board]
    messages = [r.getMessage() for r in caplog.records if r.name == "atoll.machine"]
    assert len(messages) == 1
    match = re.fullmatch(rf"uart1: {re.escape(what)} at pc (0x[0-9a-f]+) \(said once; every one is counted\)",
                         messages[0])
    assert match, messages
    assert system.machine.peripheral("uart1").dropped_writes[what] == lost
    # the pc is the guest's store into the UART
    pc = int(match.group(1), 16)
    code = system.machine.read_virtual(process.space, pc, 4)
    cs = (capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS) if board == "mps2-an385"
          else capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC))
    insn = next(cs.disasm(code, pc))
    assert insn.mnemonic.startswith("str" if board == "mps2-an385" else ("sw", "c.sw")), insn.mnemonic
