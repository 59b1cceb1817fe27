"""The IPC fast path (kernel/fastpath.py, kernel/native/fastpath.c) changes nothing but speed.

Each scenario runs the same system twice, with the fast path and without it (every
syscall in Python), and compares everything a user or a guest can see: virtual time,
statistics, the IPC and debug logs, every thread's state and registers, every
process's memory, the policy monitor's counts and records, the active address space.
The scenarios push the fast path's conditions: other labels, stray registers and
leases (with and without a policy), notifications for the server, a thread of the
client's level waking, a more urgent one waking, the server crashing and being
restarted, snapshots. Each also checks that the fast path did handle calls, so a
fast path that never engages cannot pass.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
from pathlib import Path

import pytest

from kernel.abi import Right
from kernel.caps import CapKind
from kernel.kernel import Kernel
from kernel.monitor import Monitor
from kernel.rules import RestartPolicy
from machine import Machine, read_elf, symbols
from sysdesc.interface import parse_interface
from sysdesc.policy import parse_policy
from tests.kernel.system_harness import BOARDS, ISA_OF, guests  # noqa: F401  (fixture)

ROUNDS = 2000

PONG = {"interface": {"name": "pong", "id": 1},
        "method": [{"name": "ping", "number": 1, "args": 1, "reply": 1},
                   {"name": "twice", "number": 2, "args": 2, "reply": 2},
                   {"name": "secret", "number": 3, "args": 1, "reply": 1,
                    "leases": [{"rights": "read", "max": 64}]}]}
POLICY = {"policy": {"mode": "enforce", "audit": "denied"},
          "rule": [{"name": "the pinger pings", "action": "allow", "from": "pinger", "to": "ponger",
                    "methods": ["pong.ping", "pong.twice"]}]}


def build(board: str, guests, fastpath: bool, *, monitor: bool = False, nudger: bool = False,
          peer: int | None = None, waker: bool = False, crash_at: int | None = None,
          spinner: int | None = None, server_priority: int = 2, second: bool = False,
          long_slices: bool = False) -> Kernel:
    isa = ISA_OF[board]
    kernel = Kernel(Machine(board), fastpath=fastpath, **({"slice_us": 50_000} if long_slices else {}))
    if long_slices:   # more round trips between two clock events than the C path's event ring holds
        kernel.ipc_log = collections.deque()
    restart = RestartPolicy("restart") if crash_at is not None else None
    ponger = kernel.create_process("ponger", guests[isa, "ponger"], priority=server_priority, restart=restart)
    pinger = kernel.create_process("pinger", guests[isa, "pinger"], priority=3)
    ep = kernel.create_endpoint("pong", ponger)
    kernel.grant(ponger, 1, CapKind.ENDPOINT, ep, Right.RECV | Right.SEND)
    kernel.grant(pinger, 2, CapKind.ENDPOINT, ep, Right.SEND, badge=pinger.index)
    if nudger:
        nudge = kernel.create_process("nudger", guests[isa, "nudger"], priority=1)
        kernel.grant(nudge, 1, CapKind.NOTIFICATION, ponger.thread, Right.SEND, 0x6)
    if peer is not None:
        kernel.create_process("peer", guests[isa, "sleeper"], priority=peer)
    if waker:
        kernel.create_process("waker", guests[isa, "sleeper"], priority=0)
    if spinner is not None:
        kernel.create_process("spinner", guests[isa, "spinner"], priority=spinner)
    if second:   # another client, whose 5th call the ponger keeps unanswered
        pinger2 = kernel.create_process("pinger2", guests[isa, "pinger"], priority=3)
        kernel.grant(pinger2, 2, CapKind.ENDPOINT, ep, Right.SEND, badge=pinger2.index)
    if monitor:
        iface = parse_interface(PONG, Path("pong.idl.toml"))
        names = [p.name for p in kernel.processes]
        policy = parse_policy(POLICY, Path("pong.policy.toml"), names, {"pong": iface})
        kernel.monitor = Monitor(policy, {"pong": iface}, kernel.now_us)
    names = symbols(read_elf(guests[isa, "pinger"], isa))
    kernel.machine.write_virtual(pinger.space, names["rounds"], ROUNDS.to_bytes(4, "little"))
    if crash_at is not None:
        kernel.machine.write_virtual(pinger.space, names["crash_at"], crash_at.to_bytes(4, "little"))
    if long_slices:
        for name, value in (("plain", 1), ("rounds", 6000)):
            kernel.machine.write_virtual(pinger.space, names[name], value.to_bytes(4, "little"))
    if second:
        for name, value in (("rounds", 40), ("hold_at", 5)):
            kernel.machine.write_virtual(pinger2.space, names[name], value.to_bytes(4, "little"))
    kernel.start()
    return kernel


def registers(kernel: Kernel, thread) -> dict[str, int]:
    cpu = kernel.machine.cpu
    if kernel.current is thread:
        return cpu.registers()
    return {name: thread.context.reg_read(rid) for name, rid in cpu.REGISTERS.items()}


def fingerprint(kernel: Kernel) -> dict:
    """Everything of the system a user or a guest can see."""
    machine = kernel.machine
    stats = dataclasses.asdict(kernel.stats)
    del stats["fastpath"]   # the one count that tells the paths apart
    out = {"now": kernel.clock.now, "stats": stats,
           "ipc_log": list(kernel.ipc_log), "debug_log": list(kernel.debug_log),
           "current": kernel.current.name if kernel.current else None, "space": machine.space.name}
    for p in kernel.processes:
        t = p.thread
        memory = hashlib.sha256()
        for m in p.space.mappings:
            memory.update(machine.read_virtual(p.space, m.vbase, m.size))
        out[p.name] = {"state": t.state, "notifications": t.notifications, "exit": p.exit_code,
                       "generation": p.generation, "restarts": p.restarts, "registers": registers(kernel, t),
                       "memory": memory.hexdigest(), "reply_slot": p.caps.peek(0) is not None,
                       "pending_reply": t.pending_reply is not None}
    if kernel.monitor is not None:
        out["monitor"] = (kernel.monitor.allowed, kernel.monitor.denied, list(kernel.monitor.records))
    return out


def run_in_steps(kernel: Kernel, steps: int = 40, seconds: float = 0.0025) -> list[dict]:
    """Run in short steps, taking a fingerprint between each (so some fall in the middle
    of a round trip, with the server running)."""
    prints = []
    for _ in range(steps):
        kernel.run_for(seconds)
        prints.append(fingerprint(kernel))
    return prints


def done_line(kernel: Kernel) -> str:
    lines = [text for _, c, text in kernel.debug_log if c == "pinger" and "done" in text]
    return lines[0] if lines else ""


#: name -> (options of `build`, whether the pinger finishes, the least the fast path handles)
SCENARIOS = {
    "a client and its server": ({}, True, ROUNDS),
    "with the policy monitor": ({"monitor": True}, True, ROUNDS),
    "with notifications for the server": ({"nudger": True}, True, ROUNDS),
    "with a thread of the client's level waking": ({"peer": 3}, True, ROUNDS),
    "with a more urgent thread waking": ({"waker": True}, True, ROUNDS),
    "with the server crashing and restarted": ({"crash_at": 1234}, True, ROUNDS),
    "with a second client whose call the server keeps": ({"second": True}, True, ROUNDS),
    # it is armed only after a call the monitor denied (the client runs on), and takes
    # calls but no replies: the client must queue behind the busy thread
    "with a busy thread at the client's level": ({"spinner": 3, "monitor": True}, False, 1),
    # the server would queue behind the busy thread: never taken
    "with a server less urgent than its client and a busy thread at its level":
        ({"server_priority": 4, "spinner": 4}, False, 0),
    "with all of them": ({"monitor": True, "nudger": True, "peer": 3, "waker": True, "crash_at": 777}, True, ROUNDS),
}


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_fast_path_leaves_everything_as_the_python_path_does(board, scenario, guests):
    options, finishes, least = SCENARIOS[scenario]
    fast = build(board, guests, True, **options)
    slow = build(board, guests, False, **options)
    fast_prints, slow_prints = run_in_steps(fast), run_in_steps(slow)
    assert done_line(slow).startswith("pinger: done") == finishes, slow.debug_log[-5:]
    for i, (a, b) in enumerate(zip(fast_prints, slow_prints)):
        assert a == b, f"step {i}: " + ", ".join(k for k in a if a[k] != b.get(k))
    assert fast.stats.fastpath >= least
    if not least:
        assert fast.stats.fastpath == 0
    assert fast.machine.traps_filtered == fast.stats.fastpath
    assert slow.machine.traps_filtered == 0


@pytest.mark.parametrize("board", BOARDS)
def test_the_monitor_still_denies_what_the_policy_denies_on_the_fast_path(board, guests):
    kernel = build(board, guests, True, monitor=True)
    kernel.run_for(0.1)
    failed = [text for _, c, text in kernel.debug_log if c == "pinger" and "status" in text]
    # pong.secret (every 101st round) is no allowed method; a stray mr3 (every 89th) breaks a
    # request's shape, the ponger's stray mr2 (when mr0 % 211 == 3) a reply's; the kernel
    # refuses its own labels (every 173rd), and slot 9 is empty (every 149th)
    expected = [i for i in range(ROUNDS) if i % 101 == 50 or i % 89 == 7 or i % 211 == 3 or i % 173 == 17
                or i % 149 == 19]
    assert [int(line.split()[1]) for line in failed] == expected
    rules = {r["rule"] for r in kernel.monitor.records}
    assert rules == {"default deny", "shape", "kernel label"}
    assert kernel.stats.fastpath > ROUNDS


@pytest.mark.parametrize("board", BOARDS)
def test_a_snapshot_taken_while_the_fast_path_runs_restores_to_the_same_future(board, guests):
    kernel = build(board, guests, True, nudger=True)
    kernel.run_for(0.0071)
    snap = kernel.snapshot()
    first = run_in_steps(kernel, steps=10)
    kernel.restore(snap)
    again = run_in_steps(kernel, steps=10)
    assert first == again
    assert kernel.stats.fastpath > 0


@pytest.mark.parametrize("board", BOARDS)
def test_observers_of_every_switch_see_every_switch(board, guests):
    kernel = build(board, guests, True)
    before = kernel.stats.switches
    switches = []
    kernel.on_switch = lambda cycle, a, b: switches.append((a, b))
    kernel.run_for(0.05)
    to_threads = [s for s in switches if s[1] is not None]
    assert len(to_threads) == kernel.stats.switches - before > ROUNDS
    assert kernel.stats.fastpath == 0


@pytest.mark.parametrize("board", BOARDS)
def test_the_demo_images_run_alike_with_and_without_the_fast_path(board):
    # The demos' calls carry leases or sleep in between, so the fast path is armed now and
    # then but seldom taken: what this checks is that arming, syncing and the machine's
    # trap front change nothing in a whole system.
    from firmware import components
    from sysdesc import load_system
    from machine import BufferBackend
    from tests.conftest import ROOT

    components.build_all(ROOT / "build" / "components")
    runs = []
    for fastpath in (True, False):
        system = load_system(ROOT / "firmware" / "images" / f"demo-{board}.toml")
        kernel = Kernel(Machine(system.board), fastpath=fastpath)
        uart = BufferBackend()
        kernel.machine.attach_uart("uart0", uart)
        kernel.boot(system)
        prints = []
        for line in ("help", "ps", "led on", "uptime", "echo fast and slow", "led off", "ps"):
            kernel.run_for(0.15)
            uart.send(line + "\r")
            prints.append(fingerprint(kernel))
        kernel.run_for(0.6)   # blinky goes on
        prints.append(fingerprint(kernel))
        runs.append((uart.text, prints, kernel))
    (fast_text, fast_prints, fast), (slow_text, slow_prints, _) = runs
    assert "fast and slow" in slow_text and fast_text == slow_text
    for i, (a, b) in enumerate(zip(fast_prints, slow_prints)):
        assert a == b, f"after command {i}: " + ", ".join(k for k in a if a[k] != b.get(k))
    assert fast.machine.traps_filtered == fast.stats.fastpath


@pytest.mark.parametrize("board", BOARDS)
def test_more_round_trips_between_two_syncs_than_the_event_ring_holds_are_all_logged(board, guests):
    # 6,000 plain round trips in 50 ms slices: 12,000 IPC events, three times the C ring
    fast, slow = build(board, guests, True, long_slices=True), build(board, guests, False, long_slices=True)
    fast.run_for(0.04)
    slow.run_for(0.04)
    assert done_line(slow).startswith("pinger: done")
    assert fingerprint(fast) == fingerprint(slow)
    assert len(fast.ipc_log) >= 12_000 and fast.stats.fastpath > 11_000


class _Boom(Exception):
    pass


def _hook_the_ponger(kernel: Kernel, after: int, seen: list, boom: bool) -> None:
    """A block hook on the first block the ponger runs once `after` instructions ran (the same
    block with or without the fast path, both being alike) in which `boom` is set, or in
    which the fast path is armed in phase 1; `seen` gets (instructions, armed phase); with
    `boom` it raises there."""
    from unicorn import UC_HOOK_BLOCK

    machine = kernel.machine

    def hook(uc, address, size, _):
        if seen or machine.counter.executed < after or machine.space.name != "ponger":
            return
        s = kernel.fast._s if kernel.fast is not None else None
        phase = s.phase if s is not None and s.armed else None
        if boom or phase == 1:
            seen.append((machine.counter.executed, phase))
            if boom:
                raise _Boom()

    machine.uc.hook_add(UC_HOOK_BLOCK, hook)


@pytest.mark.parametrize("board", BOARDS)
def test_an_exception_from_a_hook_in_the_middle_of_a_round_trip_leaves_the_kernel_synced(board, guests):
    probe, found = build(board, guests, True), []
    _hook_the_ponger(probe, 20_000, found, boom=False)
    probe.run_for(0.05)
    moment = found[0][0]                       # the ponger runs there on the fast path
    kernels = []
    for fastpath in (True, False):
        kernel, seen = build(board, guests, fastpath), []
        _hook_the_ponger(kernel, moment, seen, boom=True)
        with pytest.raises(_Boom):
            kernel.run_for(0.05)
        assert not kernel.machine.executing
        assert seen == [(moment, 1 if fastpath else None)]
        kernels.append(kernel)
    fast, slow = kernels
    assert fast.current.name == "ponger" and fingerprint(fast) == fingerprint(slow)
    assert run_in_steps(fast, steps=20) == run_in_steps(slow, steps=20)
    assert done_line(fast).startswith("pinger: done")
