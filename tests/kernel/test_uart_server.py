"""The uart server (servers/uart) on both boards: exact bytes out, host bytes in,
bursts at line rate without loss, interrupt-driven waiting, and its protocol errors."""

from __future__ import annotations

import re

import pytest

from kernel.abi import Error
from machine.host.uart import BufferBackend
from tests.kernel.system_harness import BOARDS, ROOT, System, guests  # noqa: F401  (fixture)

HEADER = (ROOT / "servers" / "uart" / "uart.h").read_text()
UART_E_BUSY = int(re.search(r"#define UART_E_BUSY \((-\d+)\)", HEADER).group(1))
UART_E_BAD_LABEL = int(re.search(r"#define UART_E_BAD_LABEL \((-\d+)\)", HEADER).group(1))


def add_uart(system: System, priority: int = 1):
    """The uart server with UART0 mapped and its interrupts routed as its README says;
    a BufferBackend on the line. Returns (process, backend)."""
    uart = system.add("uart", priority=priority, uses={"uart0": system.machine.board.peripheral("uart0").base})
    if system.board == "mps2-an385":
        system.kernel.route_interrupt(uart, "uart0", "rx", 0)
        system.kernel.route_interrupt(uart, "uart0", "tx", 1)
        system.kernel.route_interrupt(uart, "uart0", "overflow", 2)
    else:
        system.kernel.route_interrupt(uart, "uart0", "irq", 0)
    backend = BufferBackend()
    system.machine.attach_uart("uart0", backend)
    return uart, backend


def with_clients(board, guests, *clients: tuple[str, str]):
    system = System(board, guests)
    uart, backend = add_uart(system)
    procs = [system.add(name, program, priority=3) for name, program in clients]
    system.serve("uart", uart, clients={p: 2 for p in procs})
    return system, backend


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def test_bytes_a_client_writes_appear_on_the_line_exactly(board, guests):
    system, backend = with_clients(board, guests, ("uart_writer", None))
    system.run(0.2)

    big = bytes(ord("a") + i % 26 for i in range(599)) + b"\n"   # more than the TX ring holds
    assert bytes(backend.output) == b"hello, uart\r\n\x01\xfe\n" + big
    out = system.output("uart_writer")
    assert "writer: hello 16" in out
    assert "writer: big 600" in out


def test_a_lease_outside_the_clients_memory_is_refused_by_the_kernel(board, guests):
    system, _ = with_clients(board, guests, ("uart_writer", None))
    system.run(0.2)

    assert f"writer: bad lease {Error.BAD_ADDRESS}" in system.output("uart_writer")


def test_wrong_leases_and_unknown_labels_get_error_replies(board, guests):
    system, _ = with_clients(board, guests, ("uart_writer", None))
    system.run(0.2)

    out = system.output("uart_writer")
    assert f"writer: read-only read 0 {Error.NO_RIGHTS}" in out
    assert f"writer: no lease 0 {Error.BAD_ARGUMENT}" in out
    assert f"writer: label 99 0 {UART_E_BAD_LABEL}" in out
    assert "writer: stats 0 rx 0 dropped 0 overruns 0" in out[-1]


def test_bytes_from_the_host_reach_a_waiting_read(board, guests):
    system, backend = with_clients(board, guests, ("uart_reader", None))
    system.run(0.01)
    backend.send(b"ping!")
    system.kernel.run_for(0.05)

    got = "".join(line.split(" ", 2)[2] for line in system.output("uart_reader"))
    assert got == "ping!"


def test_a_second_waiting_reader_gets_busy_and_the_first_gets_the_bytes(board, guests):
    system, backend = with_clients(board, guests, ("reader_a", "uart_reader"), ("reader_b", "uart_reader"))
    system.run(0.01)

    busy = [n for n in ("reader_a", "reader_b") if system.output(n) == [f"reader: error {UART_E_BUSY}"]]
    assert len(busy) == 1
    assert system.kernel.process(busy[0]).exit_code == 1
    waiting = ({"reader_a", "reader_b"} - set(busy)).pop()
    backend.send(b"x")
    system.kernel.run_for(0.01)
    assert system.output(waiting) == ["reader: 1 x"]


def test_an_echo_of_a_long_line_loses_no_byte(board, guests):
    system, backend = with_clients(board, guests, ("uart_echo_client", None))
    system.run(0.01)
    assert bytes(backend.output) == b"echo ready\n"
    backend.output.clear()

    line = bytes(ord("a") + i % 26 for i in range(100)) + b"\n"   # far more than the RX FIFO
    backend.send(line)
    system.kernel.run_for(0.1)

    assert bytes(backend.output) == line.upper()


def test_a_full_duplex_burst_of_many_lines_loses_no_byte(board, guests):
    system, backend = with_clients(board, guests, ("uart_echo_client", None))
    system.run(0.01)
    backend.output.clear()

    burst = b"".join(bytes(ord("a") + (i + j) % 26 for i in range(3 + j * 7 % 60)) + b"\n" for j in range(40))
    backend.send(burst)
    system.kernel.run_for(0.5)

    assert len(burst) > 1000
    assert bytes(backend.output) == burst.upper()
    assert getattr(system.machine.peripheral("uart0"), "rx_dropped", 0) == 0


def test_the_driver_sleeps_until_the_rx_interrupt_wakes_it(board, guests):
    system, backend = with_clients(board, guests, ("uart_echo_client", None))
    system.run(0.01)
    executed, interrupts = system.machine.counter.executed, system.kernel.stats.interrupts

    system.kernel.run_for(0.5)   # nothing on the line: nobody runs, no interrupt comes
    assert system.machine.counter.executed - executed == 0
    assert system.kernel.stats.interrupts == interrupts

    backend.output.clear()
    backend.send(b"wake\n")
    system.kernel.run_for(0.05)
    assert bytes(backend.output) == b"WAKE\n"
    assert system.kernel.stats.interrupts >= interrupts + 5   # at least one per byte received
    assert system.machine.counter.executed - executed < 20_000


def test_a_held_reader_that_died_does_not_keep_others_busy(board, guests):
    system, backend = with_clients(board, guests, ("uart_reader", None))
    system.run(0.01)
    reader = system.kernel.process("uart_reader")
    system.kernel.restart(reader)   # stops it while the server holds its READ, runs it anew
    system.kernel.run_for(0.01)
    backend.send(b"y")
    system.kernel.run_for(0.01)

    assert system.output("uart_reader") == ["reader: 1 y"]
