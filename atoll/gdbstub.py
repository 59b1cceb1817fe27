"""A GDB remote serial protocol (RSP) stub: gdb-multiarch attaches to a running board.

    atoll boot IMAGE --gdb PORT [--wait]
    gdb-multiarch -ex 'target extended-remote :PORT'

One TCP client at a time on 127.0.0.1. The stub runs in the emulation's own
thread: while the system runs, it runs the kernel (or the bare machine) in short
slices and polls the socket in between (for Ctrl-C, byte 0x03); while it is
stopped, it blocks on the socket. Nothing here is a per-instruction hook:
breakpoints and watchpoints are `machine.MachineDebug` hooks on their own
addresses, so a debugged system runs close to full speed.

Threads are components: thread id N is the kernel's process index N, named by
`qThreadExtraInfo`; a bare-metal machine is one thread. Registers of the thread
GDB selected (`Hg`) come from the CPU if it is the one running, otherwise from its
saved context; memory is read and written through its own address space.
Breakpoints are set in the address space of the selected thread (every component
is linked at the same addresses). A single step runs one instruction of the
running component and takes no pending clock event or interrupt first.

Robustness: a packet with a bad checksum is refused (`-`, or dropped in no-ack
mode), one longer than `MAX_PACKET` is dropped, one that cannot be understood gets
an `E` reply or the empty reply, and no packet can raise out of the stub. GDB
detaching or disconnecting removes its breakpoints and lets the system run on;
only `kill` ends the run.
"""

from __future__ import annotations

import select
import socket
import sys
from dataclasses import dataclass
from typing import Callable

from machine import DebugHit, Machine, MachineDebug, Stop

from . import views

#: the longest packet payload accepted (and announced as PacketSize)
MAX_PACKET = 0x4000
#: virtual time run between two polls of the socket while the system runs (a few
#: milliseconds of wall time at most; shorter costs speed: see bench/tools.py)
SLICE_SECONDS = 0.02

SIGINT, SIGTRAP, SIGILL, SIGSEGV = 2, 5, 4, 11

_ARM_REGISTERS = views.ARM_REGISTERS
_RISCV_REGISTERS = views.RISCV_REGISTERS


def target_xml(isa: str) -> str:
    """The target description GDB reads with qXfer:features:read:target.xml."""
    def reg(name: str, i: int, kind: str = "uint32") -> str:
        if name == "pc":
            kind = "code_ptr"
        elif name == "sp":
            kind = "data_ptr"
        elif name == "xpsr":
            kind = "int"
        return f'    <reg name="{name}" bitsize="32" regnum="{i}" type="{kind}"/>\n'
    if isa == "armv7m":
        arch, feature, names = "arm", "org.gnu.gdb.arm.m-profile", _ARM_REGISTERS
    else:
        arch, feature, names = "riscv:rv32", "org.gnu.gdb.riscv.cpu", _RISCV_REGISTERS
    regs = "".join(reg(n, i) for i, n in enumerate(names))
    return ('<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n'
            f'  <architecture>{arch}</architecture>\n  <feature name="{feature}">\n{regs}  </feature>\n</target>\n')


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    """Binary data for a reply: `$`, `#`, `}` and `*` become `}` and the byte xor 0x20."""
    out = bytearray()
    for b in data:
        if b in b"$#}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == 0x7D:
            nxt = next(it, None)
            if nxt is None:
                raise ValueError("escape at the end of binary data")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + b"%02x" % checksum(payload)


class _Disconnected(Exception):
    """The client went away."""


class RspConnection:
    """RSP framing over one socket: acks, checksums, no-ack mode, Ctrl-C."""

    INTERRUPT = object()

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.ack = True
        self._last_sent = b""

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        self._last_sent = frame(payload)
        try:
            self.sock.sendall(self._last_sent)
        except OSError:
            raise _Disconnected() from None

    def fill(self, timeout: float | None) -> None:
        """Read what has arrived (waiting at most `timeout`; None: until something does)."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            raise _Disconnected() from None
        if not data:
            raise _Disconnected()
        self.buffer += data

    def next_event(self):
        """A complete packet's payload, INTERRUPT, or None when the buffer holds neither."""
        buf = self.buffer
        while buf:
            b = buf[0]
            if b == 0x03:
                del buf[0]
                return self.INTERRUPT
            if b == ord("-") and self.ack and self._last_sent:
                del buf[0]
                try:
                    self.sock.sendall(self._last_sent)  # the client asks for it again
                except OSError:
                    raise _Disconnected() from None
                continue
            if b != ord("$"):
                del buf[0]          # acks and noise between packets
                continue
            end = buf.find(b"#")
            if end < 0:
                if len(buf) > MAX_PACKET + 4:
                    del buf[0]      # oversized or never terminated: drop its start, resync
                    continue
                return None
            if len(buf) < end + 3:
                return None
            payload = bytes(buf[1:end])
            sent = bytes(buf[end + 1:end + 3])
            del buf[:end + 3]
            try:
                good = int(sent, 16) == checksum(payload)
            except ValueError:
                good = False
            if len(payload) > MAX_PACKET:
                good = False
            if self.ack:
                try:
                    self.sock.sendall(b"+" if good else b"-")
                except OSError:
                    raise _Disconnected() from None
            if good:
                return payload
        return None


@dataclass
class _Thread:
    tid: int
    name: str
    space: object
    thread: object | None   # the kernel's Thread, None on bare metal


class GdbStub:
    """Serves one board (and its kernel, if any) to GDB clients."""

    def __init__(self, machine: Machine, kernel=None, port: int = 0, host: str = "127.0.0.1") -> None:
        self.machine = machine
        self.kernel = kernel
        self.debug = MachineDebug(machine)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn: RspConnection | None = None
        self.running = True
        self.selected = 0
        self._last_stop = "S05"
        self._breaks: dict[int, object] = {}
        self._watches: dict[tuple[int, int, int], object] = {}
        self._killed = False
        self.last_machine_stop: Stop | None = None
        names = _ARM_REGISTERS if machine.isa == "armv7m" else _RISCV_REGISTERS
        self._reg_names = names
        self._reg_ids = [machine.cpu._id(n) for n in names]
        self._xml = target_xml(machine.isa).encode()
        self.handlers: dict[str, Callable[[bytes], bytes | str | None]] = {
            "?": self._h_stop_reason, "g": self._h_read_registers, "G": self._h_write_registers,
            "p": self._h_read_register, "P": self._h_write_register, "m": self._h_read_memory,
            "M": self._h_write_memory, "X": self._h_write_binary, "c": self._h_continue,
            "s": self._h_step, "H": self._h_set_thread, "T": self._h_thread_alive,
            "Z": self._h_insert, "z": self._h_remove, "D": self._h_detach, "k": self._h_kill,
            "!": lambda p: "OK",
        }

    # -- the loop ----------------------------------------------------------------

    def serve(self, wait: bool = False, until: int | None = None) -> Stop | None:
        """Run the system under the stub until `until` (a clock cycle), every component exited,
        or GDB kills it. With `wait`, nothing runs until a client connects and continues."""
        self.running = not wait
        if wait:
            self._stopped_at(SIGTRAP, None)
        try:
            while not self._killed:
                if self.conn is None:
                    self._accept(block=not self.running)
                    if self.conn is not None and self.running:
                        self.running = False               # attaching stops the target
                        self._stopped_at(SIGINT, None)
                if self.running:
                    if self._finished(until):
                        if self.conn is not None:
                            self._send("W00")
                        break
                    self._run_slice(until)
                    if self.conn is not None:
                        self._poll(0)
                elif self.conn is not None:
                    self._poll(0.25)
        finally:
            self.close()
        return self.last_machine_stop

    def close(self) -> None:
        if self.conn is not None:
            self.conn.sock.close()
            self.conn = None
        self.listener.close()

    def _finished(self, until: int | None) -> bool:
        if until is not None and self.machine.clock.now >= until:
            return True
        return self.kernel is not None and self.kernel.all_exited()

    def _accept(self, block: bool) -> None:
        ready, _, _ = select.select([self.listener], [], [], None if block else 0)
        if not ready:
            return
        sock, _ = self.listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = RspConnection(sock)

    def _run_slice(self, until: int | None) -> None:
        clock = self.machine.clock
        cycles = clock.cycles(SLICE_SECONDS)
        if until is not None:
            cycles = max(0, min(cycles, until - clock.now))
        runner = self.kernel if self.kernel is not None else self.machine
        stop = runner.run(cycles)
        self.last_machine_stop = stop
        hit = self.debug.take_hit()
        if hit is not None:
            self._report_hit(hit)
        elif stop.reason == "fault" and self.kernel is None:
            self.running = False
            self._stopped_at(SIGSEGV, None)
        elif stop.reason == "trap" and self.kernel is None:
            self.running = False
            self._stopped_at(SIGTRAP, None)

    def _report_hit(self, hit: DebugHit) -> None:
        self.running = False
        extra = ""
        if hit.kind == "watchpoint":
            word = {"write": "watch", "read": "rwatch", "access": "awatch"}[hit.watch]
            extra = f"{word}:{hit.address:x};"
        self._stopped_at(SIGTRAP, self._tid_of_space(hit.space), extra)

    def _stopped_at(self, signal: int, tid: int | None, extra: str = "") -> None:
        """Record a stop (and tell the client, if one is connected and waiting)."""
        self.running = False
        if tid is None:
            tid = self._current_tid()
        self.selected = tid
        self._last_stop = f"T{signal:02x}{extra}thread:{tid:x};"
        if self.conn is not None:
            self._send(self._last_stop)

    def _poll(self, timeout: float) -> None:
        conn = self.conn
        try:
            conn.fill(timeout)
            while self.conn is conn:
                event = conn.next_event()
                if event is None:
                    break
                if event is RspConnection.INTERRUPT:
                    if self.running:
                        self._stopped_at(SIGINT, None)
                    continue
                self._dispatch(event)
        except _Disconnected:
            self._disconnect()

    def _send(self, payload: bytes | str) -> None:
        try:
            self.conn.send(payload)
        except _Disconnected:
            self._disconnect()

    def _disconnect(self) -> None:
        """The client left: its breakpoints go, and the system runs on."""
        if self.conn is not None:
            self.conn.sock.close()
            self.conn = None
        self._clear_points()
        self.running = True

    def _clear_points(self) -> None:
        self.debug.clear()
        self._breaks.clear()
        self._watches.clear()

    def _dispatch(self, packet: bytes) -> None:
        try:
            reply = self._handle(packet)
        except Exception as e:  # never out of the stub: an error reply instead
            print(f"atoll gdb: {packet[:40]!r}: {type(e).__name__}: {e}", file=sys.stderr)
            reply = "E01"
        if reply is not None and self.conn is not None:
            self._send(reply)

    def _handle(self, packet: bytes) -> bytes | str | None:
        text = packet.decode("latin-1")
        if text.startswith("q") or text.startswith("Q"):
            return self._query(text)
        if text.startswith("v"):
            return self._v_packet(text)
        handler = self.handlers.get(text[:1])
        return handler(packet) if handler is not None else ""

    # -- threads -----------------------------------------------------------------

    def _threads(self) -> list[_Thread]:
        if self.kernel is None:
            return [_Thread(1, "bare-metal", self.machine.space, None)]
        return [_Thread(p.index, p.name, p.space, p.thread) for p in self.kernel.processes]

    def _thread(self, tid: int | None = None) -> _Thread:
        tid = self.selected if tid is None else tid
        threads = self._threads()
        for t in threads:
            if t.tid == tid:
                return t
        return next((t for t in threads if t.tid == self._current_tid()), threads[0])

    def _current_tid(self) -> int:
        if self.kernel is None or not self.kernel.processes:
            return 1
        current = self.kernel.current
        if current is not None:
            return current.process.index
        return self.selected if self.selected > 0 else self.kernel.processes[0].index

    def _tid_of_space(self, space) -> int:
        for t in self._threads():
            if t.space is space:
                return t.tid
        return self._current_tid()

    def _is_live(self, t: _Thread) -> bool:
        return t.thread is None or self.kernel.current is t.thread

    def _describe(self, t: _Thread) -> str:
        if t.thread is None:
            return "bare-metal"
        return f"{t.name} ({t.thread.state.value})"

    # -- registers ---------------------------------------------------------------

    def _read_reg(self, t: _Thread, index: int) -> int:
        rid = self._reg_ids[index]
        value = self.machine.uc.reg_read(rid) if self._is_live(t) else t.thread.context.reg_read(rid)
        return value & 0xFFFFFFFF

    def _write_reg(self, t: _Thread, index: int, value: int) -> None:
        if self._reg_names[index] == "pc" and self.machine.isa == "armv7m":
            value |= 1      # Thumb state only
        rid = self._reg_ids[index]
        if self._is_live(t):
            self.machine.uc.reg_write(rid, value)
        else:
            t.thread.context.reg_write(rid, value)

    def _h_read_registers(self, packet: bytes) -> str:
        t = self._thread()
        return "".join(self._read_reg(t, i).to_bytes(4, "little").hex() for i in range(len(self._reg_ids)))

    def _h_write_registers(self, packet: bytes) -> str:
        data = bytes.fromhex(packet[1:].decode())
        t = self._thread()
        for i in range(min(len(data) // 4, len(self._reg_ids))):
            self._write_reg(t, i, int.from_bytes(data[4 * i:4 * i + 4], "little"))
        return "OK"

    def _h_read_register(self, packet: bytes) -> str:
        index = int(packet[1:], 16)
        if not 0 <= index < len(self._reg_ids):
            return "E45"
        return self._read_reg(self._thread(), index).to_bytes(4, "little").hex()

    def _h_write_register(self, packet: bytes) -> str:
        number, _, value = packet[1:].decode().partition("=")
        index = int(number, 16)
        if not 0 <= index < len(self._reg_ids) or len(value) != 8:
            return "E45"
        self._write_reg(self._thread(), index, int.from_bytes(bytes.fromhex(value), "little"))
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
            return self.machine.read_virtual(self._thread().space, address, length).hex()
        except Exception:  # unmapped (FaultError), or a device that refuses
            return "E14"

    def _write_memory(self, address: int, data: bytes) -> str:
        try:
            self.machine.write_virtual(self._thread().space, address, data)
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

    # -- running -----------------------------------------------------------------

    def _resume(self) -> None:
        """Let every thread that sits on a breakpoint run past it once."""
        for t in self._threads():
            pc = self._read_reg(t, self._reg_names.index("pc"))
            self.debug.skip_once(t.space, pc)

    def _h_continue(self, packet: bytes) -> None:
        if len(packet) > 1:
            self._write_reg(self._thread(), self._reg_names.index("pc"), int(packet[1:], 16))
        self._resume()
        self.running = True
        return None

    def _h_step(self, packet: bytes) -> None:
        if len(packet) > 1:
            self._write_reg(self._thread(), self._reg_names.index("pc"), int(packet[1:], 16))
        self._step()
        return None

    def _step(self) -> None:
        """One instruction of the running component; no clock event or interrupt first."""
        if self.kernel is not None and self.kernel.current is None:
            # nothing runs: let time pass until a component does
            self.kernel.run_until(lambda: self.kernel.current is not None, 1.0)
        t = self._thread(self._current_tid())
        pc_index = self._reg_names.index("pc")
        self.debug.skip_once(t.space, self._read_reg(t, pc_index))
        stop = self.machine.step(1, events=False)
        self.last_machine_stop = stop
        hit = self.debug.take_hit()
        if hit is not None and hit.kind == "watchpoint":
            self._report_hit(hit)
            return
        signal = SIGTRAP
        if stop.reason == "fault":
            signal = SIGSEGV
        self._stopped_at(signal, t.tid)

    def _v_packet(self, text: str) -> str | None:
        if text == "vCont?":
            return "vCont;c;C;s;S"
        if text.startswith("vCont;"):
            actions = [a.partition(":") for a in text[6:].split(";") if a]
            if not actions:
                return "E01"
            kinds = [a[0][:1] for a in actions]
            if any(k not in "cCsSt" for k in kinds):
                return "E01"
            step = next((a for a in actions if a[0][:1] in "sS"), None)
            if step is not None:
                if step[2] and step[2] not in ("-1", "0"):
                    tid = int(step[2], 16)
                    if any(t.tid == tid for t in self._threads()):
                        self.selected = tid
                self._step()
                return None
            if "c" in kinds or "C" in kinds:
                self._resume()
                self.running = True
                return None
            return "OK"
        if text.startswith("vKill"):
            self._killed = True
            return "OK"
        if text == "vMustReplyEmpty":
            return ""
        return ""

    def _h_set_thread(self, packet: bytes) -> str:
        text = packet[2:].decode()
        if not text:
            return "E01"
        tid = int(text, 16)
        if tid in (0, -1) or text == "-1":
            return "OK"
        if not any(t.tid == tid for t in self._threads()):
            return "E01"
        if packet[1:2] == b"g":
            self.selected = tid
        return "OK"

    def _h_thread_alive(self, packet: bytes) -> str:
        tid = int(packet[1:], 16)
        return "OK" if any(t.tid == tid for t in self._threads()) else "E01"

    def _h_stop_reason(self, packet: bytes) -> str:
        return self._last_stop

    def _h_detach(self, packet: bytes) -> str:
        self._clear_points()
        self.running = True
        self._send("OK")
        self._disconnect()
        return None

    def _h_kill(self, packet: bytes) -> None:
        self._killed = True
        return None

    # -- breakpoints and watchpoints ------------------------------------------------

    def _point(self, packet: bytes) -> tuple[int, int, int]:
        kind, address, length = packet[1:].decode().split(";")[0].split(",")[:3]
        return int(kind), int(address, 16), int(length, 16)

    def _h_insert(self, packet: bytes) -> str:
        kind, address, length = self._point(packet)
        space = self._thread().space if self.kernel is not None else None
        if kind in (0, 1):
            if address not in self._breaks:
                self.debug.add_breakpoint(address, space)
                self._breaks[address] = space
            return "OK"
        if kind in (2, 3, 4):
            key = (kind, address, length)
            if key in self._watches:
                return "OK"
            watch_space = self._thread().space
            try:
                self.debug.add_watchpoint(address, length, {2: "write", 3: "read", 4: "access"}[kind], watch_space)
            except ValueError:
                return "E22"
            self._watches[key] = watch_space
            return "OK"
        return ""

    def _h_remove(self, packet: bytes) -> str:
        kind, address, length = self._point(packet)
        if kind in (0, 1):
            if address in self._breaks:
                self.debug.remove_breakpoint(address, self._breaks.pop(address))
            return "OK"
        if kind in (2, 3, 4):
            space = self._watches.pop((kind, address, length), None)
            if space is not None:
                self.debug.remove_watchpoint(address, length, {2: "write", 3: "read", 4: "access"}[kind], space)
            return "OK"
        return ""

    # -- queries -------------------------------------------------------------------

    def _query(self, text: str) -> str | bytes:
        name, _, rest = text.partition(":")
        if name == "qSupported":
            return (f"PacketSize={MAX_PACKET:x};qXfer:features:read+;QStartNoAckMode+;"
                    "vContSupported+")
        if text == "QStartNoAckMode":
            self._send("OK")
            if self.conn is not None:
                self.conn.ack = False
            return None
        if name == "qXfer" and rest.startswith("features:read:"):
            annex, _, span = rest[len("features:read:"):].partition(":")
            if annex != "target.xml":
                return "E00"
            offset, length = (int(x, 16) for x in span.split(","))
            chunk = self._xml[offset:offset + min(length, MAX_PACKET - 8)]
            more = offset + len(chunk) < len(self._xml)
            return (b"m" if more else b"l") + escape(chunk)
        if text == "qfThreadInfo":
            return "m" + ",".join(f"{t.tid:x}" for t in self._threads())
        if text == "qsThreadInfo":
            return "l"
        if text.startswith("qThreadExtraInfo,"):
            tid = int(text.split(",", 1)[1], 16)
            t = next((t for t in self._threads() if t.tid == tid), None)
            return "E01" if t is None else self._describe(t).encode().hex()
        if text == "qC":
            return f"QC{self._current_tid():x}"
        if name == "qAttached":
            return "1"
        if text.startswith("qRcmd,"):
            command = bytes.fromhex(text[6:]).decode("utf-8", "replace").strip()
            return self._monitor(command).encode().hex() or "OK"
        if name == "qSymbol":
            return "OK"
        return ""

    # -- monitor commands ------------------------------------------------------------

    def _monitor(self, command: str) -> str:
        word = command.split()[0] if command.split() else "help"
        if word == "ps":
            return self._ps()
        if word == "ipc":
            return self._ipc()
        if word == "reset":
            return self._reset()
        if word == "help":
            return ("monitor commands: ps (components and their states), ipc (recent IPC), "
                    "reset (restart every component, or the bare-metal board)\n")
        return f"unknown monitor command {word!r}; try 'monitor help'\n"

    def _ps(self) -> str:
        if self.kernel is not None:
            return views.ps(self.machine, self.kernel)
        pc = self._read_reg(self._thread(1), self._reg_names.index("pc"))
        return f"{'ID':>3} {'NAME':12} {'STATE':11} {'PRIO':>4} {'PC':>10}\n  1 bare-metal   running        - {pc:#010x}\n"

    def _ipc(self) -> str:
        if self.kernel is None:
            return "a bare-metal board has no IPC\n"
        return views.ipc(self.kernel, 20)

    def _reset(self) -> str:
        self._clear_points()
        if self.kernel is None:
            self.machine.reset()
            return "board reset; breakpoints removed (GDB: maintenance flush register-cache)\n"
        for p in self.kernel.processes:
            self.kernel.restart(p)
        return "every component restarted; breakpoints removed (GDB: maintenance flush register-cache)\n"
