"""Building a system: processes from ELF images, endpoints, grants, interrupt routes, supervision.

`Boot.system(spec)` builds everything a system description (`SystemSpec`) names and
starts it: every component's ELF is loaded into its own address space, endpoints
are created, exactly the capabilities the description names are granted, interrupts
are routed to notification bits, supervisors are set, and the first thread runs.
The same steps are public one by one (`Kernel.create_process`, `grant`, ...) for
tests and tools that build a system by hand.

Invariants: what a component was granted at boot is remembered with its image
(`state.Component`), so a restart gives it back exactly that and nothing else; a
process's thread starts from a copy of one template context, with only its entry
point, stack pointer and first two argument registers (heap size, stdout: see
`abi.STDOUT_DEBUG_LOG`) set. This is the kernel's one user of the system
description's types.
"""

from __future__ import annotations

import os
import pathlib
import pickle

from machine import ElfError, Perm

from .abi import STACK_TOP, STDOUT_DEBUG_LOG, Right
from .caps import Capability, CapKind
from .rules import RestartAction, RestartPolicy
from .loader import LoadError, build_space, check_component
from .monitor import Monitor
from .process import Endpoint, Process, State, Thread
from .state import Component

_CAP_KINDS = {"endpoint-recv": CapKind.ENDPOINT, "endpoint-send": CapKind.ENDPOINT,
              "notification": CapKind.NOTIFICATION}


def restart_policy(component: Component, supervised: bool) -> RestartPolicy:
    """The component's restart policy: the description's, else backoff when supervised, else hold."""
    return component.restart or RestartPolicy(RestartAction.BACKOFF if supervised else RestartAction.HOLD)


class Boot:
    """Creating the system's objects (see the module's docstring)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.s = kernel.state
        self.machine = kernel.machine
        self.cpu = kernel.cpu
        self.isa = kernel.isa
        machine = kernel.machine
        machine.enter_user_mode()
        #: every thread's first context is a copy of this one
        self._template = machine.uc.context_save()

    def create_process(self, name: str, elf, priority: int = 4, stack: int = 4096,
                       uses: dict[str, int] | None = None, start: bool = True,
                       restart: RestartPolicy | None = None, heap: int = 0,
                       stdout: int = STDOUT_DEBUG_LOG) -> Process:
        """Load one component; it runs once `start()` is called (if `start`). It gets a heap of
        `heap` bytes and starts with (heap, stdout) in its first two argument registers."""
        s = self.s
        image, pages = check_component(elf, self.isa)
        space, frames = build_space(self.machine, name, image, pages, stack, s.frames, heap)
        for periph, vaddr in (uses or {}).items():
            spec = self.machine.board.peripheral(periph)
            space.map(vaddr, spec.base, spec.size, Perm.R | Perm.W, periph)
        process = Process(name, len(s.processes) + 1, space)
        thread = Thread(process, priority, self.fresh_context(image.entry, (heap, stdout)))
        thread.state = State.STOPPED
        process.threads.append(thread)
        s.processes.append(process)
        s.components[name] = Component(image, frames, stack, priority, start=start, restart=restart,
                                       start_args=(heap, stdout))
        return process

    def create_endpoint(self, name: str, server: Process) -> Endpoint:
        ep = Endpoint(name, server)
        self.s.endpoints[name] = ep
        return ep

    def grant(self, process: Process, slot: int, kind: CapKind, obj, rights: Right, badge: int = 0) -> Capability:
        cap = Capability(kind, obj, rights, badge, getattr(obj, "generation", 0))
        process.caps.put(slot, cap)
        self.s.components[process.name].grants.append((slot, cap))
        return cap

    def supervise(self, process: Process, supervisor: Process, endpoint: Endpoint) -> None:
        """Report `process`'s faults to `supervisor` as FAULT messages on `endpoint`."""
        if endpoint.server is not supervisor:
            raise ValueError(f"endpoint {endpoint.name!r} is not served by {supervisor.name!r}")
        if supervisor is process:
            raise ValueError(f"{process.name!r} cannot supervise itself")
        process.supervisor = supervisor
        process.fault_endpoint = endpoint

    def start(self) -> None:
        s = self.s
        for p in s.processes:
            if s.components[p.name].start and p.thread.state is State.STOPPED:
                s.scheduler.make_ready(p.thread)
        self.kernel.dispatcher.schedule()

    def system(self, system) -> None:
        """Build everything a SystemSpec (read and checked by sysdesc) describes, then start it.

        The capabilities come from `system.capabilities_of`, the one statement of
        who holds what; nothing else is granted.
        """
        by_name = {c.name: self._load(system, c) for c in system.components}
        for ep in system.endpoints:
            self.create_endpoint(ep.name, by_name[ep.server])
        kernel = self.kernel
        if system.policy is not None:
            self.s.monitor = Monitor(system.policy, {e.name: e.interface for e in system.endpoints},
                                     kernel.timers.now_us, kernel.audit)
        for c in system.components:
            for slot, kind, obj_name, rights, badge in system.capabilities_of(c.name):
                obj = by_name[obj_name].thread if kind == "notification" else self.s.endpoints[obj_name]
                self.grant(by_name[c.name], slot, _CAP_KINDS[kind], obj, Right(rights), badge)
            for (periph, output), bit in c.interrupts.items():
                kernel.interrupts.route(by_name[c.name], periph, output, bit)
            if c.supervisor:
                self.supervise(by_name[c.name], by_name[c.supervisor],
                               self.s.endpoints[system.fault_endpoint_of(c.name).name])
        self.start()

    def _load(self, system, c) -> Process:
        """One component of `system`; a load error names the file as the description does."""
        try:
            return self.create_process(c.name, c.elf, c.priority, c.stack, dict(c.uses), c.start, c.restart,
                                       c.heap, system.stdout_of(c.name))
        except (LoadError, ElfError) as e:
            # the file as the description names it (in a packed image: its entry), never
            # as a path of this machine (a packed image is unpacked into a private folder)
            shown = pathlib.Path(os.path.relpath(c.elf, system.path.parent)).as_posix()
            raise LoadError(f"component {c.name!r}: {str(e).replace(str(c.elf), shown)}") from None

    def fresh_context(self, entry: int, args: tuple[int, ...] = ()):
        """A thread's first context: the template's, at `entry` with the stack at STACK_TOP and
        `args` in the first argument registers."""
        ctx = pickle.loads(pickle.dumps(self._template))
        ctx.reg_write(self.cpu.PC, self.cpu.code_pointer(entry))
        ctx.reg_write(self.cpu.SP, STACK_TOP)
        for name, value in zip(self.cpu.ARG_REGISTERS, args):
            ctx.reg_write(self.cpu.register_id(name), value)
        return ctx
