"""One server under the IPC fuzzer: boot once, snapshot, then run inputs from that snapshot.

The image holds the server and the fuzz client (firmware/apps/ipc_fuzz, a component named
`fuzz`, `start = false`, slot 1 a client capability to the endpoint under test); the endpoint
the client holds names the server and its interface. `FuzzTarget` boots it, runs
`settle` of virtual time (so the server waits in its receive loop), and snapshots.

One run (`run`): restore the snapshot, restart the client (a fresh image), write the
input into its `fuzz_box`, and run until the client exits, the server faults, or
`budget` of virtual time passes. Coverage is the set of edges between translated blocks of
the server's code while the server runs: a Unicorn block hook on the server's code range
only (every component is linked at the same virtual addresses, so the hook checks that
the running thread is the server's), a Python callback per block, only while this
component executes. The verdict (`RunOutcome.kind`):

- `crash`: the server faulted (its signature: fault kind and pc, and the address for an
  access; an image's server restarted by a supervisor counts the same);
- `hang`: the client is still waiting after `budget` and the server is still running (ready
  or running: a loop that never gets back to its receive), or the server's supervisor found
  it HUNG (the signature names the method whose call did not return);
- `held`: the client is still waiting but the server waits too (in its receive, or on a
  call of its own): a call the protocol holds by design (`uart.read` until input comes,
  `gpio.wait_edge` until an edge). Not a finding; a server waiting on itself (a deadlock)
  looks the same and is not told apart;
- `ok`: every call returned (statuses and reply labels are kept, for replay's check).

Invariants: a run depends only on the snapshot and the input (virtual time, no host
clock), so a replay gives the same verdict and signature; nothing here is pickled: a
worker builds its own `FuzzTarget` from the image's bytes (`images.materialise`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kernel import State
from kernel.abi import FaultCode
from machine import read_elf, symbols
from unicorn import UC_HOOK_BLOCK

from ..testbench import Device
from .fuzz_inputs import Input, Shape, encode, results

CLIENT = "fuzz"
SETTLE = 0.05          #: virtual seconds from boot to the snapshot
BUDGET = 0.2           #: virtual seconds an input may take (idle time is skipped, so this is cheap)
#: the kernel's log; a server's fault is the fuzzer's finding, reported in its results, not a warning
_KERNEL_LOG = logging.getLogger("atoll.kernel")


class TargetError(ValueError):
    """An image the fuzzer cannot use; one line naming the image and the problem."""


@dataclass
class RunOutcome:
    kind: str                                  # "ok", "held", "crash" or "hang"
    signature: str                             # "" for ok
    edges: frozenset = field(default_factory=frozenset)
    answers: tuple = ()                        # (status, reply label) per call that returned
    detail: str = ""


def fuzzed_endpoint(system, name) -> "object":
    """The endpoint the fuzz client calls, with its interface; TargetError naming the image if none."""
    endpoint = next((e for e in system.endpoints if CLIENT in e.clients), None)
    if endpoint is None or CLIENT not in [c.name for c in system.components]:
        raise TargetError(f"{name}: no component {CLIENT!r} holding a client capability to an endpoint "
                          f"(add firmware/apps/ipc_fuzz as {CLIENT!r}, start = false; docs/campaigns.md)")
    if endpoint.interface is None:
        raise TargetError(f"{name}: endpoint {endpoint.name!r} declares no interface file to fuzz it by")
    return endpoint


class FuzzTarget:
    """The booted image, its snapshot, and the coverage hook on the server's code."""

    def __init__(self, image: Path, settle: float = SETTLE, budget: float = BUDGET) -> None:
        self.image = Path(image)
        self.budget = budget
        self.dut = Device(self.image)
        system = self.dut.system
        endpoint = fuzzed_endpoint(system, self.image)
        self.server = endpoint.server
        self.endpoint = endpoint.name
        self.shape = Shape(endpoint.interface)
        isa = self.dut.machine.board.cpu.isa
        client_elf = read_elf(system.component(CLIENT).elf, isa)
        self.box = symbols(client_elf).get("fuzz_box")
        if self.box is None:
            raise TargetError(f"{self.image}: component {CLIENT!r} has no fuzz_box (is it ipc_fuzz?)")
        code = [s for s in read_elf(system.component(self.server).elf, isa).segments if "x" in s.flags]
        self.code = (min(s.vaddr for s in code), max(s.vend for s in code))
        self.dut.run_for(settle)
        self.snap = self.dut.snapshot()
        self.snapshot_id = self._snapshot_id()
        self._edges: set[int] = set()
        self._previous = 0
        self._thread = None
        self.dut.machine.uc.hook_add(UC_HOOK_BLOCK, self._block, begin=self.code[0], end=self.code[1] - 1)

    def _snapshot_id(self) -> str:
        """What identifies the snapshot: the image's bytes, the board, the virtual time, and
        every component's state then (a replay checks it gets the same)."""
        h = hashlib.sha256(self.image.read_bytes())
        h.update(f"{self.dut.board}:{self.dut.cycles}".encode())
        for c in self.dut.components():
            h.update(f"{c.name}:{c.state}:{c.generation}:{c.faults}".encode())
        return h.hexdigest()[:16]

    def _block(self, uc, address, size, user_data) -> None:
        if self.dut.kernel.current is self._thread:
            self._edges.add((self._previous << 1 ^ address) & 0xFFFF_FFFF_FFFF)
            self._previous = address

    def run(self, messages: Input) -> RunOutcome:
        dut = self.dut
        dut.restore(self.snap)
        server = dut.process(self.server)
        client = dut.process(CLIENT)
        self._thread, self._previous, self._edges = server.thread, 0, set()
        before = dut.fault_count(self.server)
        dut.restart(CLIENT)
        dut.machine.write_virtual(client.space, self.box, encode(messages))

        def over() -> bool:
            return client.thread.state in (State.EXITED, State.STOPPED) or dut.fault_count(self.server) != before

        level = _KERNEL_LOG.level
        _KERNEL_LOG.setLevel(logging.ERROR)
        try:
            dut.kernel.run_until(over, self.budget)
        finally:
            _KERNEL_LOG.setLevel(level)
        box = dut.machine.read_virtual(client.space, self.box, len(encode(messages)))
        answers = results(box, len(messages))
        edges = frozenset(self._edges)
        self._thread = None
        if dut.fault_count(self.server) != before:
            return self._crash(server, answers, edges)
        if client.thread.state is State.STOPPED:
            fault = client.last_fault
            return RunOutcome("crash", f"client {fault.kind.value}", edges, answers, f"the fuzz client faulted: {fault}")
        if client.thread.state is not State.EXITED:
            label = messages[len(answers)].label if len(answers) < len(messages) else None
            name = self._method_name(label)
            if server.thread.state not in (State.READY, State.RUNNING):
                return RunOutcome("held", "", edges, answers, f"call {len(answers) + 1} ({name}) held: the "
                                  f"server waits ({server.thread.state.value}) with it unanswered")
            return RunOutcome("hang", f"hang in {name}", edges, answers,
                              f"call {len(answers) + 1} ({name}) not answered within {self.budget * 1e3:g} ms, "
                              f"the server still running")
        return RunOutcome("ok", "", edges, answers)

    def _method_name(self, label: int | None) -> str:
        method = self.shape.method(label) if label is not None else None
        return f"{self.shape.name}.{method.name}" if method else (f"label {label:#x}" if label is not None else "?")

    def _crash(self, server, answers: tuple, edges: frozenset) -> RunOutcome:
        fault = server.last_fault
        if fault is None:
            return RunOutcome("crash", "fault", edges, answers, f"{self.server} faulted")
        hung = any(e.kind == "fault" and e.source == self.server and e.label == FaultCode.HUNG
                   for e in self.dut.kernel.ipc_log)
        if hung:
            return RunOutcome("hang", "hang (missed heartbeat)", edges, answers, f"{self.server}: {fault}")
        where = f" at {fault.address:#x}" if fault.address is not None else ""
        return RunOutcome("crash", f"{fault.kind.value} at pc {fault.pc:#x}{where}", edges, answers,
                          f"{self.server}: {fault}")
