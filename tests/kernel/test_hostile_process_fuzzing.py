"""A hostile process fuzzing the syscall interface on both boards, 100,000 random calls each.

tests/kernel/guest/hostile is one ELF with four roles (see its header). The system:

    echo     echo_server, priority 2; the hostile may call it (slot 1)
    quiet    echo_server, priority 2; blocked in RECV for the whole run; the hostile holds only
             a notification to it (slot 3), whose bits it never waits for
    lender   priority 3; CALLs the hostile's endpoint forever, lending four ranges of its memory
    hostile  priority 4, not started at boot; random syscalls; slot 4 receives on its endpoint
    checker  priority 3, not started at boot; calls echo and quiet once the fuzzing is over

The harness (this file) starts the hostile once the others are blocked, and restarts it every
time it stops: an unknown syscall number (a fault) or an EXIT, both of which it chooses about
once in 700 calls; it mixes the time and its generation into its seed, so every generation
fuzzes differently. Once 100,000 random calls are made, the next stop ends the fuzzing.

What is observed, from Python:
- every syscall of the hostile through the kernel's `on_syscall` observer;
- every result the kernel writes for it, by wrapping `Kernel.ret` (the one place results are
  written, to the CPU or to a blocked thread's saved context); a call must get exactly one
  result before the next call, or stop the hostile (unknown number, EXIT);
- the hostile's own count of calls and of the statuses it saw in its result register
  (`hostile_state` in its memory, read before each restart), which must agree with both;
- a digest of every page of board memory (every RAM and flash region, and the machine's
  sentinel page) before the hostile first runs and after it last stops. Only these may change:
  the hostile's own pages, the echo server's stack (it serves the hostile's calls), and the
  bytes of the lender's two writable leases. Everything else, the lender's stack and every
  other byte of its data page included, must be as it was.

Last, an expected failure: each TIMER_SET leaves a cancelled clock event behind for good when
the earlier deadline was far ahead (see its reason), which the fuzzing itself hits too.
"""

from __future__ import annotations

import collections
import gc
import hashlib
import struct
import time
import traceback

import pytest

from kernel.abi import Error, Right, Sys
from kernel.caps import CapKind
from kernel.process import State
from machine import PAGE_SIZE, Event, read_elf, symbols
from tests.kernel.system_harness import BOARDS, System, guests  # noqa: F401  (fixture)

TARGET = 100_000            #: random calls per board, at least
HOSTILE_STACK = 8192        #: as HOSTILE_STACK in the guest
STATUS_KINDS = 13           #: the guest's status histogram: 0 .. -11, then anything else
SENTINEL_PAGE = 0xFFFFF000  #: the machine's page of undefined instructions (docs/ARCHITECTURE.md)
STATUSES = {int(e) for e in Error}
WINDOW = 0.25               #: seconds of virtual time in which the hostile must make some call
TIMER_RESETS = 20_000       #: as TIMER_RESETS in the guest


class Witness:
    """The hostile's syscalls and the results the kernel writes for it."""

    def __init__(self, kernel, process) -> None:
        self.process = process
        self.calls = 0
        self.numbers: collections.Counter[int] = collections.Counter()
        #: number -> status -> how many
        self.answers: dict[int, collections.Counter[int]] = collections.defaultdict(collections.Counter)
        #: the number of the call waiting for its result, if any
        self.outstanding: int | None = None
        #: (number of the call that stopped the process, its state then)
        self.stops: list[tuple[int | None, State]] = []
        #: bytes LEASE_READ and LEASE_WRITE copied
        self.copied: collections.Counter[int] = collections.Counter()
        self.problems: list[str] = []
        self._ret = kernel.traps.ret
        kernel.on_syscall = self.syscall
        kernel.traps.ret = self.ret   # an instance attribute: every result the kernel writes comes here

    def syscall(self, cycle: int, component: str, number: int) -> None:
        if component != self.process.name:
            return
        if self.outstanding is not None and len(self.problems) < 20:
            self.problems.append(f"call {self.calls} (number {self.outstanding}) got no result "
                                 f"before call {self.calls + 1} (number {number}) at cycle {cycle}")
        self.calls += 1
        self.numbers[number] += 1
        self.outstanding = number

    def ret(self, t, status, *values) -> None:
        self._ret(t, status, *values)
        if t.process is not self.process:
            return
        if self.outstanding is None:
            if len(self.problems) < 20:
                self.problems.append(f"a result {status!r} with no call waiting for it, after call {self.calls}")
            return
        self.answers[self.outstanding][int(status)] += 1
        if self.outstanding in (Sys.LEASE_READ, Sys.LEASE_WRITE) and status == Error.OK:
            self.copied[self.outstanding] += values[0]
        self.outstanding = None

    def stopped(self) -> None:
        self.stops.append((self.outstanding, self.process.thread.state))
        self.outstanding = None

    def statuses(self) -> collections.Counter[int]:
        total: collections.Counter[int] = collections.Counter()
        for by_status in self.answers.values():
            total.update(by_status)
        return total


def _page_digests(machine, skip: set[int], blank: dict[int, list[tuple[int, int]]]) -> dict[int, bytes]:
    """{physical page: digest} of every page of board memory and the sentinel page, except the
    pages in `skip`; in the pages of `blank`, the given (start, end) byte ranges count as zero."""
    areas = [(r.base, r.size) for r in machine.board.regions] + [(SENTINEL_PAGE, PAGE_SIZE)]
    out = {}
    for base, size in areas:
        data = machine.read_physical(base, size)
        for offset in range(0, size, PAGE_SIZE):
            page = base + offset
            if page in skip:
                continue
            chunk = data[offset:offset + PAGE_SIZE]
            if page in blank:
                chunk = bytearray(chunk)
                for start, end in blank[page]:
                    chunk[start:end] = bytes(end - start)
            out[page] = hashlib.blake2b(chunk, digest_size=16).digest()
    return out


class HostileRun:
    def __init__(self, board: str, guests) -> None:
        self.board = board
        system = self.system = System(board, guests)
        k = self.kernel = system.kernel
        self.echo = system.add("echo_server", priority=2)
        self.quiet = system.add("quiet", "echo_server", priority=2)
        self.lender = system.add("lender", "hostile", priority=3)
        self.checker = system.add("checker", "hostile", priority=3, start=False)
        self.hostile = system.add("hostile", priority=4, stack=HOSTILE_STACK, start=False)
        echo_ep = system.serve("echo", self.echo)
        quiet_ep = system.serve("quiet", self.quiet)
        own_ep = k.create_endpoint("hostile", self.hostile)
        k.grant(self.hostile, 1, CapKind.ENDPOINT, echo_ep, Right.SEND | Right.GRANT)
        k.grant(self.hostile, 2, CapKind.NOTIFICATION, self.hostile.thread, Right.SEND | Right.GRANT, badge=0xF0)
        k.grant(self.hostile, 3, CapKind.NOTIFICATION, self.quiet.thread, Right.SEND | Right.GRANT)
        k.grant(self.hostile, 4, CapKind.ENDPOINT, own_ep, Right.RECV | Right.GRANT)
        k.grant(self.hostile, 5, CapKind.NOTIFICATION, self.hostile.thread, Right.SEND | Right.GRANT)
        k.grant(self.lender, 1, CapKind.ENDPOINT, own_ep, Right.SEND)
        k.grant(self.checker, 1, CapKind.ENDPOINT, echo_ep, Right.SEND)
        k.grant(self.checker, 2, CapKind.ENDPOINT, quiet_ep, Right.SEND)
        self.symbols = symbols(read_elf(guests[system.isa, "hostile"], system.isa))
        self.generations: list[dict] = []
        self.witness: Witness | None = None
        self.error: str | None = None
        self.wall = 0.0

    # -- the hostile's own counters ------------------------------------------------------

    def counters(self) -> dict:
        """hostile_state's counters, as the hostile's memory holds them now."""
        words = struct.unpack("<16I", self.kernel.machine.read_virtual(
            self.hostile.space, self.symbols["hostile_state"], 16 * 4))
        return {"issued": words[0], "fuzzed": words[1], "statuses": words[2:2 + STATUS_KINDS],
                "seed": words[2 + STATUS_KINDS]}

    def fuzzed(self) -> int:
        return sum(g["fuzzed"] for g in self.generations)

    # -- memory -------------------------------------------------------------------------

    def _frames(self, process, name: str | None = None) -> set[int]:
        return {m.pbase + off for m in process.space.mappings if name is None or m.name == name
                for off in range(0, m.size, PAGE_SIZE)}

    def _physical(self, process, vaddr: int) -> int:
        m = process.space.lookup(vaddr)
        return m.pbase + (vaddr - m.vbase)

    def lent_ranges(self) -> dict[int, list[tuple[int, int]]]:
        """The lender's writable leases: {physical page: [(start, end) in the page]}."""
        base = self.symbols["lender_state"]
        out: dict[int, list[tuple[int, int]]] = collections.defaultdict(list)
        for offset, size in ((64, 48), (64 + 48 + 64, 32)):   # sink and both (struct lender)
            for vaddr in range(base + offset, base + offset + size):
                phys = self._physical(self.lender, vaddr)
                page = phys & ~(PAGE_SIZE - 1)
                ranges = out[page]
                if ranges and ranges[-1][1] == phys - page:
                    ranges[-1] = (ranges[-1][0], phys - page + 1)
                else:
                    ranges.append((phys - page, phys - page + 1))
        return out

    def digests(self) -> dict[int, bytes]:
        may_change = self._frames(self.hostile) | self._frames(self.echo, "stack")
        return _page_digests(self.kernel.machine, may_change, self.lent_ranges())

    def lent_bytes(self) -> bytes:
        base = self.symbols["lender_state"]
        return self.kernel.machine.read_virtual(self.lender.space, base + 64, 48 + 64 + 32)

    def owner(self, page: int) -> str:
        for p in self.kernel.processes:
            for m in p.space.mappings:
                if m.pbase <= page < m.pbase + m.size:
                    return f"{p.name} {m.name} page at virtual {m.vbase + page - m.pbase:#x}"
        return "no component"

    # -- running --------------------------------------------------------------------------

    def run(self) -> None:
        k = self.kernel
        hostile = self.hostile
        start = time.perf_counter()
        try:
            self.system.run(0.01)   # echo and quiet wait in RECV; the lender's calls find no server yet
            assert self.echo.thread.state is State.RECEIVING and self.quiet.thread.state is State.RECEIVING
            self.lent_before = self.lent_bytes()
            self.before = self.digests()
            self.witness = Witness(k, hostile)
            k.restart(hostile)      # its first start (generation 1)
            stopped = lambda: hostile.thread.state in (State.STOPPED, State.EXITED)  # noqa: E731
            while True:
                calls = self.witness.calls
                stop = k.run_until(stopped, WINDOW)
                if not stopped():
                    if self.witness.calls == calls:
                        raise AssertionError(f"the hostile made no syscall in {WINDOW} s: {hostile.thread!r}")
                    continue
                self.generations.append(self.counters())
                self.witness.stopped()
                if self.fuzzed() >= TARGET:
                    break
                k.restart(hostile)
            self.stop = stop
            self.after = self.digests()
            self.lent_after = self.lent_bytes()
            k.restart(self.checker)
            k.run_until(lambda: self.checker.thread.state is State.EXITED, 0.05)
        except Exception:
            self.error = traceback.format_exc()
        self.wall = time.perf_counter() - start


@pytest.fixture(scope="module", params=BOARDS)
def fuzzed(request, guests):
    run = HostileRun(request.param, guests)
    run.run()
    print(f"\n{run.board}: {run.witness.calls if run.witness else 0} hostile syscalls, "
          f"{run.fuzzed()} random, {len(run.generations)} generations, {run.wall:.1f} s")
    return run


def _ran(run: HostileRun) -> None:
    assert run.error is None, run.error


def test_the_fuzzing_ends_normally_with_no_exception_escaping_the_kernel(fuzzed):
    assert fuzzed.error is None, f"on {fuzzed.board}:\n{fuzzed.error}"
    assert fuzzed.stop.reason in ("condition", "timeout")
    assert fuzzed.hostile.thread.state in (State.STOPPED, State.EXITED)


def test_the_hostile_process_makes_at_least_100000_random_syscalls_counted_by_the_kernel(fuzzed):
    _ran(fuzzed)
    witness = fuzzed.witness
    issued = sum(g["issued"] for g in fuzzed.generations)
    assert fuzzed.fuzzed() >= TARGET
    assert witness.calls >= TARGET
    # the observer saw exactly the calls the hostile says it made (random ones, the timers it
    # sets before a call that could block, and finding its own name at start)
    assert witness.calls == issued
    # every known number was tried, and unknown ones too
    assert {n for n in witness.numbers if n in set(Sys)} == set(Sys)
    assert sum(count for n, count in witness.numbers.items() if n not in set(Sys)) > 20


def test_every_restart_fuzzes_with_a_different_seed(fuzzed):
    _ran(fuzzed)
    seeds = [g["seed"] for g in fuzzed.generations]
    assert len(seeds) > 50
    assert len(set(seeds)) == len(seeds)
    assert fuzzed.hostile.generation == len(seeds)


def test_every_syscall_gets_a_defined_status_or_stops_the_hostile(fuzzed):
    _ran(fuzzed)
    witness = fuzzed.witness
    assert witness.problems == []
    statuses = witness.statuses()
    assert set(statuses) <= STATUSES, {s: n for s, n in statuses.items() if s not in STATUSES}
    # one result per call, except the calls that stopped it
    assert sum(statuses.values()) == witness.calls - len(witness.stops)
    for number, state in witness.stops:
        if number == Sys.EXIT:
            assert state is State.EXITED
        else:
            assert number not in set(Sys) and state is State.STOPPED, (number, state)
    unknown = sum(1 for number, _ in witness.stops if number != Sys.EXIT)
    assert unknown == sum(count for n, count in witness.numbers.items() if n not in set(Sys))
    assert fuzzed.hostile.thread.faults == unknown == fuzzed.kernel.stats.faults
    assert "unknown syscall" in fuzzed.hostile.last_fault.detail
    # what the hostile found in its result register is what the kernel wrote
    seen = [sum(g["statuses"][i] for g in fuzzed.generations) for i in range(STATUS_KINDS)]
    assert seen == [statuses.get(-i, 0) for i in range(STATUS_KINDS - 1)] + [0]


def test_the_random_calls_reach_past_the_argument_checks(fuzzed):
    _ran(fuzzed)
    answers = fuzzed.witness.answers
    # calls that succeed only with a real capability, a real reply, a real lease
    for number in (Sys.SEND, Sys.CALL, Sys.RECV, Sys.REPLY, Sys.REPLY_RECV, Sys.NOTIFY, Sys.WAIT,
                   Sys.LEASE_READ, Sys.LEASE_WRITE, Sys.CAP_DERIVE, Sys.CAP_REVOKE, Sys.CAP_DELETE,
                   Sys.CAP_MOVE, Sys.COMPONENT_INFO):
        assert answers[number][Error.OK] > 0, Sys(number).name
    # every error but DENIED (the policy monitor's) and two the hostile cannot meet here: nothing
    # it calls stops or drops its reply (NO_REPLY, DEAD_PEER), and its reply capabilities cannot
    # be copied, so none outlives its caller's call (DEAD_PEER)
    reachable = set(Error) - {Error.DENIED, Error.NO_REPLY, Error.DEAD_PEER}
    assert reachable <= set(fuzzed.witness.statuses())


def test_no_byte_outside_the_hostile_process_changes(fuzzed):
    _ran(fuzzed)
    assert fuzzed.before.keys() == fuzzed.after.keys()
    changed = [page for page in fuzzed.before if fuzzed.before[page] != fuzzed.after[page]]
    assert [f"{page:#x}: {fuzzed.owner(page)}" for page in changed] == []


def test_the_lenders_writable_leases_were_written_through(fuzzed):
    _ran(fuzzed)
    # the one place outside the hostile it may write: the lender's leases, through LEASE_WRITE
    assert fuzzed.witness.copied[Sys.LEASE_WRITE] > 0
    assert fuzzed.witness.copied[Sys.LEASE_READ] > 0
    assert fuzzed.lent_after != fuzzed.lent_before
    between = slice(48, 48 + 64)   # the bytes between the two leases
    assert fuzzed.lent_after[between] == fuzzed.lent_before[between] == bytes(64)


def test_the_bystanders_still_work_after_the_fuzzing(fuzzed):
    _ran(fuzzed)
    assert fuzzed.system.output("checker") == ["check: 1 0 42", "check: 2 0 42"]
    assert fuzzed.checker.exit_code == 0
    for p in (fuzzed.echo, fuzzed.quiet, fuzzed.lender):
        assert p.last_fault is None and p.thread.faults == 0 and p.generation == 0, p.name
    assert fuzzed.echo.thread.state is State.RECEIVING and fuzzed.quiet.thread.state is State.RECEIVING
    # quiet heard nothing from the hostile but notification bits, which it never waits for
    assert fuzzed.quiet.thread.notifications != 0
    assert fuzzed.system.output("quiet") == ["server: label 1 from badge 0"]


def _events_calling(kernel) -> int:
    """Clock events alive on the host (pending, fired or cancelled) that call back into `kernel`."""
    def target(callback):
        return getattr(getattr(callback, "func", callback), "__self__", None)
    return sum(1 for o in gc.get_objects() if type(o) is Event and target(o.callback) is kernel)


@pytest.mark.parametrize("board", BOARDS)
def test_a_component_that_keeps_resetting_its_timer_leaves_no_clock_events_behind(board, guests):
    system = System(board, guests)
    timers = system.add("timers", "hostile")
    system.kernel.start()
    system.kernel.run_until(lambda: timers.thread.state is State.EXITED, 1.0)
    assert timers.exit_code == 0
    assert system.kernel.stats.syscalls > TIMER_RESETS   # as many TIMER_SETs, and finding its name
    # bounded, not one per reset: the clock sweeps cancelled events out as its queue grows
    # (its one timer, the kernel's time slice, and cancelled ones not yet swept)
    assert _events_calling(system.kernel) < 100
