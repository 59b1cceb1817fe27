"""The virtual clock: cycle-counted time, events in order, exact conversions."""

import pytest

from machine.clock import Clock


class Counter:
    """Stands in for the CPU's instruction counter."""

    def __init__(self) -> None:
        self.executed = 0


@pytest.fixture
def clock():
    return Clock(1_000_000)


def recorder():
    """A list and a factory of callbacks that append (label, cycle) to it."""
    fired: list[tuple[str, int]] = []

    def at(clock: Clock, label: str):
        return lambda: fired.append((label, clock.now))
    return fired, at


# -- reading time ----------------------------------------------------------------------------


def test_a_new_clock_reads_zero(clock):
    assert (clock.now, clock.ns, clock.seconds) == (0, 0, 0.0)


def test_time_is_the_instruction_counter_plus_idle_cycles():
    cpu = Counter()
    clock = Clock(1000, cpu)
    cpu.executed = 40
    clock.advance(2)
    assert clock.now == 42


def test_time_is_read_live_from_the_instruction_counter():
    cpu = Counter()
    clock = Clock(1000, cpu)
    cpu.executed = 7
    assert clock.now == 7


def test_nanoseconds_are_exact_at_a_frequency_that_does_not_divide_a_second():
    clock = Clock(3)
    clock.advance(1)
    assert clock.ns == 333_333_333        # rounded down, computed in integers
    clock.advance(2)
    assert clock.ns == 1_000_000_000


def test_nanoseconds_stay_exact_after_a_long_time():
    clock = Clock(16_000_000)
    clock.advance(16_000_000 * 86_400 * 365 + 16)   # a year and one microsecond
    assert clock.ns == 86_400 * 365 * 1_000_000_000 + 1_000


def test_seconds_are_cycles_over_the_frequency():
    clock = Clock(25_000_000)
    clock.advance(12_500_000)
    assert clock.seconds == 0.5


def test_seconds_convert_to_whole_cycles():
    clock = Clock(16_000_000)
    assert clock.cycles(1) == 16_000_000
    assert clock.cycles(0.001) == 16_000
    assert clock.cycles(0.1) == 1_600_000


def test_seconds_convert_to_the_nearest_cycle():
    clock = Clock(3)
    assert clock.cycles(0.5) == 2          # 1.5 cycles rounds to even
    assert clock.cycles(0.4) == 1


def test_nanoseconds_convert_to_the_nearest_cycle():
    clock = Clock(16_000_000)
    assert clock.cycles_ns(1_000) == 16
    assert clock.cycles_ns(31) == 0        # 0.496 cycles
    assert clock.cycles_ns(32) == 1        # 0.512 cycles
    assert clock.cycles_ns(10**18) == 16 * 10**15


def test_nanoseconds_halfway_between_cycles_round_up():
    assert Clock(2).cycles_ns(250_000_000) == 1     # exactly half a cycle


@pytest.mark.parametrize("frequency", [0, -1, 1.5, True, "16MHz"])
def test_a_frequency_that_is_not_a_positive_integer_is_refused(frequency):
    with pytest.raises(ValueError) as excinfo:
        Clock(frequency)
    assert str(excinfo.value) == f"frequency must be a positive integer of Hz, not {frequency!r}"


# -- advancing ------------------------------------------------------------------------------


def test_advance_lands_exactly_on_the_target(clock):
    clock.advance(1234)
    clock.advance(0)
    clock.advance(6)
    assert clock.now == 1240


def test_advance_fires_the_events_that_fall_due_at_their_own_time(clock):
    fired, at = recorder()
    clock.schedule(10, at(clock, "a"))
    clock.schedule(25, at(clock, "b"))
    clock.advance(30)
    assert fired == [("a", 10), ("b", 25)]
    assert clock.now == 30


def test_advance_fires_an_event_due_exactly_at_the_target(clock):
    fired, at = recorder()
    clock.schedule(30, at(clock, "edge"))
    clock.advance(30)
    assert fired == [("edge", 30)]


def test_advance_leaves_later_events_pending(clock):
    fired, at = recorder()
    clock.schedule(31, at(clock, "later"))
    clock.advance(30)
    assert fired == []
    assert clock.next_deadline() == 31


def test_an_event_scheduled_by_an_event_fires_within_the_same_advance(clock):
    fired, at = recorder()
    clock.schedule(10, lambda: clock.after(5, at(clock, "chained")))
    clock.advance(20)
    assert fired == [("chained", 15)]


def test_advance_fires_overdue_events_without_turning_time_back():
    cpu = Counter()
    clock = Clock(1000, cpu)
    fired, at = recorder()
    clock.schedule(50, at(clock, "overdue"))
    cpu.executed = 100                       # the CPU ran past the event
    clock.advance(10)
    assert fired == [("overdue", 100)]
    assert clock.now == 110


def test_a_negative_advance_is_refused(clock):
    with pytest.raises(ValueError) as excinfo:
        clock.advance(-1)
    assert str(excinfo.value) == "cannot advance the clock by a negative amount (-1)"
    assert clock.now == 0


def test_an_advance_by_a_fraction_of_a_cycle_is_refused(clock):
    with pytest.raises(ValueError) as excinfo:
        clock.advance(1.5)
    assert str(excinfo.value) == "cannot advance the clock by 1.5: not a whole number of cycles"


def test_skip_to_moves_to_an_absolute_cycle(clock):
    fired, at = recorder()
    clock.schedule(70, at(clock, "a"))
    clock.skip_to(100)
    assert clock.now == 100 and fired == [("a", 70)]


def test_skip_to_a_passed_cycle_does_nothing(clock):
    clock.advance(100)
    clock.skip_to(40)
    assert clock.now == 100


# -- events ----------------------------------------------------------------------------------


def test_events_fire_in_time_order_whatever_order_they_were_scheduled_in(clock):
    fired, at = recorder()
    for when in (30, 10, 20):
        clock.schedule(when, at(clock, f"t{when}"))
    clock.advance(100)
    assert fired == [("t10", 10), ("t20", 20), ("t30", 30)]


def test_events_at_the_same_cycle_fire_in_the_order_they_were_scheduled(clock):
    fired, at = recorder()
    for label in "abcde":
        clock.schedule(10, at(clock, label))
    clock.advance(10)
    assert [label for label, _ in fired] == list("abcde")


def test_after_schedules_relative_to_now(clock):
    fired, at = recorder()
    clock.advance(100)
    clock.after(5, at(clock, "a"))
    assert clock.next_deadline() == 105


def test_an_event_scheduled_in_the_past_is_due_now(clock):
    fired, at = recorder()
    clock.advance(100)
    event = clock.schedule(40, at(clock, "late"))
    assert event.when == 100
    assert clock.fire_due() == 1
    assert fired == [("late", 100)]


def test_an_event_at_a_fraction_of_a_cycle_is_refused(clock):
    with pytest.raises(ValueError) as excinfo:
        clock.schedule(2.5, lambda: None)
    assert str(excinfo.value) == "cannot schedule an event at 2.5: not a whole number of cycles"


def test_a_cancelled_event_does_not_fire(clock):
    fired, at = recorder()
    clock.schedule(10, at(clock, "kept"))
    clock.schedule(10, at(clock, "dropped")).cancel()
    clock.advance(20)
    assert fired == [("kept", 10)]


def test_an_event_fires_only_once(clock):
    fired, at = recorder()
    clock.schedule(10, at(clock, "once"))
    clock.advance(10)
    assert clock.fire_due() == 0
    clock.advance(10)
    assert fired == [("once", 10)]


def test_cancelling_an_event_that_has_fired_does_nothing(clock):
    fired, at = recorder()
    event = clock.schedule(10, at(clock, "a"))
    clock.advance(10)
    event.cancel()
    assert fired == [("a", 10)]


def test_next_deadline_is_the_earliest_pending_event(clock):
    clock.schedule(30, lambda: None)
    clock.schedule(20, lambda: None)
    assert clock.next_deadline() == 20


def test_next_deadline_skips_cancelled_events(clock):
    clock.schedule(10, lambda: None).cancel()
    clock.schedule(20, lambda: None).cancel()
    clock.schedule(30, lambda: None)
    assert clock.next_deadline() == 30


def test_next_deadline_is_none_when_nothing_is_pending(clock):
    assert clock.next_deadline() is None
    clock.schedule(10, lambda: None).cancel()
    assert clock.next_deadline() is None


def test_fire_due_runs_only_what_is_due_and_counts_it():
    cpu = Counter()
    clock = Clock(1000, cpu)
    fired, at = recorder()
    clock.schedule(5, at(clock, "a"))
    clock.schedule(5, at(clock, "b"))
    clock.schedule(6, at(clock, "c"))
    cpu.executed = 5
    assert clock.fire_due() == 2
    assert fired == [("a", 5), ("b", 5)]


def test_reset_returns_time_to_zero_and_drops_pending_events():
    cpu = Counter()
    clock = Clock(1000, cpu)
    fired, at = recorder()
    cpu.executed = 500
    clock.advance(20)
    clock.schedule(600, at(clock, "dropped"))
    clock.reset()
    assert clock.now == 0
    assert clock.next_deadline() is None
    cpu.executed += 700
    clock.advance(0)
    assert fired == [] and clock.now == 700


def test_two_clocks_given_the_same_schedule_fire_at_the_same_cycles():
    runs = []
    for _ in range(2):
        clock = Clock(32_768)
        fired, at = recorder()
        for i, when in enumerate((7, 3, 7, 100, 3, 50)):
            clock.schedule(when, at(clock, str(i)))
        clock.advance(1000)
        runs.append(fired)
    assert runs[0] == runs[1] == [("1", 3), ("4", 3), ("0", 7), ("2", 7), ("5", 50), ("3", 100)]


def test_cycles_convert_to_whole_microseconds_rounded_down():
    from machine.clock import Clock

    clock = Clock(16_000_000)

    assert [clock.us(c) for c in (0, 15, 16, 16_000_000, 24_000_015)] == [0, 0, 1, 1_000_000, 1_500_000]


def test_an_event_cancelled_and_scheduled_again_many_times_leaves_a_bounded_queue():
    # a timer far in the future, replaced 10,000 times, behind a live event that comes first
    # (as the kernel's time slice does): the cancelled ones never reach the top of the heap,
    # so only a sweep removes them
    clock = Clock(1_000_000)
    fired, at = recorder()
    clock.schedule(10**8, at(clock, "slice"))
    timer = clock.schedule(10**9, at(clock, "far"))
    for i in range(10_000):
        timer.cancel()
        timer = clock.schedule(10**9 + i, at(clock, "far"))
        clock.advance(1)

    assert len(clock._queue) < 200
    clock.advance(10**9)
    assert fired.count(("far", 10**9 + 9_999)) == 1 and [f for f in fired if f[0] == "far"] == [("far", 10**9 + 9_999)]
