"""The IPC fuzzer's inputs: message sequences shaped by a server's interface file, and their mutations.

An input is a short sequence (1 to `MAX_MESSAGES`) of `Message`s, each a label, four message
registers and up to four leases (rights and length; a readable lease carries its bytes).
Inputs are plain frozen data: they are what a task carries to a worker, what a finding
stores (`as_json`/`from_json`) and what `encode` writes into the fuzz client's `fuzz_box`
(firmware/apps/ipc_fuzz/main.c: the layout here and there must agree).

`Shape` reads the interface (`sysdesc` `Interface`): each method's label (interface id << 16 |
number), how many registers its request uses and the leases it takes (rights, largest size).
`generate` makes a well-formed message for a method; `mutate` changes an input the way a
fuzzer should for this protocol: a register set to an interesting value (boundaries: 0, 1, the
lease sizes and one past them, powers of two and their neighbours, all ones) or a random one,
a bit flipped, the label moved to another method, a lease resized or its bytes changed, a
message added, removed or duplicated, and rarely a shape the interface does not allow (an
unknown label, a register the method does not use) so the monitor's refusals are exercised
too. Everything is drawn from the `random.Random` given, so the same seed gives the same inputs.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass

from kernel.abi import LEASE_READABLE, LEASE_WRITABLE, MAX_LEASES, MESSAGE_REGISTERS

MAX_MESSAGES = 8                 #: as FUZZ_MESSAGES in the client
DATA_BYTES = 2048                #: as FUZZ_DATA: every lease's bytes together
MAGIC = 0x7A7A7546               #: as FUZZ_MAGIC
_MSG = struct.Struct(f"<{2 + MESSAGE_REGISTERS + 3 * MAX_LEASES}I")
#: the box's header (magic, count), messages, statuses, reply labels, done, then the bytes
BOX_WORDS_BEFORE_DATA = 2 + MAX_MESSAGES * (_MSG.size // 4) + 2 * MAX_MESSAGES + 1

_INTERESTING = (0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 511, 512, 1023, 1024,
                4095, 4096, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF)


@dataclass(frozen=True)
class Lease:
    rights: int
    length: int
    data: bytes = b""            # a readable lease's first bytes (the rest are zeros)


@dataclass(frozen=True)
class Message:
    label: int
    mrs: tuple[int, int, int, int]
    leases: tuple[Lease, ...] = ()


Input = tuple[Message, ...]


@dataclass(frozen=True)
class MethodShape:
    name: str
    label: int
    args: int
    leases: tuple[tuple[int, int, bool], ...]    # (rights, max bytes, optional)


class Shape:
    """What a server's interface allows: its methods' labels, registers and leases."""

    def __init__(self, interface) -> None:
        self.name = interface.name
        self.methods = tuple(
            MethodShape(m.name, interface.id << 16 | m.number, m.args,
                        tuple((lease.rights, min(lease.max, DATA_BYTES // MAX_LEASES), lease.optional)
                              for lease in m.leases))
            for m in interface.methods)
        sizes = {size for m in self.methods for _, size, _ in m.leases}
        self.interesting = tuple(sorted(set(_INTERESTING) | {s + d for s in sizes for d in (-1, 0, 1) if s + d >= 0}))

    def method(self, label: int) -> MethodShape | None:
        return next((m for m in self.methods if m.label == label), None)

    def value(self, rng: random.Random) -> int:
        """A register value: an interesting one (more often) or any 32-bit word."""
        if rng.random() < 0.7:
            return rng.choice(self.interesting)
        return rng.getrandbits(32) if rng.random() < 0.5 else rng.randrange(256)

    def lease(self, rng: random.Random, rights: int, size: int) -> Lease:
        length = rng.choice((0, 1, size // 2, size - 1, size, rng.randrange(size + 1)))
        length = max(0, min(length, size))
        data = bytes(rng.getrandbits(8) for _ in range(length)) if rights & LEASE_READABLE and rng.random() < 0.5 \
            else b""
        return Lease(rights, length, data)

    def generate(self, rng: random.Random, method: MethodShape | None = None) -> Message:
        """A message the interface allows, for `method` (else one drawn at random)."""
        m = method or rng.choice(self.methods)
        mrs = tuple(self.value(rng) if i < m.args else 0 for i in range(MESSAGE_REGISTERS))
        leases = []
        for rights, size, optional in m.leases:
            if optional and rng.random() < 0.5:
                break                       # an optional lease left out, and every one after it
            leases.append(self.lease(rng, rights, size))
        return Message(m.label, mrs, tuple(leases))

    def seeds(self) -> list[Input]:
        """The first corpus: one plain message per method (registers zero, leases empty)."""
        return [(Message(m.label, (0,) * MESSAGE_REGISTERS,
                         tuple(Lease(r, 0) for r, _, optional in m.leases if not optional)),)
                for m in self.methods]


def _set(mrs: tuple, i: int, value: int) -> tuple:
    return tuple(value & 0xFFFF_FFFF if j == i else v for j, v in enumerate(mrs))


def _mutate_message(shape: Shape, rng: random.Random, msg: Message) -> Message:
    m = shape.method(msg.label)
    args = m.args if m is not None else MESSAGE_REGISTERS
    choice = rng.random()
    if choice < 0.40 and args:
        i = rng.randrange(args)
        return Message(msg.label, _set(msg.mrs, i, shape.value(rng)), msg.leases)
    if choice < 0.55 and args:
        i = rng.randrange(args)
        return Message(msg.label, _set(msg.mrs, i, msg.mrs[i] ^ (1 << rng.randrange(32))), msg.leases)
    if choice < 0.65 and args:
        i = rng.randrange(args)
        return Message(msg.label, _set(msg.mrs, i, msg.mrs[i] + rng.choice((-1, 1))), msg.leases)
    if choice < 0.80 and m is not None and m.leases:
        i = rng.randrange(len(m.leases))
        rights, size, _ = m.leases[i]
        leases = list(msg.leases) + [Lease(rights, 0)] * (i + 1 - len(msg.leases))
        leases[i] = shape.lease(rng, rights, size)
        return Message(msg.label, msg.mrs, tuple(leases))
    if choice < 0.90:
        return shape.generate(rng)
    if choice < 0.96:                          # another method's label, the same registers
        return Message(rng.choice(shape.methods).label, msg.mrs, msg.leases)
    if choice < 0.98:                          # a register the method does not use
        return Message(msg.label, _set(msg.mrs, rng.randrange(MESSAGE_REGISTERS), shape.value(rng) or 1), msg.leases)
    return Message(rng.getrandbits(32), msg.mrs, msg.leases)   # any label at all


def mutate(shape: Shape, rng: random.Random, base: Input, other: Input | None = None) -> Input:
    """`base` changed in one to four places (`other`, another corpus entry, may be spliced in)."""
    messages = list(base)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 4))):
        choice = rng.random()
        if choice < 0.70 or len(messages) >= MAX_MESSAGES:
            i = rng.randrange(len(messages))
            messages[i] = _mutate_message(shape, rng, messages[i])
        elif choice < 0.80:
            messages.insert(rng.randrange(len(messages) + 1), shape.generate(rng))
        elif choice < 0.88 and len(messages) > 1:
            del messages[rng.randrange(len(messages))]
        elif choice < 0.94:
            messages.insert(rng.randrange(len(messages) + 1), rng.choice(messages))
        elif other:
            messages.insert(rng.randrange(len(messages) + 1), rng.choice(other))
    return tuple(messages[:MAX_MESSAGES])


def encode(messages: Input) -> bytes:
    """The fuzz client's box for `messages`: magic, count, the messages (leases as offsets into the
    data), zeroed statuses, reply labels and done, then the lease bytes."""
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"an input has 1 to {MAX_MESSAGES} messages, not {len(messages)}")
    words = [MAGIC, len(messages)]
    data = bytearray(DATA_BYTES)
    offset = 0
    for msg in messages:
        leases = []
        for lease in msg.leases[:MAX_LEASES]:
            length = min(lease.length, DATA_BYTES - offset)
            data[offset:offset + min(length, len(lease.data))] = lease.data[:length]
            leases += [lease.rights, length, offset]
            offset += length
        leases += [0] * (3 * MAX_LEASES - len(leases))
        words += [msg.label & 0xFFFF_FFFF, *msg.mrs, len(msg.leases[:MAX_LEASES]), *leases]
    words += [0] * (_MSG.size // 4) * (MAX_MESSAGES - len(messages))
    words += [0] * (2 * MAX_MESSAGES + 1)
    return struct.pack(f"<{len(words)}I", *words) + bytes(data)


def results(box: bytes, count: int) -> tuple[tuple[int, int], ...]:
    """(status, reply label) of the first `count` calls, read back from the client's box."""
    base = 4 * (2 + MAX_MESSAGES * (_MSG.size // 4))
    statuses = struct.unpack_from(f"<{MAX_MESSAGES}i", box, base)
    replies = struct.unpack_from(f"<{MAX_MESSAGES}I", box, base + 4 * MAX_MESSAGES)
    done = struct.unpack_from("<I", box, base + 8 * MAX_MESSAGES)[0]
    return tuple((statuses[i], replies[i]) for i in range(min(count, done)))


def as_json(messages: Input) -> list[dict]:
    return [{"label": f"{m.label:#x}", "mrs": [f"{v:#x}" for v in m.mrs],
             "leases": [{"rights": lease.rights, "length": lease.length, "data": lease.data.hex()}
                        for lease in m.leases]} for m in messages]


def from_json(data: list) -> Input:
    """An input back from `as_json`; ValueError (or KeyError/TypeError) when it is not one."""
    messages = []
    for m in data:
        mrs = tuple(int(v, 0) & 0xFFFF_FFFF for v in m["mrs"])
        if len(mrs) != MESSAGE_REGISTERS:
            raise ValueError(f"a message has {MESSAGE_REGISTERS} registers, not {len(mrs)}")
        leases = tuple(Lease(int(lease["rights"]) & (LEASE_READABLE | LEASE_WRITABLE), int(lease["length"]),
                             bytes.fromhex(lease["data"])) for lease in m["leases"])
        messages.append(Message(int(m["label"], 0) & 0xFFFF_FFFF, mrs, leases))
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"an input has 1 to {MAX_MESSAGES} messages, not {len(messages)}")
    return tuple(messages)
