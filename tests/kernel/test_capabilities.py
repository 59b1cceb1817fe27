"""Capabilities from C on both boards: deriving with fewer rights and a badge, revoking
every copy, deleting, moving (a reply capability kept to answer later), and the errors of
each. After every scenario a bystander component has run exactly as it would alone."""

from __future__ import annotations

import pytest

from kernel.abi import Error, FaultCode, Label, Right
from kernel.caps import CapKind
from kernel.process import State
from tests.kernel.scenario import add_bystander, bystander_intact, keeper_system, statuses
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


@pytest.fixture(scope="module", params=BOARDS)
def caps(request, guests):
    """cap_user with the echo endpoint in slot 2 (send, grant, no badge), a notification to
    itself in slot 20 (send) and one in slot 21 (receive only)."""
    system = System(request.param, guests)
    server = system.add("echo_server", priority=2)
    user = system.add("cap_user", priority=3)
    add_bystander(system)
    ep = system.kernel.create_endpoint("echo", server)
    system.kernel.grant(server, 1, CapKind.ENDPOINT, ep, Right.RECV)
    system.kernel.grant(user, 2, CapKind.ENDPOINT, ep, Right.SEND | Right.GRANT)
    system.kernel.grant(user, 20, CapKind.NOTIFICATION, user.thread, Right.SEND, 1)
    system.kernel.grant(user, 21, CapKind.NOTIFICATION, user.thread, Right.RECV, 2)
    system.run(0.05)
    system.steps = statuses(system, "cap_user", "caps")
    assert "done" in system.steps, system.output("cap_user")
    return system


@pytest.fixture(scope="module", params=BOARDS)
def keeper(request, guests):
    return keeper_system(request.param, guests)


def test_a_derived_copy_with_fewer_rights_and_a_badge_calls_and_the_server_sees_the_badge(caps):
    assert caps.steps["derive fewer rights with a badge"] == Error.OK
    assert caps.steps["call through the derived copy"] == Error.OK
    assert caps.output("echo_server")[0] == f"server: label 1 from badge {0x55}"
    assert bystander_intact(caps)


def test_deriving_more_rights_than_the_source_has_is_refused(caps):
    assert caps.steps["derive more rights"] == Error.NO_RIGHTS
    assert bystander_intact(caps)


def test_deriving_from_a_capability_without_the_grant_right_is_refused(caps):
    assert caps.steps["derive without the grant right"] == Error.NO_RIGHTS
    assert bystander_intact(caps)


def test_deriving_rights_the_abi_does_not_define_is_a_bad_argument(caps):
    assert caps.steps["derive unknown rights"] == Error.BAD_ARGUMENT
    assert bystander_intact(caps)


def test_a_badged_capability_cannot_be_badged_again(caps):
    assert caps.steps["derive a badged copy that may grant"] == Error.OK
    assert caps.steps["badge a badged capability"] == Error.BAD_ARGUMENT
    assert bystander_intact(caps)


def test_a_copy_of_a_badged_capability_keeps_its_badge(caps):
    assert caps.steps["derive from the badged copy keeping its badge"] == Error.OK
    assert caps.steps["call through the grandchild"] == Error.OK
    assert caps.output("echo_server")[1] == f"server: label 1 from badge {0x66}"
    assert bystander_intact(caps)


def test_deriving_into_a_slot_in_use_is_refused(caps):
    assert caps.steps["derive into a slot in use"] == Error.SLOT_IN_USE
    assert bystander_intact(caps)


def test_deriving_from_or_into_a_slot_outside_the_table_or_from_an_empty_one_is_a_bad_slot(caps):
    assert caps.steps["derive into slot 64"] == Error.BAD_SLOT
    assert caps.steps["derive from slot 64"] == Error.BAD_SLOT
    assert caps.steps["derive from an empty slot"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_revoke_deletes_children_and_grandchildren_so_calls_through_them_are_bad_slots(caps):
    assert caps.steps["revoke"] == Error.OK
    assert caps.steps["call through a revoked child"] == Error.BAD_SLOT
    assert caps.steps["call through a revoked grandchild"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_revoke_keeps_the_capability_itself_and_frees_the_slots_of_its_copies(caps):
    assert caps.steps["call through the original after revoke"] == Error.OK
    assert caps.steps["derive into a slot a revoke emptied"] == Error.OK
    assert bystander_intact(caps)


def test_revoking_an_empty_slot_or_one_outside_the_table_is_a_bad_slot(caps):
    assert caps.steps["revoke slot 64"] == Error.BAD_SLOT
    assert caps.steps["revoke an empty slot"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_a_deleted_capability_is_gone_and_deleting_again_is_a_bad_slot(caps):
    assert caps.steps["derive for delete"] == Error.OK
    assert caps.steps["delete"] == Error.OK
    assert caps.steps["call through a deleted slot"] == Error.BAD_SLOT
    assert caps.steps["delete an empty slot"] == Error.BAD_SLOT
    assert caps.steps["delete slot 64"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_a_moved_capability_works_from_its_new_slot_and_the_old_slot_is_empty(caps):
    assert caps.steps["move"] == Error.OK
    assert caps.steps["call through the moved capability"] == Error.OK
    assert caps.steps["call through the slot moved from"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_moving_into_a_slot_in_use_outside_the_table_or_from_an_empty_slot_is_refused(caps):
    assert caps.steps["move into a slot in use"] == Error.SLOT_IN_USE
    assert caps.steps["move into slot 64"] == Error.BAD_SLOT
    assert caps.steps["move from slot 64"] == Error.BAD_SLOT
    assert caps.steps["move from an empty slot"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_a_moved_capability_still_revokes_what_was_derived_from_it(caps):
    assert caps.steps["derive from the moved capability"] == Error.OK
    assert caps.steps["revoke the moved capability"] == Error.OK
    assert caps.steps["call through a child of the moved capability"] == Error.BAD_SLOT
    assert bystander_intact(caps)


def test_calls_and_notifies_check_the_kind_and_rights_of_the_capability(caps):
    assert caps.steps["call through a notification"] == Error.BAD_CAP_TYPE
    assert caps.steps["notify through an endpoint"] == Error.BAD_CAP_TYPE
    assert caps.steps["notify without the send right"] == Error.NO_RIGHTS
    assert caps.steps["notify"] == Error.OK
    assert bystander_intact(caps)


def test_a_reply_capability_cannot_be_derived(keeper):
    assert keeper.steps["derive from a reply"] == Error.BAD_CAP_TYPE
    assert bystander_intact(keeper)


def test_a_server_keeps_a_reply_capability_in_another_slot_and_replies_later(keeper):
    assert keeper.steps["move the reply"] == Error.OK
    assert keeper.steps["reply from the kept slot"] == Error.OK
    assert "client: kept reply 0 107" in keeper.output("keeper_client")
    assert bystander_intact(keeper)


def test_replying_through_an_empty_slot_an_endpoint_or_a_used_reply_is_refused(keeper):
    assert keeper.steps["reply through the emptied slot"] == Error.BAD_SLOT
    assert keeper.steps["reply through an endpoint"] == Error.BAD_CAP_TYPE
    assert keeper.steps["reply twice"] == Error.BAD_SLOT
    assert bystander_intact(keeper)


def test_a_send_returns_once_the_server_takes_it_and_has_nothing_to_reply_to(keeper):
    server = keeper.output("keeper_server")
    assert "client: send 0" in keeper.output("keeper_client")
    assert f"keeper: got label 2 status 0" in server
    assert keeper.steps["reply to a send"] == Error.BAD_SLOT
    assert bystander_intact(keeper)


def test_a_caller_whose_reply_capability_is_deleted_gets_no_reply(keeper):
    assert keeper.steps["delete the reply"] == Error.OK
    assert f"client: deleted reply {Error.NO_REPLY}" in keeper.output("keeper_client")
    assert bystander_intact(keeper)


def test_leases_reply_and_a_kept_reply_of_a_restarted_caller_give_dead_peer(keeper):
    assert keeper.steps["restart the caller"] == Error.OK
    assert keeper.steps["read a lease of a caller that is gone"] == Error.DEAD_PEER
    assert keeper.steps["write a lease of a caller that is gone"] == Error.DEAD_PEER
    assert keeper.steps["reply to a caller that is gone"] == Error.DEAD_PEER
    assert keeper.output("keeper_client")[-1] == "client: restarted as generation 1"
    assert bystander_intact(keeper)


def test_a_supervisor_restarting_a_running_component_gets_only_its_later_exit_report(keeper):
    index = keeper.kernel.process("keeper_client").index
    faults = [line for line in keeper.output("keeper_server") if line.startswith("keeper: fault of")]
    assert f"keeper: got label {int(Label.FAULT):x} status 0" in keeper.output("keeper_server")
    assert faults == [f"keeper: fault of {index} kind {int(FaultCode.EXITED)}"]
    assert bystander_intact(keeper)


def test_a_server_that_receives_again_without_replying_leaves_the_earlier_caller_with_no_reply(board, guests):
    system = System(board, guests)
    server = system.add("keeper_server", priority=2)  # ignores label 6: receives again
    first = system.add("first", "caller", priority=3)
    second = system.add("second", "caller", priority=4)
    add_bystander(system)
    system.serve("keeper", server, clients={first: 2, second: 2})

    system.run(0.02)

    assert system.output("first") == [f"caller: {Error.NO_REPLY} 0"]
    assert system.output("second") == [] and second.thread.state is State.REPLY_WAIT
    assert bystander_intact(system)
