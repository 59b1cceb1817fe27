"""Capabilities: per-process tables of small-integer slots.

A capability names one kernel object (an endpoint, a thread's notification word,
or a one-shot reply) with rights and a badge the receiver of a message sees.
A process can name only what its table holds; at boot only what the image
description grants exists.

- `derive` copies a capability into another slot with the same or fewer rights,
  optionally adding a badge to an unbadged one; the copy is its child.
- `revoke` deletes every capability derived from one (children, grandchildren),
  wherever they are; the capability itself stays.
- every failure is a `SyscallError` carrying the ABI error code, so a syscall
  handler turns it into a status for the caller and nothing else changes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .abi import CAP_SLOTS, Error, Right


class SyscallError(Exception):
    """A syscall that fails with an ABI error code."""

    def __init__(self, code: Error, why: str = "") -> None:
        super().__init__(why or code.name)
        self.code = code


class CapKind(enum.Enum):
    ENDPOINT = "endpoint"
    NOTIFICATION = "notification"
    REPLY = "reply"


@dataclass(eq=False)
class Capability:
    kind: CapKind
    obj: object
    rights: Right
    badge: int = 0
    #: for endpoint capabilities: the server generation this capability last saw
    generation: int = 0
    parent: Capability | None = None
    children: list[Capability] = field(default_factory=list)
    table: CapTable | None = None
    slot: int = -1

    def describe(self) -> str:
        name = getattr(self.obj, "name", type(self.obj).__name__)
        rights = "".join(c for c, r in (("s", Right.SEND), ("r", Right.RECV), ("g", Right.GRANT)) if self.rights & r)
        return f"{self.kind.value} {name} [{rights or '-'}] badge {self.badge:#x}"


class CapTable:
    """The capability slots of one process."""

    def __init__(self, owner: str, size: int = CAP_SLOTS) -> None:
        self.owner = owner
        self.slots: list[Capability | None] = [None] * size

    def _check_slot(self, slot: int) -> None:
        if not 0 <= slot < len(self.slots):
            raise SyscallError(Error.BAD_SLOT, f"slot {slot} outside 0..{len(self.slots) - 1}")

    def get(self, slot: int, kind: CapKind | None = None, right: Right | None = None) -> Capability:
        self._check_slot(slot)
        cap = self.slots[slot]
        if cap is None:
            raise SyscallError(Error.BAD_SLOT, f"slot {slot} is empty")
        if kind is not None and cap.kind is not kind:
            raise SyscallError(Error.BAD_CAP_TYPE, f"slot {slot} holds {cap.kind.value}, not {kind.value}")
        if right is not None and not cap.rights & right:
            raise SyscallError(Error.NO_RIGHTS, f"slot {slot} lacks {right.name}")
        return cap

    def peek(self, slot: int) -> Capability | None:
        return self.slots[slot] if 0 <= slot < len(self.slots) else None

    def put(self, slot: int, cap: Capability, replace: bool = False) -> Capability:
        self._check_slot(slot)
        if self.slots[slot] is not None:
            if not replace:
                raise SyscallError(Error.SLOT_IN_USE, f"slot {slot} is in use")
            self.delete(slot)
        cap.table = self
        cap.slot = slot
        self.slots[slot] = cap
        return cap

    def delete(self, slot: int) -> Capability | None:
        self._check_slot(slot)
        cap = self.slots[slot]
        if cap is None:
            return None
        self.slots[slot] = None
        cap.table = None
        if cap.parent is not None and cap in cap.parent.children:
            cap.parent.children.remove(cap)
        return cap

    def derive(self, src: int, dst: int, rights: Right, badge: int) -> Capability:
        cap = self.get(src)
        if cap.kind is CapKind.REPLY:  # before the rights: a reply never has GRANT
            raise SyscallError(Error.BAD_CAP_TYPE, "reply capabilities cannot be derived")
        if not cap.rights & Right.GRANT:
            raise SyscallError(Error.NO_RIGHTS, f"slot {src} lacks GRANT")
        if rights & ~cap.rights:
            raise SyscallError(Error.NO_RIGHTS, "a derived capability cannot gain rights")
        if badge and cap.badge:
            raise SyscallError(Error.BAD_ARGUMENT, "a badged capability cannot be badged again")
        self._check_slot(dst)
        if self.slots[dst] is not None:
            raise SyscallError(Error.SLOT_IN_USE, f"slot {dst} is in use")
        child = Capability(cap.kind, cap.obj, Right(rights), badge or cap.badge, cap.generation, parent=cap)
        cap.children.append(child)
        return self.put(dst, child)

    def revoke(self, slot: int) -> int:
        """Delete every descendant of the capability in `slot`; returns how many went."""
        cap = self.get(slot)
        removed = 0
        stack = list(cap.children)
        while stack:
            child = stack.pop()
            stack.extend(child.children)
            if child.table is not None:
                child.table.delete(child.slot)
            removed += 1
        cap.children.clear()
        return removed

    def move(self, src: int, dst: int) -> Capability:
        cap = self.get(src)
        self._check_slot(dst)
        if self.slots[dst] is not None:
            raise SyscallError(Error.SLOT_IN_USE, f"slot {dst} is in use")
        self.slots[src] = None
        self.slots[dst] = cap
        cap.slot = dst
        return cap

    def clear(self) -> None:
        for slot in range(len(self.slots)):
            if self.slots[slot] is not None:
                self.delete(slot)

    def filled(self) -> list[tuple[int, Capability]]:
        return [(i, c) for i, c in enumerate(self.slots) if c is not None]
