"""System descriptions: TOML files read into a checked, frozen `SystemSpec`.

A system description (`firmware/images/<name>.toml`, like Hubris's `app.toml` or
Microkit's `.system` file) names the board and every component the kernel starts:
its ELF file, priority, stack, the peripherals mapped into it, which interrupt
outputs arrive as which notification bits, and the capabilities it holds at boot:
endpoints (client or server) and notifications. Nothing else exists at boot.

Everything is checked before anything is built; an error names the file, the
component (or endpoint, or notification) and the key in one line, e.g.

    demo.toml: component 'uart'.priority: must be an integer from 0 to 7, not 9

Paths in a description (ELF files, a board file) are relative to the folder of the
description, so a description gives the same result from any working directory, and
messages show paths as written, never a path of the machine that checked them.
Only the existence of each ELF file is checked here; its contents are the loader's.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
from dataclasses import dataclass
from typing import Any

from machine import PAGE_SIZE, BoardError, BoardSpec, TomlChecker, load_board, read_toml

from kernel.abi import CAP_SLOTS, COMPONENT_BASE, COMPONENT_LIMIT, HEAP_BASE, HEAP_MAX, REPLY_SLOT, STACK_TOP, STDOUT_DEBUG_LOG, Right
from kernel.rules import DEFAULT_RESTART_WINDOW_MS, LIMIT_ACTIONS, RESTART_ACTIONS, Interface, Policy, RestartAction, RestartPolicy

from .interface import InterfaceError, load_interface
from .policy import PolicyError, load_policy

ADDRESS_LIMIT = 1 << 32
#: priorities: 0 is the most urgent
PRIORITIES = 8
#: stack sizes in bytes; the largest is the window reserved below STACK_TOP
MIN_STACK = 256
MAX_STACK = 64 * 1024
STACK_ALIGN = 8
#: the bits of a notification word
NOTIFICATION_BITS = 32

_SYSTEM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class ImageError(ValueError):
    """A system description or packed image that cannot be used; one line naming file, key and problem."""


#: the largest restart limit and window a description may set
MAX_RESTART_LIMIT = 1000
MAX_RESTART_WINDOW_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    elf: pathlib.Path
    priority: int
    stack: int
    uses: dict[str, int]                       # peripheral -> virtual address
    interrupts: dict[tuple[str, str], int]     # (peripheral, output) -> notification bit
    supervisor: str | None
    start: bool
    index: int                                 # 1-based position: the badge of its send capabilities
    restart: RestartPolicy = RestartPolicy("hold", None)
    heap: int = 0                              # bytes mapped at HEAP_BASE for its C library's malloc
    stdout: str | None = None                  # the endpoint its stdout goes to; None: the debug log


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    server: str
    server_slot: int
    clients: dict[str, int]                    # component -> slot in its table
    interface: Interface | None = None         # what its requests must look like (the monitor checks)


@dataclass(frozen=True)
class NotificationSpec:
    source: str
    target: str
    slot: int                                  # in the source's table
    bits: int


@dataclass(frozen=True)
class SystemSpec:
    name: str
    path: pathlib.Path
    board: BoardSpec
    components: tuple[ComponentSpec, ...]
    endpoints: tuple[EndpointSpec, ...]
    notifications: tuple[NotificationSpec, ...]
    policy: Policy | None = None               # None: no monitor, every request is delivered

    @property
    def interfaces(self) -> dict[str, Interface]:
        """The interfaces the endpoints declare, by name."""
        return {e.interface.name: e.interface for e in self.endpoints if e.interface is not None}

    def component(self, name: str) -> ComponentSpec:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"system {self.name} has no component {name!r}")

    def capabilities_of(self, name: str) -> list[tuple[int, str, str, Right, int]]:
        """What `name` holds at boot: (slot, kind, object name, rights, badge), by slot.

        kind is "endpoint-recv" (the server's; badge 0), "endpoint-send" (a client's;
        badge = the client's index) or "notification" (object = the target component;
        badge = the bits it sets).
        """
        self.component(name)
        caps: list[tuple[int, str, str, Right, int]] = []
        for e in self.endpoints:
            if e.server == name:
                caps.append((e.server_slot, "endpoint-recv", e.name, Right.RECV, 0))
            if name in e.clients:
                # GRANT lets a client derive copies with fewer rights (CAP_DERIVE)
                caps.append((e.clients[name], "endpoint-send", e.name, Right.SEND | Right.GRANT,
                             self.component(name).index))
        for n in self.notifications:
            if n.source == name:
                caps.append((n.slot, "notification", n.target, Right.SEND, n.bits))
        return sorted(caps)

    def stdout_of(self, name: str) -> int:
        """Where `name`'s stdout goes, as its crt0 reads it: STDOUT_DEBUG_LOG, or the slot of the
        console endpoint it names (as a client) + 1."""
        endpoint = self.component(name).stdout
        if endpoint is None:
            return STDOUT_DEBUG_LOG
        return next(e for e in self.endpoints if e.name == endpoint).clients[name] + 1

    def fault_endpoint_of(self, name: str) -> EndpointSpec | None:
        """The endpoint `name`'s faults go to: the first one its supervisor serves."""
        supervisor = self.component(name).supervisor
        if supervisor is None:
            return None
        return next(e for e in self.endpoints if e.server == supervisor)


def load_system(path: str | pathlib.Path) -> SystemSpec:
    """Read and check a system description."""
    path = pathlib.Path(path)
    return parse_system(read_toml(path, ImageError), path)


class _Checker(TomlChecker):
    """The description's own checks on top of the shared TOML reading (machine.tomlcheck)."""

    error = ImageError

    def slot(self, value: Any, key: str) -> int:
        return self.ranged(value, key, REPLY_SLOT + 1, CAP_SLOTS - 1,
                           f" (slot {REPLY_SLOT} holds the reply capability)")


def _span(base: int, size: int) -> str:
    return f"{base:#x}-{base + size:#x}"


def parse_system(data: dict, path: pathlib.Path, entries: set[pathlib.Path] | None = None) -> SystemSpec:
    """Check a parsed description. `entries`, when given, are the only files its
    paths may name (the unpacked entries of a packed image)."""
    c = _Checker(path)
    c.only(data, None, {"system", "component", "endpoint", "notification"})
    system = c.table(data, "system", {"name", "board", "policy"})
    name = c.get(system, "name", "system", str)
    if not _SYSTEM_NAME.match(name):
        raise c.fail("system.name", f"must be letters, digits, '_', '-' and '.', starting with a letter or "
                                    f"digit, not {name!r}")
    board = _load_board(c, c.get(system, "board", "system", str), entries)

    raw = c.tables(data, "component")
    if not raw:
        raise c.fail("component", "missing; a system needs at least one [[component]]")
    components: list[ComponentSpec] = []
    for i, t in enumerate(raw):
        comp = _parse_component(c, t, i, board, entries, len(components) + 1)
        if any(other.name == comp.name for other in components):
            raise c.fail(f"component {comp.name!r}.name", "is used twice")
        components.append(comp)
    _check_interrupt_owners(c, components, board)
    names = [comp.name for comp in components]

    endpoints: list[EndpointSpec] = []
    for i, t in enumerate(c.tables(data, "endpoint")):
        endpoint = _parse_endpoint(c, t, i, names, entries)
        if any(other.name == endpoint.name for other in endpoints):
            raise c.fail(f"endpoint {endpoint.name!r}.name", "is used twice")
        endpoints.append(endpoint)
    notifications = [_parse_notification(c, t, i, names) for i, t in enumerate(c.tables(data, "notification"))]
    _check_slots(c, endpoints, notifications)
    _check_notification_bits(c, components, notifications)
    _check_supervisors(c, components, endpoints)
    _check_interfaces(c, endpoints)
    _check_stdout(c, components, endpoints)
    spec = SystemSpec(name, path, board, tuple(components), tuple(endpoints), tuple(notifications))
    policy_text = c.get(system, "policy", "system", str, required=False)
    if policy_text is not None:  # before the ELF files: a policy can be checked before a build
        file = _entry_file(c, policy_text, "system.policy", "a policy file", entries)
        try:
            policy = load_policy(file, names, spec.interfaces)
        except PolicyError as e:
            raise c.fail("system.policy", str(e)) from None
        spec = dataclasses.replace(spec, policy=policy)
    _check_elves(c, components, entries)
    return spec


def _entry_file(c: _Checker, text: str, key: str, what: str, entries: set[pathlib.Path] | None) -> pathlib.Path:
    """A file the description names, relative to its folder (an entry, in a packed image)."""
    if not text:
        raise c.fail(key, f"must be the path of {what}, not ''")
    file = c.path.parent / text
    if entries is not None and file not in entries:
        raise c.fail(key, f"must name {what} among the image's entries, not {text!r}")
    _must_be_a_file(c, file, key, text)
    return file


def _must_be_a_file(c: _Checker, file: pathlib.Path, key: str, text: str) -> None:
    """`file` is a file; `text` is how the description wrote it."""
    try:
        exists, is_file = file.exists(), file.is_file()
    except (OSError, ValueError) as e:  # a name too long for the file system, a NUL byte, ...
        problem = getattr(e, "strerror", None) or "not a valid file name"
        raise c.fail(key, f"cannot use {text[:80]}{'...' if len(text) > 80 else ''}: {problem}") from None
    if not exists:
        raise c.fail(key, f"no such file: {text} (paths are relative to the folder of {c.path.name})")
    if not is_file:
        raise c.fail(key, f"not a file: {text}")


def _load_board(c: _Checker, board: str, entries: set[pathlib.Path] | None) -> BoardSpec:
    """A shipped board by name, or a board file by a path relative to the description."""
    if board.endswith(".toml"):
        file = c.path.parent / board
        if entries is not None and file not in entries:
            raise c.fail("system.board", f"must be a shipped board's name or a board entry of the image, "
                                         f"not {board!r}")
        _must_be_a_file(c, file, "system.board", board)
    elif "/" in board or "\\" in board:
        raise c.fail("system.board", f"must be a shipped board's name or a path ending in .toml, not {board!r}")
    else:
        file = board
    try:
        return load_board(file)
    except BoardError as e:
        raise c.fail("system.board", str(e)) from None


def _parse_component(c: _Checker, t: dict, i: int, board: BoardSpec, entries: set[pathlib.Path] | None,
                     index: int) -> ComponentSpec:
    name = c.identifier(t, "name", f"component[{i}]")
    where = f"component {name!r}"
    c.only(t, where, {"name", "elf", "priority", "stack", "uses", "interrupts", "supervisor", "start",
                      "restart", "restart_limit", "restart_window_ms", "restart_then", "heap", "stdout"})
    elf_text = c.get(t, "elf", where, str)
    if not elf_text:
        raise c.fail(f"{where}.elf", "must be the path of an ELF file, not ''")
    priority = c.ranged(c.get(t, "priority", where, int), f"{where}.priority", 0, PRIORITIES - 1)
    stack = c.get(t, "stack", where, int)
    if not (MIN_STACK <= stack <= MAX_STACK and stack % STACK_ALIGN == 0):
        raise c.fail(f"{where}.stack", f"must be a multiple of {STACK_ALIGN} from {MIN_STACK} to {MAX_STACK} "
                                       f"bytes, not {stack}")
    uses = _parse_uses(c, t.get("uses"), where, board)
    interrupts = _parse_interrupts(c, t.get("interrupts"), where, board, uses)
    supervisor = c.get(t, "supervisor", where, str, required=False)
    start = c.get(t, "start", where, bool, required=False, default=True)
    restart = _parse_restart(c, t, where, supervisor is not None)
    heap = c.get(t, "heap", where, int, required=False, default=0)
    if not (0 <= heap <= HEAP_MAX and heap % PAGE_SIZE == 0):
        raise c.fail(f"{where}.heap", f"must be a multiple of {PAGE_SIZE} from 0 to {HEAP_MAX} bytes, not {heap}")
    stdout = c.get(t, "stdout", where, str, required=False, default="log")
    return ComponentSpec(name, c.path.parent / elf_text, priority, stack, uses, interrupts, supervisor, start,
                         index, restart, heap, None if stdout == "log" else stdout)


def _parse_restart(c: _Checker, t: dict, where: str, supervised: bool) -> RestartPolicy:
    action = c.get(t, "restart", where, str, required=False, default="backoff" if supervised else "hold")
    if action not in RESTART_ACTIONS:
        raise c.fail(f"{where}.restart", f"must be one of {', '.join(RESTART_ACTIONS)}, not {action!r}")
    if action == "backoff" and not supervised:
        raise c.fail(f"{where}.restart", "backoff is its supervisor's; a component without one can restart, "
                                         "hold or reboot")
    limit = t.get("restart_limit")
    if limit is None:
        for key in ("restart_window_ms", "restart_then"):
            if key in t:
                raise c.fail(f"{where}.{key}", "needs restart_limit")
        # a component that restarts gets the default limit; hold and reboot have nothing to limit
        return RestartPolicy(action) if action in (RestartAction.RESTART, RestartAction.BACKOFF) else RestartPolicy(action, None)
    if action not in ("restart", "backoff"):
        if "restart" not in t:
            raise c.fail(f"{where}.restart_limit", "limits restarts, but a component without a supervisor is "
                                                   "held by default; set restart = \"restart\"")
        raise c.fail(f"{where}.restart_limit", f"limits restarts; restart = {action!r} restarts nothing")
    limit = c.ranged(limit, f"{where}.restart_limit", 1, MAX_RESTART_LIMIT)
    window = c.ranged(c.get(t, "restart_window_ms", where, int, required=False, default=DEFAULT_RESTART_WINDOW_MS),
                      f"{where}.restart_window_ms", 1, MAX_RESTART_WINDOW_MS)
    then = c.get(t, "restart_then", where, str, required=False, default="hold")
    if then not in LIMIT_ACTIONS:
        raise c.fail(f"{where}.restart_then", f"must be one of {', '.join(LIMIT_ACTIONS)}, not {then!r}")
    return RestartPolicy(action, limit, window, then)


def _check_elves(c: _Checker, components: list[ComponentSpec], entries: set[pathlib.Path] | None) -> None:
    """Each ELF file exists (checked last: the structure's errors come first). Messages
    show the path as written, relative to the description's folder."""
    for comp in components:
        key = f"component {comp.name!r}.elf"
        text = pathlib.Path(os.path.relpath(comp.elf, c.path.parent)).as_posix()
        if entries is not None and comp.elf not in entries:
            raise c.fail(key, f"must name an ELF entry of the image, not {text!r}")
        _must_be_a_file(c, comp.elf, key, text)


# -- peripherals and interrupts --------------------------------------------------------------------


def _parse_uses(c: _Checker, raw: Any, where: str, board: BoardSpec) -> dict[str, int]:
    """`uses = ["uart0"]` (at the physical address) or `uses = { uart0 = 0x5000_0000 }`."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        wanted: dict[str, int | None] = {}
        for name in raw:
            c.value(name, f"{where}.uses", str)
            if name in wanted:
                raise c.fail(f"{where}.uses", f"lists {name!r} twice")
            wanted[name] = None
        keys = {name: f"{where}.uses" for name in wanted}
    elif isinstance(raw, dict):
        wanted = dict(raw)
        keys = {name: f"{where}.uses.{name}" for name in wanted}
    else:
        raise c.fail(f"{where}.uses", f"must be an array of peripheral names or a table of peripheral = "
                                      f"virtual address, not {raw!r}")
    mapped: dict[str, int] = {}
    spans = [(COMPONENT_BASE, COMPONENT_LIMIT - COMPONENT_BASE, "the component's code and data"),
             (STACK_TOP - MAX_STACK, MAX_STACK, "the component's stack window"),
             (HEAP_BASE, HEAP_MAX, "the component's heap window")]
    mappable = [p.name for p in board.peripherals if p.name != board.interrupt_controller]
    for name, address in wanted.items():
        key = keys[name]
        if name == board.interrupt_controller:
            raise c.fail(key, f"{name!r} is the interrupt controller, which only the kernel drives")
        if name not in mappable:
            raise c.fail(key, f"board {board.name} has no peripheral {name!r}; it has: {', '.join(mappable)}")
        peripheral = board.peripheral(name)
        if address is None:
            address = peripheral.base
        else:
            c.value(address, key, int)
            if not 0 <= address < ADDRESS_LIMIT or address % PAGE_SIZE:
                raise c.fail(key, f"must be a page-aligned virtual address (a multiple of {PAGE_SIZE:#x}), "
                                  f"not {address:#x}")
            if address + peripheral.size > ADDRESS_LIMIT:
                raise c.fail(key, f"{address:#x}+{peripheral.size:#x} passes the end of the 32-bit address space")
        for base, size, what in spans:
            if address < base + size and base < address + peripheral.size:
                raise c.fail(key, f"{name} at {_span(address, peripheral.size)} overlaps {what} at "
                                  f"{_span(base, size)}")
        spans.append((address, peripheral.size, f"peripheral {name!r}"))
        mapped[name] = address
    return mapped


def _interrupt_key(where: str, peripheral: str, output: str) -> str:
    return f'{where}.interrupts."{peripheral}.{output}"'


def _parse_interrupts(c: _Checker, raw: Any, where: str, board: BoardSpec,
                      uses: dict[str, int]) -> dict[tuple[str, str], int]:
    """`interrupts = { "uart0.irq" = 0 }`: an output of a used peripheral -> a notification bit."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise c.fail(f"{where}.interrupts", f'must be a table of "peripheral.output" = bit, not {raw!r}')
    result: dict[tuple[str, str], int] = {}
    for text, bit in raw.items():
        key = f'{where}.interrupts."{text}"'
        peripheral, dot, output = text.partition(".")
        if not dot:
            raise c.fail(key, 'must name an interrupt output as "peripheral.output"')
        if peripheral not in uses:
            raise c.fail(key, f"peripheral {peripheral!r} is not in this component's uses")
        spec = board.peripheral(peripheral)
        outputs = spec.cls.IRQS
        if output not in outputs:
            raise c.fail(key, f"{spec.type} has no interrupt output {output!r}; outputs: "
                              f"{', '.join(outputs) or 'none'}")
        if output not in spec.irq:
            raise c.fail(key, f"output {output!r} of {peripheral!r} is not wired on board {board.name}")
        c.ranged(bit, key, 0, NOTIFICATION_BITS - 1)
        for (p, o), other in result.items():
            if other == bit:
                raise c.fail(key, f'bit {bit} is given to "{p}.{o}" already')
        result[peripheral, output] = bit
    return result


def _check_interrupt_owners(c: _Checker, components: list[ComponentSpec], board: BoardSpec) -> None:
    """An output goes to one component only, and so does a controller line (outputs that share
    a line, as AN385's UART overflows do, cannot be told apart by the kernel); and no component
    uses a peripheral with an output on a line that another component owns."""
    owners: dict[tuple[str, str], str] = {}
    lines: dict[int, tuple[str, str, str]] = {}
    for comp in components:
        for (p, o) in comp.interrupts:
            key = _interrupt_key(f"component {comp.name!r}", p, o)
            if (p, o) in owners:
                raise c.fail(key, f"is given to component {owners[p, o]!r} already")
            line = board.peripheral(p).irq[o]
            if line in lines and lines[line][2] != comp.name:
                sp, so, owner = lines[line]
                raise c.fail(key, f'shares interrupt line {line} with "{sp}.{so}", given to component {owner!r}')
            owners[p, o] = comp.name
            lines.setdefault(line, (p, o, comp.name))
    # A component that may program a peripheral can make it raise any of its outputs; one that
    # shares a line another component owns would raise that component's interrupt, which its
    # driver cannot clear (AN385: a UART left in transmit overrun storms line 12 for ever).
    for comp in components:
        for p in comp.uses:
            for o, line in board.peripheral(p).irq.items():
                if line in lines and lines[line][2] != comp.name:
                    sp, so, owner = lines[line]
                    raise c.fail(f"component {comp.name!r}.uses", f'{p}\'s output "{o}" shares interrupt line '
                                                                 f'{line} with "{sp}.{so}", given to component {owner!r}')


# -- endpoints, notifications and capability slots -------------------------------------------------


def _component_name(c: _Checker, value: Any, key: str, names: list[str]) -> str:
    c.value(value, key, str)
    if value not in names:
        raise c.fail(key, f"must name a component ({', '.join(names)}), not {value!r}")
    return value


def _parse_endpoint(c: _Checker, t: dict, i: int, names: list[str],
                    entries: set[pathlib.Path] | None) -> EndpointSpec:
    name = c.identifier(t, "name", f"endpoint[{i}]")
    where = f"endpoint {name!r}"
    c.only(t, where, {"name", "server", "server_slot", "clients", "interface"})
    server = _component_name(c, c.get(t, "server", where, str), f"{where}.server", names)
    server_slot = c.slot(c.get(t, "server_slot", where, int), f"{where}.server_slot")
    raw = c.get(t, "clients", where, dict, required=False, default={})
    clients: dict[str, int] = {}
    for client, slot in raw.items():
        key = f"{where}.clients.{client}"
        if client not in names:
            raise c.fail(key, f"not a component; components: {', '.join(names)}")
        if client == server:
            raise c.fail(key, "is the server of this endpoint")
        clients[client] = c.slot(slot, key)
    interface = None
    text = c.get(t, "interface", where, str, required=False)
    if text is not None:
        file = _entry_file(c, text, f"{where}.interface", "an interface file", entries)
        try:
            interface = load_interface(file)
        except InterfaceError as e:
            raise c.fail(f"{where}.interface", str(e)) from None
    return EndpointSpec(name, server, server_slot, clients, interface)


def _check_interfaces(c: _Checker, endpoints: list[EndpointSpec]) -> None:
    """One interface per name and per id: the monitor tells them apart by both."""
    seen: list[tuple[str, Interface]] = []
    for e in endpoints:
        iface = e.interface
        if iface is None:
            continue
        key = f"endpoint {e.name!r}.interface"
        for endpoint, other in seen:
            if os.path.samefile(other.path, iface.path):
                continue
            if other.name == iface.name:
                raise c.fail(key, f"endpoint {endpoint!r} declares an interface named {iface.name!r} already, "
                                  f"from another file")
            if other.id == iface.id:
                raise c.fail(key, f"interface id {iface.id} is already that of interface {other.name!r} "
                                  f"(endpoint {endpoint!r})")
        seen.append((e.name, iface))


def _parse_notification(c: _Checker, t: dict, i: int, names: list[str]) -> NotificationSpec:
    where = f"notification[{i}]"
    c.only(t, where, {"from", "to", "slot", "bits"})
    source = _component_name(c, c.get(t, "from", where, str), f"{where}.from", names)
    target = _component_name(c, c.get(t, "to", where, str), f"{where}.to", names)
    if source == target:
        raise c.fail(f"{where}.to", f"is {source!r}, the notifier itself")
    slot = c.slot(c.get(t, "slot", where, int), f"{where}.slot")
    bits = c.get(t, "bits", where, int)
    if not 0 < bits < 1 << NOTIFICATION_BITS:
        raise c.fail(f"{where}.bits", f"must be a non-zero 32-bit mask, not {bits:#x}")
    return NotificationSpec(source, target, slot, bits)


def _check_slots(c: _Checker, endpoints: list[EndpointSpec], notifications: list[NotificationSpec]) -> None:
    """One capability per slot of each component's table."""
    held: dict[tuple[str, int], str] = {}

    def place(component: str, slot: int, what: str, key: str) -> None:
        if (component, slot) in held:
            raise c.fail(key, f"slot {slot} of component {component!r} holds {held[component, slot]} already")
        held[component, slot] = what

    for e in endpoints:
        where = f"endpoint {e.name!r}"
        place(e.server, e.server_slot, f"the receive side of endpoint {e.name!r}", f"{where}.server_slot")
        for client, slot in e.clients.items():
            place(client, slot, f"the send side of endpoint {e.name!r}", f"{where}.clients.{client}")
    for i, n in enumerate(notifications):
        place(n.source, n.slot, f"notification[{i}] (to {n.target!r})", f"notification[{i}].slot")


def _check_notification_bits(c: _Checker, components: list[ComponentSpec],
                             notifications: list[NotificationSpec]) -> None:
    """A bit of a component's notification word has one meaning: one interrupt or one notifier."""
    meaning: dict[tuple[str, int], str] = {}
    for comp in components:
        for (p, o), bit in comp.interrupts.items():
            meaning[comp.name, bit] = f'interrupt "{p}.{o}"'
    for i, n in enumerate(notifications):
        for bit in range(NOTIFICATION_BITS):
            if n.bits >> bit & 1:
                if (n.target, bit) in meaning:
                    raise c.fail(f"notification[{i}].bits", f"bit {bit} of component {n.target!r} is given to "
                                                            f"{meaning[n.target, bit]} already")
                meaning[n.target, bit] = f"notification[{i}] (from {n.source!r})"


def _check_stdout(c: _Checker, components: list[ComponentSpec], endpoints: list[EndpointSpec]) -> None:
    """A component's stdout is "log" or an endpoint of the console interface it is a client of."""
    for comp in components:
        if comp.stdout is None:
            continue
        ep = next((e for e in endpoints if e.name == comp.stdout), None)
        if ep is None or comp.name not in ep.clients or (ep.interface is not None and ep.interface.name != "console"):
            raise c.fail(f"component {comp.name!r}.stdout",
                         f"must be \"log\" or a console endpoint the component is a client of, not {comp.stdout!r}")


def _check_supervisors(c: _Checker, components: list[ComponentSpec], endpoints: list[EndpointSpec]) -> None:
    names = [comp.name for comp in components]
    served = {e.server for e in endpoints}
    for comp in components:
        if comp.supervisor is None:
            continue
        key = f"component {comp.name!r}.supervisor"
        if comp.supervisor not in names:
            raise c.fail(key, f"must name a component ({', '.join(names)}), not {comp.supervisor!r}")
        if comp.supervisor == comp.name:
            raise c.fail(key, "is the component itself; faults need another component to go to")
        if comp.supervisor not in served:
            raise c.fail(key, f"component {comp.supervisor!r} serves no endpoint to receive faults on")
