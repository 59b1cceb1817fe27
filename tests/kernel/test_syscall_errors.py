"""Wrong arguments from C on both boards: slots outside the table, pointers the caller may
not use, lease errors, RESTART, PING and COMPONENT_INFO misuse, and a component issuing
thousands of random syscalls. Each gets a defined status (or stops the caller); no
Python exception leaves the kernel and a bystander component runs exactly as alone."""

from __future__ import annotations

import pytest

from kernel.abi import ComponentState, Error, FaultCode, Right
from kernel.caps import CapKind
from kernel.process import State
from tests.kernel.scenario import add_bystander, bystander_intact, keeper_system, statuses
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)

SLOT_SYSCALLS = ("send", "recv", "call", "reply", "reply_recv", "notify", "lease_read", "lease_write",
                 "cap_derive_from", "cap_derive_to", "cap_revoke", "cap_delete", "cap_move_from", "cap_move_to")


def echo_system(board, guests, client: str, **kw) -> System:
    system = System(board, guests)
    server = system.add("echo_server", priority=2)
    user = system.add(client, priority=3, **kw)
    add_bystander(system)
    system.serve("echo", server, clients={user: 2})
    return system


@pytest.fixture(scope="module", params=BOARDS)
def slots(request, guests):
    system = echo_system(request.param, guests, "bad_slots")
    system.run(0.05)
    return system


@pytest.fixture(scope="module", params=BOARDS)
def pointers(request, guests):
    system = echo_system(request.param, guests, "bad_pointers", uses={"uart0": 0x6000_0000})
    system.run(0.05)
    system.steps = statuses(system, "bad_pointers", "pointers")
    return system


@pytest.fixture(scope="module", params=BOARDS)
def keeper(request, guests):
    return keeper_system(request.param, guests)


@pytest.fixture(scope="module", params=BOARDS)
def info(request, guests):
    system = System(request.param, guests)
    system.add("info_user", priority=4)
    system.add("waiter", priority=2)  # more urgent: it is blocked before info_user asks
    add_bystander(system)
    system.run(0.05)
    return system


@pytest.mark.parametrize("slot", ["40", "ffffffff"])
def test_every_syscall_that_names_a_slot_refuses_one_outside_the_table(slots, slot):
    got = {}
    for line in slots.output("bad_slots"):
        parts = line.split()
        if len(parts) == 4 and parts[2] == slot:
            got[parts[1]] = int(parts[3])
    assert got == {name: Error.BAD_SLOT for name in SLOT_SYSCALLS}
    assert bystander_intact(slots)


def test_after_bad_slots_the_components_own_capabilities_still_work(slots):
    assert slots.output("bad_slots")[-1] == "slots: echo afterwards 0 6"
    assert bystander_intact(slots)


def test_a_lease_array_the_caller_may_not_read_is_a_bad_address(pointers):
    assert pointers.steps["unmapped lease array"] == Error.BAD_ADDRESS
    assert pointers.steps["lease array past 4 GiB"] == Error.BAD_ADDRESS
    assert bystander_intact(pointers)


def test_more_leases_than_the_limit_are_too_long(pointers):
    assert pointers.steps["five leases"] == Error.TOO_LONG
    assert pointers.steps["2^32-1 leases"] == Error.TOO_LONG
    assert bystander_intact(pointers)


def test_a_lease_with_no_or_unknown_rights_is_a_bad_argument(pointers):
    assert pointers.steps["lease with no rights"] == Error.BAD_ARGUMENT
    assert pointers.steps["lease with unknown rights"] == Error.BAD_ARGUMENT
    assert bystander_intact(pointers)


def test_a_lease_over_64_kib_is_too_long(pointers):
    assert pointers.steps["lease over 64 KiB"] == Error.TOO_LONG
    assert bystander_intact(pointers)


def test_a_lease_of_memory_the_caller_may_not_use_as_lent_is_a_bad_address(pointers):
    for step in ("lease past 4 GiB", "lease of unmapped memory", "writable lease of code",
                 "lease running off its mapping"):
        assert pointers.steps[step] == Error.BAD_ADDRESS, step
    assert bystander_intact(pointers)


def test_a_lease_of_a_mapped_peripheral_is_a_bad_address(pointers):
    assert pointers.steps["lease of a peripheral"] == Error.BAD_ADDRESS
    assert bystander_intact(pointers)


def test_refused_leases_never_reach_the_server_and_calls_without_leases_do(pointers):
    assert pointers.output("bad_pointers")[-2:] == ["pointers: empty lease array 0 10",
                                                     "pointers: empty lease anywhere 0 10"]
    assert len(pointers.output("echo_server")) == 2
    assert bystander_intact(pointers)


def test_lease_errors_index_rights_and_offset(keeper):
    assert keeper.steps["read lease 9"] == Error.BAD_ARGUMENT
    assert keeper.steps["read a write-only lease"] == Error.NO_RIGHTS
    assert keeper.steps["write a read-only lease"] == Error.NO_RIGHTS
    assert keeper.steps["read past the end"] == Error.TOO_LONG
    assert bystander_intact(keeper)


def test_a_lease_read_stops_at_the_end_of_the_lease(keeper):
    out = keeper.output("keeper_server")
    assert "keeper: read at the end 0 copied 0" in out
    assert "keeper: read the tail 0 copied 6 abcdef" in out
    assert bystander_intact(keeper)


def test_a_lease_copy_to_or_from_a_buffer_the_server_may_not_use_is_a_bad_address(keeper):
    assert keeper.steps["read into an unmapped buffer"] == Error.BAD_ADDRESS
    assert keeper.steps["read into read-only memory"] == Error.BAD_ADDRESS
    assert keeper.steps["write from an unmapped buffer"] == Error.BAD_ADDRESS
    assert bystander_intact(keeper)


def test_lease_calls_need_a_reply_capability_in_a_slot_of_the_table(keeper):
    assert keeper.steps["read through slot 64"] == Error.BAD_SLOT
    assert keeper.steps["write through slot 64"] == Error.BAD_SLOT
    assert keeper.steps["read through an endpoint"] == Error.BAD_CAP_TYPE
    assert keeper.steps["read after the reply"] == Error.BAD_SLOT
    assert bystander_intact(keeper)


def test_a_lease_write_lands_in_the_callers_memory(keeper):
    assert "keeper: write 0 copied 2" in keeper.output("keeper_server")
    assert "client: leases 0 ok" in keeper.output("keeper_client")
    assert bystander_intact(keeper)


def test_component_info_gives_the_name_state_priority_generation_and_faults(info):
    out = info.output("info_user")
    assert out[0] == f"info: self 0 name info_user state {int(ComponentState.RUNNING)} priority 4 generation 0 faults 0"
    assert out[1] == f"info: waiter 0 state {int(ComponentState.RECEIVING)}"
    assert bystander_intact(info)


def test_component_info_copies_at_most_the_length_asked_for(info):
    assert "info: three bytes of the name 0 wai" in info.output("info_user")
    assert bystander_intact(info)


def test_component_info_of_an_index_that_does_not_exist_is_a_bad_argument(info):
    out = info.output("info_user")
    assert f"info: index 0 {Error.BAD_ARGUMENT}" in out
    assert f"info: index 99 {Error.BAD_ARGUMENT}" in out
    assert bystander_intact(info)


def test_component_info_into_a_buffer_the_caller_may_not_write_is_a_bad_address(info):
    out = info.output("info_user")
    for what in ("unmapped name buffer", "read-only name buffer", "name buffer past 4 GiB"):
        assert f"info: {what} {Error.BAD_ADDRESS}" in out
    assert bystander_intact(info)


def test_restart_by_a_component_that_supervises_nobody_is_refused(info):
    out = info.output("info_user")
    assert f"info: restart itself {Error.NO_RIGHTS}" in out
    assert f"info: restart the waiter {Error.NO_RIGHTS}" in out
    waiter = info.kernel.process("waiter")
    assert waiter.generation == 0 and waiter.thread.state is State.RECEIVING
    assert bystander_intact(info)


def test_ping_by_a_component_that_supervises_nobody_is_refused_and_sends_nothing(info):
    assert f"info: ping the waiter {Error.NO_RIGHTS}" in info.output("info_user")
    waiter = info.kernel.process("waiter")
    assert waiter.ping is None and waiter.answered_at is None and waiter.thread.state is State.RECEIVING
    assert bystander_intact(info)


def test_ping_of_an_index_that_does_not_exist_or_with_a_timeout_out_of_range_is_a_bad_argument(info):
    out = info.output("info_user")
    for what in ("index 0", "index 99", "with timeout 0", "with a timeout past 10 s"):
        assert f"info: ping {what} {Error.BAD_ARGUMENT}" in out
    assert bystander_intact(info)


def test_restart_of_an_index_that_does_not_exist_is_a_bad_argument(info):
    out = info.output("info_user")
    assert f"info: restart index 0 {Error.BAD_ARGUMENT}" in out
    assert f"info: restart index 99 {Error.BAD_ARGUMENT}" in out
    assert out[-1] == "info: done"
    assert bystander_intact(info)


@pytest.fixture(scope="module", params=BOARDS)
def fuzz(request, guests):
    """The fuzzer with a send capability to an echo server and a notification to a listener."""
    system = System(request.param, guests)
    server = system.add("echo_server", priority=2)
    fuzzer = system.add("fuzzer", priority=4)
    listener = system.add("listener", "sleeper", priority=4)
    add_bystander(system)
    system.serve("echo", server, clients={fuzzer: 1})
    system.kernel.grant(fuzzer, 2, CapKind.NOTIFICATION, listener.thread, Right.SEND, 0x10)
    system.run(0.5)  # an exception escaping the kernel would fail the fixture here
    return system


def test_thousands_of_random_syscalls_get_statuses_and_the_fuzzer_finishes(fuzz):
    done = [line for line in fuzz.output("fuzzer") if line.startswith("fuzz: done ")]
    assert len(done) == 1
    calls, errors = map(int, done[0].split()[2:])
    assert calls == 3000 and 0 < errors < calls


def test_the_random_syscalls_leave_every_other_component_as_it_would_be_alone(fuzz):
    assert bystander_intact(fuzz)
    assert [line.split(" at ")[0] for line in fuzz.output("listener")] == [f"sleeper {i}" for i in range(5)]
    server = fuzz.kernel.process("echo_server")
    assert server.last_fault is None and server.thread.state is State.RECEIVING


def test_an_unknown_syscall_number_after_the_fuzzing_stops_only_the_fuzzer(fuzz):
    fuzzer = fuzz.kernel.process("fuzzer")
    assert fuzzer.thread.state is State.STOPPED
    assert "unknown syscall" in fuzzer.last_fault.detail
    assert "fuzz: still here" not in fuzz.output("fuzzer")
    stops = [(e.source, e.label) for e in fuzz.kernel.ipc_log if e.kind == "fault" and e.label != FaultCode.EXITED]
    assert stops == [("fuzzer", FaultCode.BAD_SYSCALL)]
    assert fuzz.kernel.stats.faults == 1
