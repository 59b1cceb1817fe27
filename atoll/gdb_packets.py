"""What each GDB packet does: registers, memory, running, threads, break/watchpoints, queries.

`GdbPackets.handle(payload)` answers one packet for a `GdbStub` (atoll.gdbstub):
the reply text, or None when the reply comes later (a stop after `c` or `s`) or was
already sent. Registers are the `Cpu`'s `GDB_REGISTERS` in GDB's order, read and
written through the shared `atoll.control` (live for the running thread, else its
saved context); the target description is built from the `Cpu` too, so nothing
here depends on the ISA (register numbers follow GDB's own descriptions, so the
components whose description GDB builds from their ELF agree with the stub's). Memory goes
through the selected thread's address space; thread ids are `N`, or `pP.T` once the client
took the multiprocess extensions.
A packet this stub does not know gets the empty reply, as the protocol asks.
"""

from __future__ import annotations

from typing import Callable

from . import gdb_reverse, views
from .rsp import MAX_PACKET, escape, unescape

_WATCH = {2: "write", 3: "read", 4: "access"}

#: registers GDB numbers apart from their place in `Cpu.GDB_REGISTERS`: its own M-profile
#: description puts xpsr at 25 (after the FPA registers of old ARMs). GDB reads the stub's
#: description for the first component only; the others (see "multiprocess") get the
#: description GDB builds from their ELF, so the numbers must agree with GDB's
_GDB_NUMBER = {"org.gnu.gdb.arm.m-profile": {"xpsr": 25}}


def register_numbers(cpu) -> dict[int, str]:
    """GDB's register number -> register name, for `cpu`."""
    moved = _GDB_NUMBER.get(cpu.GDB_FEATURE, {})
    return {moved.get(name, i): name for i, name in enumerate(cpu.GDB_REGISTERS)}


def target_xml(cpu) -> str:
    """The target description GDB reads with qXfer:features:read:target.xml."""
    def reg(name: str, i: int, kind: str = "uint32") -> str:
        if name == "pc":
            kind = "code_ptr"
        elif name == "sp":
            kind = "data_ptr"
        elif name == "xpsr":
            kind = "int"
        return f'    <reg name="{name}" bitsize="32" regnum="{i}" type="{kind}"/>\n'
    regs = "".join(reg(n, i) for i, n in register_numbers(cpu).items())
    return ('<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n'
            f'  <architecture>{cpu.GDB_ARCHITECTURE}</architecture>\n  <feature name="{cpu.GDB_FEATURE}">\n'
            f'{regs}  </feature>\n</target>\n')


def thread_id(text: str) -> int | None:
    """The component a thread id names (N, or pP.T: process P); None for "any" or "all" (0, -1)."""
    if text.startswith("p"):
        text = text[1:].partition(".")[0]
    if text in ("", "0", "-1"):
        return None
    tid = int(text, 16)
    return tid if tid > 0 else None


def resumed_by(actions) -> set[int] | None:
    """The components a vCont's (kind, ":", thread) actions resume in GDB's eyes (None: every
    one): with GDB's `schedule-multiple` off it names the selected inferior's process only."""
    resumed: set[int] = set()
    for kind, _, thread in actions:
        if kind[:1] == "t":
            continue
        tid = thread_id(thread) if thread else None
        if tid is None:
            return None
        resumed.add(tid)
    return resumed


def _point(packet: bytes) -> tuple[int, int, int]:
    kind, address, length = packet[1:].decode().split(";")[0].split(",")[:3]
    return int(kind), int(address, 16), int(length, 16)


class GdbPackets:
    """The packet handlers of one stub, and the break/watchpoints GDB set through them."""

    def __init__(self, stub) -> None:
        """`stub`: the `GdbStub` these packets drive (its threads, running state and connection)."""
        self.stub = stub
        self.control = stub.control
        self._names = stub.machine.cpu.GDB_REGISTERS
        self._numbers = register_numbers(stub.machine.cpu)
        #: a 'g' packet carries the registers numbered 0, 1, ... without a gap; the rest GDB
        #: reads one by one ('p')
        self._in_g = [self._numbers[i] for i in range(len(self._numbers)) if i in self._numbers]
        self._xml = target_xml(stub.machine.cpu).encode()
        self._breaks: dict[tuple[int, int], object] = {}   # (address, id of space) -> space
        #: the client speaks the multiprocess extensions (it offered them, and there is a kernel)
        self.multiprocess = False
        #: the components GDB detached from one by one (D;PID)
        self.detached: set[int] = set()
        #: the client reads `swbreak` stop reasons
        self.swbreak = False
        self._watches: dict[tuple[int, int, int, int], object] = {}   # (kind, address, length, id of space)
        self.handlers: dict[str, Callable[[bytes], bytes | str | None]] = {
            "?": lambda p: self.stub.last_stop, "g": self._h_read_registers, "G": self._h_write_registers,
            "p": self._h_read_register, "P": self._h_write_register, "m": self._h_read_memory,
            "M": self._h_write_memory, "X": self._h_write_binary, "c": self._h_continue,
            "s": self._h_step, "H": self._h_set_thread, "T": self._h_thread_alive,
            "Z": self._h_insert, "z": self._h_remove, "D": self._h_detach, "k": self._h_kill,
            "!": lambda p: "OK",
        }
        gdb_reverse.install(self)   # `bs`/`bc`, the recording, monitor snapshot/record (atoll/gdb_reverse.py)

    def handle(self, packet: bytes) -> bytes | str | None:
        text = packet.decode("latin-1")
        if text.startswith("q") or text.startswith("Q"):
            return self._query(text)
        if text.startswith("v"):
            return self._v_packet(text)
        handler = self.handlers.get(text[:1])
        return handler(packet) if handler is not None else ""

    def clear_points(self, space=None) -> None:
        """Remove every breakpoint and watchpoint GDB set (only those of `space`, if given)."""
        if space is None:
            self.stub.debug.clear()
            self._breaks.clear()
            self._watches.clear()
            return
        for key in [k for k, s in self._breaks.items() if s is space]:
            self.stub.debug.remove_breakpoint(key[0], self._breaks.pop(key))
        for key in [k for k, s in self._watches.items() if s is space]:
            self.stub.debug.remove_watchpoint(key[1], key[2], _WATCH[key[0]], self._watches.pop(key))

    # -- registers ---------------------------------------------------------------

    def read_register(self, t, index: int) -> int:
        """Register `index` of `GDB_REGISTERS` of thread `t`."""
        return self.control.read(t.thread, self._names[index])

    def _write_register(self, t, index: int, value: int) -> None:
        self.control.write(t.thread, self._names[index], value)

    def _h_read_registers(self, packet: bytes) -> str:
        t = self.stub.thread()
        return "".join(self.control.read(t.thread, n).to_bytes(4, "little").hex() for n in self._in_g)

    def _h_write_registers(self, packet: bytes) -> str:
        data = bytes.fromhex(packet[1:].decode())
        t = self.stub.thread()
        for i, name in enumerate(self._in_g[:len(data) // 4]):
            self.control.write(t.thread, name, int.from_bytes(data[4 * i:4 * i + 4], "little"))
        return "OK"

    def _h_read_register(self, packet: bytes) -> str:
        number = int(packet[1:], 16)
        name = self._numbers.get(number)
        if name is None:
            # below the highest number: a register GDB's own description has and this CPU
            # lacks (the FPA registers of old ARMs): unavailable
            return "xxxxxxxx" if 0 <= number < max(self._numbers) else "E45"
        return self.control.read(self.stub.thread().thread, name).to_bytes(4, "little").hex()

    def _h_write_register(self, packet: bytes) -> str:
        number, _, value = packet[1:].decode().partition("=")
        name = self._numbers.get(int(number, 16))
        if name is None or len(value) != 8:
            return "E45"
        self.control.write(self.stub.thread().thread, name, int.from_bytes(bytes.fromhex(value), "little"))
        return "OK"

    # -- memory ------------------------------------------------------------------

    @staticmethod
    def _address_length(text: str) -> tuple[int, int]:
        address, _, length = text.partition(",")
        a, n = int(address, 16), int(length, 16)
        if not (0 <= a <= 0xFFFFFFFF and 0 <= n and a + n <= 0x1_0000_0000):
            raise ValueError("address out of range")
        return a, n

    def _h_read_memory(self, packet: bytes) -> str:
        address, length = self._address_length(packet[1:].decode())
        length = min(length, MAX_PACKET // 2)
        try:
            return self.stub.machine.read_virtual(self.stub.thread().space, address, length).hex()
        except Exception:  # unmapped (FaultError), or a device that refuses
            return "E14"

    def _write_memory(self, address: int, data: bytes) -> str:
        try:
            self.stub.machine.write_virtual(self.stub.thread().space, address, data)
        except Exception:  # unmapped (FaultError), or a device that refuses
            return "E14"
        return "OK"

    def _h_write_memory(self, packet: bytes) -> str:
        head, _, data = packet[1:].decode().partition(":")
        address, length = self._address_length(head)
        payload = bytes.fromhex(data)
        if len(payload) != length:
            return "E01"
        return self._write_memory(address, payload)

    def _h_write_binary(self, packet: bytes) -> str:
        head, sep, data = packet[1:].partition(b":")
        if not sep:
            return "E01"
        address, length = self._address_length(head.decode())
        payload = unescape(data)
        if len(payload) != length:
            return "E01"
        return self._write_memory(address, payload) if length else "OK"

    # -- running and threads -------------------------------------------------------

    def _h_continue(self, packet: bytes) -> None:
        self.stub.resumed = None
        if len(packet) > 1:
            self._write_register(self.stub.thread(), self._names.index("pc"), int(packet[1:], 16))
        self.stub.resume()
        return None

    def _h_step(self, packet: bytes) -> None:
        self.stub.resumed = None
        if len(packet) > 1:
            self._write_register(self.stub.thread(), self._names.index("pc"), int(packet[1:], 16))
        self.stub.step()
        return None

    def _v_packet(self, text: str) -> str | None:
        if text == "vCont?":
            return "vCont;c;C;s;S"
        if text.startswith("vCont;"):
            return self._v_cont(text)
        if text.startswith("vKill"):
            self.stub.killed = True
            return "OK"
        return ""

    def _v_cont(self, text: str) -> str | None:
        """vCont: a step action steps its thread (the selected one if it names none) while the
        rest of the system runs as needed; any continue action runs the whole system."""
        actions = [a.partition(":") for a in text[6:].split(";") if a]
        if not actions:
            return "E01"
        kinds = [a[0][:1] for a in actions]
        if any(k not in "cCsSt" for k in kinds):
            return "E01"
        self.stub.resumed = resumed_by(actions)
        step = next((a for a in actions if a[0][:1] in "sS"), None)
        if step is not None:
            tid = thread_id(step[2]) if step[2] else None
            if tid is not None and any(t.tid == tid for t in self.stub.threads()):
                self.stub.selected = tid
            self.stub.step()
            return None
        if "c" in kinds or "C" in kinds:
            self.stub.resume()
            return None
        return "OK"

    # -- thread ids: N, or pP.T with the multiprocess extensions (one process per component) --

    def thread_text(self, tid: int) -> str:
        """How a thread id is written in a reply: component N is process N, its thread 1."""
        return f"p{tid:x}.1" if self.multiprocess else f"{tid:x}"

    def _h_set_thread(self, packet: bytes) -> str:
        text = packet[2:].decode()
        if not text:
            return "E01"
        tid = thread_id(text)
        if tid is None:
            return "OK"
        if not any(t.tid == tid for t in self.stub.threads()):
            return "E01"
        if packet[1:2] == b"g":
            self.stub.selected = tid
        return "OK"

    def _h_thread_alive(self, packet: bytes) -> str:
        tid = thread_id(packet[1:].decode())
        return "OK" if any(t.tid == tid for t in self.stub.threads()) else "E01"

    def _h_detach(self, packet: bytes) -> None:
        """D (or D;PID, one inferior of many): GDB lets go. Breakpoints go, the system runs on
        once GDB has let go of every component."""
        pid = thread_id(packet[2:].decode()) if packet[1:2] == b";" else None
        if pid is not None and self.multiprocess:
            self.detached.add(pid)
            if len(self.detached) < len(self.stub.threads()):
                self.clear_points(self.stub.thread(pid).space)
                return "OK"
        self.clear_points()
        self.stub.running = True
        self.stub.send("OK")
        self.stub.disconnect()
        return None

    def _h_kill(self, packet: bytes) -> None:
        self.stub.killed = True
        return None

    # -- breakpoints and watchpoints ------------------------------------------------

    def _h_insert(self, packet: bytes) -> str:
        kind, address, length = _point(packet)
        debug = self.stub.debug
        space = self.stub.thread().space if self.stub.kernel is not None else None
        if kind in (0, 1):
            if (address, id(space)) not in self._breaks:
                debug.add_breakpoint(address, space)
                self._breaks[address, id(space)] = space
            return "OK"
        if kind in _WATCH:
            watch_space = self.stub.thread().space
            key = (kind, address, length, id(watch_space))
            if key in self._watches:
                return "OK"
            try:
                debug.add_watchpoint(address, length, _WATCH[kind], watch_space)
            except ValueError:
                return "E22"
            self._watches[key] = watch_space
            return "OK"
        return ""

    def _h_remove(self, packet: bytes) -> str:
        kind, address, length = _point(packet)
        if kind in (0, 1):
            space = self.stub.thread().space if self.stub.kernel is not None else None
            if (address, id(space)) in self._breaks:
                self.stub.debug.remove_breakpoint(address, self._breaks.pop((address, id(space))))
            return "OK"
        if kind in _WATCH:
            space = self._watches.pop((kind, address, length, id(self.stub.thread().space)), None)
            if space is not None:
                self.stub.debug.remove_watchpoint(address, length, _WATCH[kind], space)
            return "OK"
        return ""

    # -- queries -------------------------------------------------------------------

    def _query(self, text: str) -> str | bytes | None:
        name, _, rest = text.partition(":")
        if name == "qSupported":
            offered = rest.split(";")
            self.multiprocess = "multiprocess+" in offered and self.stub.kernel is not None
            self.detached.clear()
            self.swbreak = "swbreak+" in offered
            return (f"PacketSize={MAX_PACKET:x};qXfer:features:read+;QStartNoAckMode+;vContSupported+"
                    + (";multiprocess+;qXfer:exec-file:read+" if self.multiprocess else "")
                    + (";swbreak+;hwbreak+" if "swbreak+" in offered else "") + ";" + gdb_reverse.SUPPORTED)
        if text == "QStartNoAckMode":
            self.stub.send("OK")
            if self.stub.conn is not None:
                self.stub.conn.ack = False
            return None
        if name == "qXfer" and rest.startswith("features:read:"):
            return self._target_description(rest[len("features:read:"):])
        if name == "qXfer" and rest.startswith("exec-file:read:"):
            return self._exec_file(rest[len("exec-file:read:"):])
        if text in ("qfThreadInfo", "qsThreadInfo") or text.startswith("qThreadExtraInfo,"):
            return self._thread_query(text)
        if text == "qC":
            return f"QC{self.thread_text(self.stub.current_tid())}"
        if name == "qAttached":
            return "1"
        if text.startswith("qRcmd,"):
            command = bytes.fromhex(text[6:]).decode("utf-8", "replace").strip()
            return monitor(self, command).encode().hex() or "OK"
        if name == "qSymbol":
            return "OK"
        return ""

    def _target_description(self, request: str) -> str | bytes:
        annex, _, span = request.partition(":")
        if annex != "target.xml":
            return "E00"
        offset, length = (int(x, 16) for x in span.split(","))
        chunk = self._xml[offset:offset + min(length, MAX_PACKET - 8)]
        more = offset + len(chunk) < len(self._xml)
        return (b"m" if more else b"l") + escape(chunk)

    def _exec_file(self, request: str) -> str | bytes:
        """qXfer:exec-file:read:PID:OFFSET,LENGTH: the ELF file component PID was loaded from."""
        annex, _, span = request.partition(":")
        tid = thread_id(annex) if annex else self.stub.selected
        t = next((t for t in self.stub.threads() if t.tid == tid), None)
        component = None if t is None or self.stub.kernel is None else self.stub.kernel.state.components.get(t.name)
        path = None if component is None else component.image.path
        if path is None:
            return "E00"
        data = str(path).encode()
        offset, length = (int(x, 16) for x in span.split(","))
        chunk = data[offset:offset + min(length, MAX_PACKET - 8)]
        return (b"m" if offset + len(chunk) < len(data) else b"l") + escape(chunk)

    def _thread_query(self, text: str) -> str:
        if text == "qfThreadInfo":
            return "m" + ",".join(self.thread_text(t.tid) for t in self.stub.threads())
        if text == "qsThreadInfo":
            return "l"
        tid = thread_id(text.split(",", 1)[1])
        t = next((t for t in self.stub.threads() if t.tid == tid), None)
        if t is None:
            return "E01"
        described = "bare-metal" if t.thread is None else f"{t.name} ({t.thread.state.value})"
        return described.encode().hex()


# -- monitor commands ----------------------------------------------------------------


def monitor(packets: GdbPackets, command: str) -> str:
    """The reply to `monitor COMMAND` (qRcmd)."""
    stub = packets.stub
    word = command.split()[0] if command.split() else "help"
    if word == "ps":
        if stub.kernel is not None:
            return views.ps(stub.machine, stub.kernel)
        pc = packets.read_register(stub.thread(1), stub.machine.cpu.GDB_REGISTERS.index("pc"))
        return f"{'ID':>3} {'NAME':12} {'STATE':11} {'PRIO':>4} {'PC':>10}\n  1 bare-metal   running        - {pc:#010x}\n"
    if word == "fault":
        return stub.fault_report()
    if word == "ipc":
        if stub.kernel is None:
            return "a bare-metal board has no IPC\n"
        return views.ipc(stub.kernel, 20)
    if word == "reset":
        packets.clear_points()
        if stub.kernel is None:
            stub.machine.reset()
            return "board reset; breakpoints removed (GDB: maintenance flush register-cache)\n"
        for p in stub.kernel.processes:
            stub.kernel.restart(p)
        return "every component restarted; breakpoints removed (GDB: maintenance flush register-cache)\n"
    if word in ("snapshot", "record"):
        return packets.reverse.monitor(command)
    if word == "help":
        return ("monitor commands: ps (components and their states), ipc (recent IPC), "
                "fault (the fault GDB stopped at, or the selected component's last), "
                "reset (restart every component, or the bare-metal board)\n")
    return f"unknown monitor command {word!r}; try 'monitor help'\n"
