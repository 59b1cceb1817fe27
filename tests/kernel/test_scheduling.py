"""Fixed priorities, time-slice preemption, round-robin, sleeping and idle time jumps."""

from __future__ import annotations

import pytest

from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)


@pytest.fixture(params=BOARDS)
def board(request):
    return request.param


def test_threads_of_one_priority_share_the_cpu_round_robin(board, guests):
    system = System(board, guests)
    system.add("a", "spinner", priority=4)
    system.add("b", "spinner", priority=4)

    system.run(0.1)

    a, b = len(system.output("a")), len(system.output("b"))
    assert a > 3 and b > 3
    assert abs(a - b) <= 2


def test_a_more_urgent_thread_runs_first_and_a_busy_one_starves_the_less_urgent(board, guests):
    system = System(board, guests)
    system.add("low", "sleeper", priority=5)
    system.add("high", "spinner", priority=2)

    system.run(0.05)

    assert system.output("high")
    assert system.output("low") == []


def test_a_sleeping_thread_lets_others_run_and_wakes_on_time(board, guests):
    system = System(board, guests)
    system.add("sleeper", priority=2)
    system.add("spin", "spinner", priority=4)

    system.run(0.05)

    times = [int(line.split()[3]) for line in system.output("sleeper")]
    assert len(times) == 5
    # each round is the 500 us sleep plus the printing, which takes tens of microseconds
    assert all(500 <= b - a <= 650 for a, b in zip(times, times[1:])), times
    assert system.output("spin")


def test_with_every_thread_asleep_time_jumps_instead_of_executing(board, guests):
    system = System(board, guests)
    system.add("sleeper")

    system.run(5.0)

    assert system.machine.clock.seconds == pytest.approx(5.0)
    assert system.machine.counter.executed < 200_000


def test_notifications_wake_a_waiting_thread_with_the_capabilitys_bits(board, guests):
    from kernel.abi import Right
    from kernel.caps import CapKind

    system = System(board, guests)
    waiter = system.add("waiter", priority=3)
    notifier = system.add("notifier", priority=4)
    system.kernel.grant(notifier, 1, CapKind.NOTIFICATION, waiter.thread, Right.SEND, 0x4)

    system.run(0.05)

    assert system.output("waiter")[:3] == ["waiter: 0 bits 4"] * 3
    assert system.output("notifier") == ["notifier: notify 0"] * 3
    last = system.output("waiter")[3]
    assert last.startswith("waiter: timer 0 bits 100 after ")
    assert 1000 <= int(last.split()[-2]) <= 1020
