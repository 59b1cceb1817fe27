"""GDB remote serial protocol (RSP) framing over one socket.

A packet is `$payload#xx` with `xx` the payload's byte sum modulo 256 in hex; the
receiver answers `+` (good) or `-` (send again) until both sides agree to no-ack
mode. Byte 0x03 outside a packet is Ctrl-C. `RspConnection` turns the bytes that
arrive into packet payloads and interrupts, refuses a packet with a bad checksum
or one longer than `MAX_PACKET`, and raises `Disconnected` when the client goes
away; what the packets mean is the stub's business (atoll.gdbstub).
"""

from __future__ import annotations

import select
import socket

#: the longest packet payload accepted (and announced as PacketSize)
MAX_PACKET = 0x4000


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


class Disconnected(Exception):
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
            raise Disconnected() from None

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
            raise Disconnected() from None
        if not data:
            raise Disconnected()
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
                    raise Disconnected() from None
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
                    raise Disconnected() from None
            if good:
                return payload
        return None
