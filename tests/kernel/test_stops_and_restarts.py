"""What happens around a component that stops or restarts, on both boards: breakpoints
without a debugger, callers queued on a server that goes away, a client restarted while
it waits to send, over-long debug lines; and the kernel's own API refusing misuse."""

from __future__ import annotations

import pytest

from kernel.abi import Error, FaultCode, Label, Right
from kernel.caps import CapKind, SyscallError
from kernel.loader import LoadError
from kernel.process import State
from machine import FaultKind
from tests.kernel.scenario import add_bystander, bystander_intact
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def test_a_breakpoint_with_no_debugger_stops_the_component_with_a_breakpoint_fault(board, guests):
    system = System(board, guests)
    breaker = system.add("breaker", priority=3)
    add_bystander(system)

    system.run(0.02)

    assert system.output("breaker") == ["breaker: about to break"]
    assert breaker.thread.state is State.STOPPED
    assert breaker.last_fault.kind is FaultKind.BREAKPOINT
    assert bystander_intact(system)


def test_run_until_handles_breakpoints_and_faults_as_run_does(board, guests):
    system = System(board, guests)
    breaker = system.add("breaker", priority=3)
    wild = system.add("wild_write", priority=3)
    add_bystander(system)
    system.kernel.start()

    stop = system.kernel.run_until(lambda: system.kernel.all_exited(), 0.02)

    assert stop.reason == "timeout"  # two components stopped rather than exited
    assert breaker.last_fault.kind is FaultKind.BREAKPOINT
    assert wild.last_fault.kind is FaultKind.UNMAPPED
    assert bystander_intact(system)


def test_all_exited_becomes_true_when_the_last_component_exits(board, guests):
    system = System(board, guests)
    add_bystander(system)
    system.kernel.start()
    assert not system.kernel.all_exited()

    stop = system.kernel.run_until(system.kernel.all_exited, 0.05)

    assert stop.reason == "condition"
    assert bystander_intact(system)


def slow_system(board, guests) -> System:
    """slow_server (receives after 2 ms) with two callers, c1 and c2, queued on it."""
    system = System(board, guests)
    server = system.add("slow_server", priority=2)
    c1 = system.add("c1", "caller", priority=3)
    c2 = system.add("c2", "caller", priority=3)
    add_bystander(system)
    system.serve("slow", server, clients={c1: 2, c2: 2})
    system.run(0.001)
    assert c1.thread.state is c2.thread.state is State.SENDING
    return system


def test_callers_queued_on_a_server_that_stops_get_dead_peer(board, guests):
    system = slow_system(board, guests)

    system.kernel.restart(system.kernel.process("slow_server"))
    system.kernel.run_for(0.01)

    assert system.output("c1") == system.output("c2") == [f"caller: {Error.DEAD_PEER} 0"]
    assert system.output("slow_server") == []
    assert bystander_intact(system)


def test_a_client_restarted_while_waiting_to_send_leaves_no_stale_message(board, guests):
    system = slow_system(board, guests)
    c1 = system.kernel.process("c1")

    system.kernel.restart(c1)
    system.kernel.run_for(0.01)

    # one message from each caller, the restarted one's only once
    assert sorted(system.output("slow_server")) == sorted(
        f"slow: label 6 badge {c.index} status 0" for c in (c1, system.kernel.process("c2")))
    assert system.output("c1") == system.output("c2") == ["caller: 0 11"]
    assert bystander_intact(system)


def test_a_fault_of_a_component_whose_supervisor_serves_no_endpoint_is_only_logged(board, guests):
    system = System(board, guests)
    wild = system.add("wild_write", priority=3)
    sup = system.add("sup", "waiter", priority=4)
    wild.supervisor = sup
    add_bystander(system)

    system.run(0.02)

    assert wild.thread.state is State.STOPPED
    assert [(e.source, e.destination, e.label) for e in system.kernel.ipc_log if e.kind == "fault"][0] == (
        "wild_write", "sup", FaultCode.UNMAPPED)
    assert sup.thread.state is State.RECEIVING
    assert bystander_intact(system)


def test_a_debug_line_is_cut_at_4096_bytes(board, guests):
    system = System(board, guests)
    system.add("chatter")

    system.run(0.05)

    assert system.output("chatter") == ["x" * 4096, "chatter: done"]


def test_debug_lines_are_kept_in_the_log_with_no_listener(board, guests):
    system = System(board, guests)
    system.add("chatter")
    system.kernel.on_debug_line = None

    system.run(0.05)

    assert system.lines == []
    assert [text for _, c, text in system.kernel.debug_log] == ["x" * 4096, "chatter: done"]


def test_a_component_created_not_to_start_waits_until_restarted(board, guests):
    system = System(board, guests)
    later = system.add("later", "sleeper", start=False)

    system.run(0.01)
    assert system.output("later") == [] and later.thread.state is State.STOPPED
    system.kernel.restart(later)
    system.kernel.run_for(0.01)

    assert len(system.output("later")) == 5 and later.exit_code == 7


# -- the kernel's Python API refuses misuse with a message ------------------------------------

def test_routing_an_interrupt_output_the_peripheral_does_not_have_is_a_load_error(board, guests):
    system = System(board, guests)
    p = system.add("sleeper")

    with pytest.raises(LoadError, match=r"^uart0\.nonesuch is not wired to the interrupt controller$"):
        system.kernel.route_interrupt(p, "uart0", "nonesuch", 0)


def test_supervising_through_an_endpoint_the_supervisor_does_not_serve_is_refused(board, guests):
    system = System(board, guests)
    p = system.add("sleeper")
    sup = system.add("sup", "echo_server")
    other = system.add("other", "echo_server")
    ep = system.serve("faults", other)

    with pytest.raises(ValueError, match=r"^endpoint 'faults' is not served by 'sup'$"):
        system.kernel.supervise(p, sup, ep)


def test_looking_up_a_component_that_does_not_exist_names_it(board, guests):
    system = System(board, guests)

    with pytest.raises(KeyError, match="no component named 'ghost'"):
        system.kernel.process("ghost")


def test_a_fault_report_waits_for_a_busy_supervisor_to_receive(board, guests):
    system = System(board, guests)
    sup = system.add("slow_server", priority=2)  # receives only after 2 ms
    wild = system.add("wild_write", priority=3)
    add_bystander(system)
    system.kernel.supervise(wild, sup, system.serve("faults", sup))

    system.run(0.02)

    assert wild.thread.state is State.STOPPED
    assert system.output("slow_server") == [f"slow: label {int(Label.FAULT)} badge 0 status 0"]
    assert bystander_intact(system)


def test_restarting_a_component_that_is_ready_to_run_runs_it_once_from_the_start(board, guests):
    system = System(board, guests)
    a = system.add("a", "spinner", priority=4)
    system.add("b", "spinner", priority=4)
    system.run(0.0015)
    assert a.thread.state is State.READY  # b has the cpu

    at = system.machine.clock.now
    system.kernel.restart(a)
    system.kernel.run_for(0.1)

    after = lambda name: [int(text.split()[1]) for cycle, c, text in system.kernel.debug_log if c == name and cycle >= at]
    assert after("a") == list(range(len(after("a"))))
    assert len(after("a")) > 3 and abs(len(after("a")) - len(after("b"))) <= 2  # still one turn each


def test_granting_into_a_slot_in_use_is_refused(board, guests):
    system = System(board, guests)
    p = system.add("sleeper")
    system.kernel.grant(p, 3, CapKind.NOTIFICATION, p.thread, Right.SEND, 1)

    with pytest.raises(SyscallError) as e:
        system.kernel.grant(p, 3, CapKind.NOTIFICATION, p.thread, Right.SEND, 2)

    assert e.value.code is Error.SLOT_IN_USE
    assert p.caps.get(3).badge == 1
