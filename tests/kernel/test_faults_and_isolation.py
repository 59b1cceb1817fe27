"""A component that misbehaves is stopped and reported; nothing else is touched."""

from __future__ import annotations

import pytest

from kernel.abi import FaultCode, Label
from kernel.process import State
from machine import AccessKind, FaultKind
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def test_a_write_outside_its_memory_stops_the_component_with_the_fault_and_the_rest_runs(board, guests):
    system = System(board, guests)
    wild = system.add("wild_write", priority=3)
    system.add("sleeper", priority=4)

    system.run(0.02)

    assert system.output("wild_write") == ["wild: about to write outside"]
    assert wild.thread.state is State.STOPPED
    fault = wild.last_fault
    assert (fault.kind, fault.address, fault.access, fault.space) == (
        FaultKind.UNMAPPED, 0x00F0_0000, AccessKind.WRITE, "wild_write")
    assert len(system.output("sleeper")) == 5
    assert system.kernel.process("sleeper").exit_code == 7


def test_an_unknown_syscall_is_a_fault_of_the_caller(board, guests):
    system = System(board, guests)
    bad = system.add("bad_syscall")

    system.run(0.01)

    assert system.output("bad_syscall") == ["bad: calling syscall 99"]
    assert bad.thread.state is State.STOPPED
    assert "unknown syscall 99" in bad.last_fault.detail


def test_a_component_reaches_no_mmio_it_was_not_given(board, guests):
    system = System(board, guests)
    probe = system.add("mmio_probe")

    system.run(0.01)

    assert system.output("mmio_probe") == ["probe: reading uart0"]
    assert probe.last_fault.kind is FaultKind.UNMAPPED


def test_a_component_given_a_peripheral_reaches_it_at_the_address_it_was_mapped(board, guests):
    system = System(board, guests)
    uart = system.machine.board.peripheral("uart0")
    system.add("mmio_probe", uses={"uart0": uart.base})

    system.run(0.01)

    assert system.output("mmio_probe")[-1].startswith("probe: read ")
    assert system.kernel.process("mmio_probe").exit_code == 0


def test_two_instances_of_one_elf_run_side_by_side_at_the_same_addresses(board, guests):
    system = System(board, guests)
    first = system.add("one", "sleeper")
    second = system.add("two", "sleeper")

    system.run(0.02)

    assert len(system.output("one")) == len(system.output("two")) == 5
    code = lambda p: next(m for m in p.space.mappings if m.name == "image")
    assert code(first).vbase == code(second).vbase
    assert code(first).pbase != code(second).pbase


def test_a_fault_is_reported_to_the_supervisor_as_a_fault_message(board, guests):
    system = System(board, guests)
    wild = system.add("wild_write", priority=3)
    sup = system.add("sup", "echo_server", priority=1)
    system.serve("faults", sup)
    wild.supervisor = sup

    system.run(0.02)

    # echo_server prints the label of every message it receives
    assert system.output("sup") == [f"server: label {int(Label.FAULT)} from badge 0"]
    assert system.kernel.stats.faults == 1


def test_a_restarted_component_runs_again_as_a_new_generation(board, guests):
    system = System(board, guests)
    sleeper = system.add("sleeper")
    system.run(0.02)
    assert sleeper.thread.state is State.EXITED

    system.kernel.restart(sleeper)
    system.kernel.run_for(0.02)

    assert sleeper.generation == 1
    assert len(system.output("sleeper")) == 10
    assert system.kernel.stats.restarts == 1


def test_faults_go_to_the_named_fault_endpoint_even_if_the_supervisor_serves_others_first(board, guests):
    system = System(board, guests)
    wild = system.add("wild_write", priority=3)
    sup = system.add("sup", "echo_server", priority=1)
    system.serve("status", sup, slot=2)
    faults = system.serve("faults", sup, slot=1)
    system.kernel.supervise(wild, sup, faults)

    system.run(0.02)

    assert system.output("sup") == [f"server: label {int(Label.FAULT)} from badge 0"]
    assert system.kernel.endpoints["status"].kernel_messages == []


def test_a_component_cannot_send_a_message_with_a_kernel_label(board, guests):
    from kernel.abi import Error

    system = System(board, guests)
    server = system.add("echo_server", priority=2)
    forger = system.add("forger", priority=3)
    system.serve("echo", server, clients={forger: 2})

    system.run(0.02)

    assert system.output("forger") == [f"forger: {Error.BAD_ARGUMENT}"]
    assert system.output("echo_server") == []


def test_slot_zero_takes_no_capability_but_the_kernels_replies(board, guests):
    from kernel.abi import Error

    system = System(board, guests)
    server = system.add("echo_server", priority=2)
    client = system.add("slot_zero", priority=3)
    system.serve("echo", server, clients={client: 2})

    system.run(0.02)

    assert system.output("slot_zero") == [f"derive into 0: {Error.BAD_SLOT}", f"move into 0: {Error.BAD_SLOT}",
                                          "derive into 5: 0"]


def test_a_component_cannot_be_its_own_supervisor(guests):
    system = System("hifive1", guests)
    sup = system.add("sup", "echo_server")
    faults = system.serve("faults", sup)

    with pytest.raises(ValueError, match="'sup' cannot supervise itself"):
        system.kernel.supervise(sup, sup, faults)
