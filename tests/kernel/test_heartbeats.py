"""The supervisor's heartbeats (servers/supervisor, the kernel's PING) and the default restart
limit, on both boards: a server that hangs, or that was stopped with nobody told, misses its
next heartbeat and comes back as a new generation; a component in a crash loop is held after
the default limit and costs nothing more while everything else keeps running.

The supervisor pings every component it supervises that serves an endpoint every 10 ms, with a
5 ms timeout; firmware/lib answers the ping inside every server's atl_recv/atl_reply_recv.
"""

from __future__ import annotations

import logging

import pytest

from kernel.abi import Error, FaultCode
from kernel.process import State
from machine import FaultKind
from tests.kernel.scenario import add_bystander, bystander_intact
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)
from tests.kernel.test_supervisor import starts_ms, supervised

HEARTBEAT_MS, TIMEOUT_MS = 10, 5


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def faults_of(system: System, component: str) -> list[tuple[float, int]]:
    """(virtual ms, fault code) of each fault the kernel reported for `component`."""
    hz = system.machine.clock.frequency_hz
    return [(e.cycle * 1e3 / hz, e.label) for e in system.kernel.ipc_log if e.kind == "fault" and e.source == component]


def test_a_server_that_hangs_holding_a_call_misses_its_heartbeat_and_is_restarted(board, guests):
    system = System(board, guests)
    server = system.add("hanger", priority=2)
    client = system.add("redialer", priority=3)
    system.serve("echo", server, clients={client: 2})
    supervised(system, "hanger")
    add_bystander(system)

    system.run(0.1)

    assert system.output("redialer") == [
        "redialer: echo 0 42",
        f"redialer: crash {Error.DEAD_PEER}",     # the server was restarted holding the call
        f"redialer: echo {Error.DEAD_PEER} 0",    # a new generation, told once
        "redialer: echo 0 42",                    # and the same capability works again
    ]
    [(at, code)] = faults_of(system, "hanger")
    assert code == FaultCode.HUNG and at <= HEARTBEAT_MS + TIMEOUT_MS + 0.5
    assert server.last_fault.kind is FaultKind.HUNG
    assert server.last_fault.detail == "no answer to its supervisor's heartbeat within 5000 us"
    assert server.generation == 1 and server.thread.state is State.RECEIVING
    [line] = system.output("supervisor")
    assert line.startswith(f"supervisor: component {server.index} missed its heartbeat (5 ms) at pc 0x")
    assert line.endswith(", restarting in 10 ms")
    assert bystander_intact(system)


def test_a_server_stopped_with_nobody_told_is_found_by_the_next_heartbeat(board, guests):
    system = System(board, guests)
    server = system.add("echo_server", priority=2)
    system.serve("echo", server)
    supervised(system, "echo_server")
    system.run(0.02)
    assert faults_of(system, "echo_server") == [] and server.answered_at is not None   # it answers them

    system.kernel.stop(server)
    stopped_ms = system.machine.clock.now * 1e3 / system.machine.clock.frequency_hz
    system.kernel.run_for(0.05)

    [(at, code)] = faults_of(system, "echo_server")
    assert code == FaultCode.HUNG and 0 < at - stopped_ms <= HEARTBEAT_MS + TIMEOUT_MS + 0.5
    assert server.restarts == 1 and server.thread.state is State.RECEIVING


def test_a_server_waiting_on_a_call_of_its_own_is_not_blamed_for_the_server_that_hangs(board, guests):
    system = System(board, guests)
    hanger = system.add("hanger", priority=1)
    relay = system.add("relay", priority=2)
    client = system.add("redialer", priority=3)
    system.serve("echo", hanger, clients={relay: 2})
    system.serve("relay", relay, clients={client: 2})
    supervised(system, "hanger", "relay")

    system.run(0.1)

    # the relay waited in its call to the hanger, unanswered, through several heartbeats of its own
    assert [code for _, code in faults_of(system, "hanger")] == [FaultCode.HUNG]
    assert faults_of(system, "relay") == [] and relay.generation == 0
    assert system.output("relay")[:2] == ["relay: 1 0", f"relay: 3 {Error.DEAD_PEER}"]
    assert system.output("redialer")[:2] == ["redialer: echo 0 42", "redialer: crash 0"]


def test_a_server_kept_from_the_cpu_by_a_more_urgent_component_is_not_blamed(board, guests):
    system = System(board, guests)
    system.add("spinner", priority=1)          # never blocks, supervised by nobody
    server = system.add("echo_server", priority=2)
    system.serve("echo", server)
    supervised(system, "echo_server")

    system.run(0.05)

    assert faults_of(system, "echo_server") == [] and server.answered_at is None
    assert server.ping is not None            # the first ping, still waiting for the CPU


def test_a_component_that_serves_no_endpoint_is_never_pinged(board, guests):
    system = System(board, guests)
    sleeper = system.add("sleeper", priority=3)
    supervised(system, "sleeper")

    system.run(0.05)     # it sleeps between its lines, exits with code 7, and is restarted

    faults = faults_of(system, "sleeper")
    assert len(faults) >= 2 and all(code == FaultCode.EXITED for _, code in faults)
    assert sleeper.exit_code == 7 and sleeper.restarts >= 1 and sleeper.last_fault is None


def test_a_component_in_a_crash_loop_is_held_after_the_default_limit_and_costs_nothing_more(board, guests, caplog):
    system = System(board, guests)
    looper = system.add("crashloop", priority=3)
    ticker = system.add("ticker", priority=4)
    supervised(system, "crashloop")

    with caplog.at_level(logging.INFO, logger="atoll.kernel"):
        system.run(5.0)
    # ten restarts (backoff 10, 20, 40 ... 640 ms, then 1 s), the 11th failure at about 4.27 s holds it
    starts = starts_ms(system, "crashloop", "crashloop: start")
    assert len(starts) == 11 and looper.restarts == 10
    assert looper.thread.state is State.STOPPED
    held = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert held == ["crashloop failed 11 times in 60000 ms: hold", "crashloop held (stopped) for inspection"]
    ticks = len(system.output("ticker"))

    system.kernel.run_for(5.0)

    # held: no start, fault or restart more, nothing more logged; virtual time and the others go on
    assert len(starts_ms(system, "crashloop", "crashloop: start")) == 11
    assert looper.restarts == 10 and looper.thread.faults == 11
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
    assert len(system.output("supervisor")) == 10
    assert len(system.output("ticker")) == ticks + 50
    assert ticker.thread.state is State.SLEEPING
