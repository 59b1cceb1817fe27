"""Notification bits, POLL, WAIT, RECV with a notification mask, TIMER_SET, YIELD and WFI
from C on both boards; a bystander component runs exactly as it would alone."""

from __future__ import annotations

import pytest

from kernel.abi import Error, Label, Right
from kernel.caps import CapKind
from tests.kernel.scenario import add_bystander, bystander_intact
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


@pytest.fixture(scope="module", params=BOARDS)
def notif(request, guests):
    """notif_user receiving on its own endpoint (slot 1), with a notification to itself (slot 3, bit 0x20)."""
    system = System(request.param, guests)
    user = system.add("notif_user", priority=3)
    add_bystander(system)
    ep = system.kernel.create_endpoint("quiet", user)
    system.kernel.grant(user, 1, CapKind.ENDPOINT, ep, Right.RECV)
    system.kernel.grant(user, 3, CapKind.NOTIFICATION, user.thread, Right.SEND, 0x20)
    system.run(0.05)
    system.steps = {}
    for line in system.output("notif_user"):  # "notif: <step> <status> <hex value>"
        words = line.removeprefix("notif: ").split()
        if not line.startswith(("notif: recv woken", "notif: recv with")):
            system.steps[" ".join(words[:-2])] = (int(words[-2]), int(words[-1], 16))
    return system


def test_poll_with_no_bits_set_would_block(notif):
    assert notif.steps["poll with no bits"] == (Error.WOULD_BLOCK, 0)
    assert bystander_intact(notif)


def test_poll_returns_and_clears_the_bits_that_are_set(notif):
    assert notif.steps["notify itself"][0] == Error.OK
    assert notif.steps["poll with the bit set"] == (Error.OK, 0x20)
    assert notif.steps["poll again"] == (Error.WOULD_BLOCK, 0)
    assert bystander_intact(notif)


def test_wait_with_an_empty_mask_is_a_bad_argument(notif):
    assert notif.steps["wait with mask 0"][0] == Error.BAD_ARGUMENT
    assert bystander_intact(notif)


def test_a_timer_with_no_bits_is_a_bad_argument(notif):
    assert notif.steps["timer with no bits"][0] == Error.BAD_ARGUMENT
    assert bystander_intact(notif)


def test_recv_with_a_mask_returns_the_timers_bits_at_the_deadline_as_a_notification(notif):
    line = next(x for x in notif.output("notif_user") if x.startswith("notif: recv woken by the timer"))
    words = line.split()
    assert words[6:11] == ["0", "label", f"{int(Label.NOTIFICATION):x}", "mr0", "2"]
    assert 700 <= int(words[-2]) <= 720
    assert bystander_intact(notif)


def test_recv_returns_at_once_when_a_masked_bit_is_already_set(notif):
    assert f"notif: recv with the bit already set 0 label {int(Label.NOTIFICATION):x} mr0 20" in notif.output("notif_user")
    assert bystander_intact(notif)


def test_setting_a_timer_again_replaces_the_earlier_one(notif):
    assert notif.steps["wait after replacing a timer"] == (Error.OK, 0x10)
    assert notif.steps["poll for the replaced timer"] == (Error.WOULD_BLOCK, 0)
    assert bystander_intact(notif)


def test_a_timer_whose_deadline_has_passed_fires_at_once(notif):
    assert notif.steps["timer in the past"][0] == Error.OK
    assert notif.steps["wait for the past timer"] == (Error.OK, 0x4)
    assert bystander_intact(notif)


def test_recv_on_a_notification_capability_is_the_wrong_kind(notif):
    assert notif.steps["recv on a notification"][0] == Error.BAD_CAP_TYPE
    assert notif.steps["ack interrupts it has none of"][0] == Error.OK
    assert notif.steps["done"][0] == 0
    assert bystander_intact(notif)


def order(system) -> list[tuple[str, str]]:
    return [(c, text) for _, c, text in system.kernel.debug_log if c in ("a", "b")]


def test_yield_hands_the_cpu_to_a_thread_of_the_same_priority(board, guests):
    system = System(board, guests)
    system.add("a", "yielder", priority=4)
    system.add("b", "yielder", priority=4)
    add_bystander(system)

    system.run(0.05)

    expected = [(c, f"yield {i} {0}") for i in range(5) for c in ("a", "b")]
    assert order(system) == expected
    assert bystander_intact(system)


def test_yield_with_no_other_thread_ready_returns_at_once(board, guests):
    system = System(board, guests)
    system.add("a", "yielder", priority=4)

    system.run(0.05)

    assert system.output("a") == [f"yield {i} 0" for i in range(5)]
    assert system.kernel.process("a").exit_code == 0


def test_wfi_in_user_mode_yields_like_yield(board, guests):
    system = System(board, guests)
    system.add("a", "wfi_user", priority=4)
    system.add("b", "wfi_user", priority=4)
    add_bystander(system)

    system.run(0.05)

    expected = [(c, f"wfi: {i}") for i in range(3) for c in ("a", "b")] + [("a", "wfi: done"), ("b", "wfi: done")]
    assert order(system) == expected
    assert bystander_intact(system)


def test_a_restarted_component_gets_neither_the_timer_nor_the_wake_up_of_its_previous_generation(board, guests):
    system = System(board, guests)
    timer = system.add("timer_restart")
    add_bystander(system)
    system.run(0.0005)  # generation 0 has set its timer (1 ms) and sleeps (3 ms)

    system.kernel.restart(timer)
    system.kernel.run_for(0.01)

    [line] = system.output("timer_restart")
    g, slept, poll = line.split()[2], int(line.split()[4]), int(line.split()[6])
    assert (g, poll) == ("1", Error.WOULD_BLOCK)
    assert 3000 <= slept <= 3020
    assert bystander_intact(system)


def test_a_component_restarted_with_a_notification_bit_pending_starts_with_no_bits(board, guests):
    system = System(board, guests)
    timer = system.add("timer_restart")
    add_bystander(system)
    system.run(0.002)  # generation 0's timer fired at 1 ms: bit 0x1 waits while it sleeps (3 ms)
    notified = [e.label for e in system.kernel.ipc_log if e.kind == "notify" and e.destination == "timer_restart"]
    assert notified == [0x1]

    system.kernel.restart(timer)
    system.kernel.run_for(0.01)

    [line] = system.output("timer_restart")
    g, poll = line.split()[2], int(line.split()[6])
    assert (g, poll) == ("1", Error.WOULD_BLOCK)
    assert bystander_intact(system)
