"""Bounded logs (machine/bounded.py): what they keep, and the count of what they let go.

Each test feeds a log and a plain list the same entries, one at a time and in batches,
and holds the log to the newest entries of the list and to `dropped + len == appended`.
"""

from __future__ import annotations

import copy
import pickle
import random

import pytest

from machine import BoundedLog, Ring


def _feed(log, seed: int, rounds: int = 400) -> list[int]:
    rng = random.Random(seed)
    appended: list[int] = []
    for _ in range(rounds):
        if rng.random() < 0.5:
            appended.append(len(appended))
            log.append(appended[-1])
        else:
            batch = list(range(len(appended), len(appended) + rng.randrange(0, 40)))
            appended += batch
            log.extend(batch if rng.random() < 0.5 else iter(batch))
    return appended


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("maxlen", [1, 7, 64])
def test_a_ring_keeps_the_newest_entries_and_counts_every_one_it_pushed_out(seed, maxlen):
    ring = Ring(maxlen=maxlen)
    appended = _feed(ring, seed)
    assert list(ring) == appended[-maxlen:]
    assert ring.dropped + len(ring) == len(appended)


def test_a_ring_without_a_maxlen_drops_nothing():
    ring = Ring()
    appended = _feed(ring, 1)
    assert list(ring) == appended and ring.dropped == 0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("limit", [1, 8, 100])
def test_a_bounded_log_keeps_its_newest_entries_within_its_capacity_and_counts_the_rest(seed, limit):
    log = BoundedLog(limit)
    rng = random.Random(seed)
    appended = []
    for _ in range(1000):
        appended.append(rng.random())
        log.append(appended[-1])
        assert len(log) <= log.capacity
    assert list(log) == appended[-len(log):] and len(log) >= limit
    assert log.dropped + len(log) == len(appended)


def test_a_bounded_log_copies_and_pickles_with_its_limit_and_count():
    log = BoundedLog(4, range(10))
    for twin in (copy.deepcopy(log), pickle.loads(pickle.dumps(log))):
        assert list(twin) == [6, 7, 8, 9] and twin.limit == 4 and twin.dropped == 6


def test_a_bounded_log_keeps_at_least_one_entry():
    with pytest.raises(ValueError, match="a bounded log keeps at least one entry, not 0"):
        BoundedLog(0)
