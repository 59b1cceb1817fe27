"""The kernel's application binary interface: the one source of numbers.

Everything user space and the kernel must agree on is defined here and nowhere
else: syscall numbers, error codes, capability rights, message labels the kernel
itself sends, and which register carries what. The C header user space includes
as <atoll/abi.h> is generated from this module into the build folder
(`python -m kernel.abi --header PATH`, run by firmware/components.py); it is
never committed and never edited by hand.

Calling convention (both ISAs):
- the syscall number travels in `r12` (ARM; r7 is clang's Thumb frame pointer)
  or `a7` (RISC-V); the trap is `svc #0` or `ecall`;
- arguments in r0-r6 / a0-a6; results come back in the same registers, the
  first always a status: 0 or a negative `Error`;
- an unknown syscall number is a fault of the caller, never a silent error.

A message is a label (32 bits, chosen by the protocol) and four 32-bit message
registers (MR0-MR3), moved register to register. Larger data travels in leases:
the caller lends ranges of its own memory with the call, and the server copies
from or into them with `lease_read` / `lease_write`, checked by the kernel.
"""

from __future__ import annotations

import enum
import pathlib
import struct
import sys
from dataclasses import dataclass


class Sys(enum.IntEnum):
    """Syscall numbers."""

    DEBUG_PUTC = 0      # (char) -> status: one byte to the kernel's debug log
    YIELD = 1           # () -> status: give up the rest of the time slice
    EXIT = 2            # (code) -> never returns
    SEND = 3            # (slot, label, mr0..mr3) -> status: send and wait for the receiver to take it
    RECV = 4            # (slot, notification_mask) -> status, label, mr0..mr3, badge
    CALL = 5            # (slot, label, mr0..mr3, leases) -> status, label, mr0..mr3
    REPLY = 6           # (reply_slot, label, mr0..mr3) -> status
    REPLY_RECV = 7      # (slot, label, mr0..mr3, notification_mask) -> as RECV, after replying
                        # through REPLY_SLOT (skipped when that slot is empty, so a loop can start with it)
    NOTIFY = 8          # (slot) -> status: OR the capability's badge bits into the target's word
    WAIT = 9            # (mask) -> status, bits: block until a masked bit is set; clears them
    POLL = 10           # (mask) -> status, bits: like WAIT without blocking
    IRQ_ACK = 11        # (bits) -> status: the interrupts behind these bits are handled
    SLEEP = 12          # (microseconds) -> status
    TIMER_SET = 13      # (deadline_lo, deadline_hi, bits) -> status: notify bits at a deadline (us);
                        # one timer per thread: setting it again replaces the earlier one
    TIME_NOW = 14       # () -> status, us_lo, us_hi
    LEASE_READ = 15     # (reply_slot, lease, offset, buf, len) -> status, bytes copied
    LEASE_WRITE = 16    # (reply_slot, lease, offset, buf, len) -> status, bytes copied
    CAP_DERIVE = 17     # (src, dst, rights, badge) -> status: copy with fewer rights / a badge
    CAP_REVOKE = 18     # (slot) -> status: delete every capability derived from this one
    CAP_DELETE = 19     # (slot) -> status
    CAP_MOVE = 20       # (src, dst) -> status (e.g. keep a reply capability for later)
    RESTART = 21        # (component) -> status: a supervisor restarts a component it supervises
    COMPONENT_INFO = 22 # (component, name_buf, name_len) -> status, state, priority, generation, faults
    PING = 23           # (component, timeout_us) -> status, sent: a supervisor's heartbeat to a component it
                        # supervises (the kernel's PING message on the endpoint it serves); unanswered within
                        # timeout_us, the component is stopped with fault HUNG and reported as any fault.
                        # sent = 1 if a ping is out, 0 if there is nothing to ping (it serves no endpoint,
                        # or it is down and its supervisor was told)


class Error(enum.IntEnum):
    """Status codes: 0 is success, errors are negative."""

    OK = 0
    BAD_SLOT = -1           # no such slot, or the slot is empty
    BAD_CAP_TYPE = -2       # the capability is of the wrong kind for this call
    NO_RIGHTS = -3          # the capability lacks the right this call needs
    BAD_ADDRESS = -4        # a pointer or range the caller may not use
    TOO_LONG = -5           # a length past the limit
    DEAD_PEER = -6          # the other side was restarted (a new generation) or stopped
    WOULD_BLOCK = -7        # POLL-style calls with nothing to return
    BAD_ARGUMENT = -8       # a value out of range
    SLOT_IN_USE = -9        # the destination slot is occupied
    NO_REPLY = -10          # the reply capability was used already
    DENIED = -11            # refused by the policy monitor


class Right(enum.IntFlag):
    """What a capability lets its holder do."""

    SEND = 1      # call/send to an endpoint; notify a notification
    RECV = 2      # receive on an endpoint
    GRANT = 4     # derive copies with the same or fewer rights (CAP_DERIVE)


class Label(enum.IntEnum):
    """Labels of messages the kernel itself sends; SEND and CALL refuse them (BAD_ARGUMENT),
    so a FAULT message always comes from the kernel."""

    NOTIFICATION = 0xFFFF_FF00   # RECV returned notification bits (MR0), not a message
    FAULT = 0xFFFF_FF01          # to a supervisor: MR0 component, MR1 kind (| FAULT_RESTART_AT_ONCE),
                                 # MR2 address (exit code), MR3 pc
    PING = 0xFFFF_FF02           # to a server, from its supervisor's PING syscall: reply (with any label)
                                 # to show it is alive; firmware/lib's atl_recv/atl_reply_recv do it


#: labels from here up are the kernel's own; user messages may not carry them
KERNEL_LABELS = min(Label)

#: the longest timeout a PING may give (10 s)
MAX_PING_TIMEOUT_US = 10_000_000


class FaultCode(enum.IntEnum):
    """Fault kinds in FAULT messages (MR1)."""

    UNMAPPED = 1
    PERMISSION = 2
    BUS_ERROR = 3
    UNDEFINED_INSTRUCTION = 4
    MISALIGNED = 5
    BREAKPOINT = 6
    ILLEGAL_STATE = 7
    BAD_SYSCALL = 8
    CPU_ERROR = 9
    EXITED = 10              # the component called EXIT (MR2 = exit code)
    HUNG = 11                # it did not answer its supervisor's PING in time (MR2 = the timeout in us)
    IRQ_STORM = 12           # an interrupt line it drives fired without end (MR2 = the line); masked


#: set in MR1 of a FAULT message when the component's restart policy is "restart" (at once,
#: no backoff); the fault kind is MR1's low 16 bits
FAULT_RESTART_AT_ONCE = 0x1_0000


class ComponentState(enum.IntEnum):
    """Thread states as COMPONENT_INFO reports them."""

    READY = 0
    RUNNING = 1
    SENDING = 2
    REPLY_WAIT = 3
    RECEIVING = 4
    SLEEPING = 5
    STOPPED = 6
    EXITED = 7


#: message registers per message
MESSAGE_REGISTERS = 4
#: slot 0 of every capability table holds the reply capability of the last message received
REPLY_SLOT = 0
#: leases per call, and the largest one
MAX_LEASES = 4
MAX_LEASE_BYTES = 64 * 1024
#: slots in every capability table
CAP_SLOTS = 64


@dataclass(frozen=True, slots=True)
class Lease:
    """One lease descriptor, as the caller's array holds it (`struct atl_lease`, LEASE_LAYOUT):

    struct atl_lease { uint32_t address; uint32_t length; uint32_t rights; };
    rights: ATL_LEASE_READABLE (the server may read it) | ATL_LEASE_WRITABLE (may write it)
    The array (struct atl_leases) is a uint32_t count (LEASES_COUNT_LAYOUT), then up to
    MAX_LEASES of them.
    """

    address: int
    length: int
    rights: int


#: the layouts of struct atl_lease and of the count that opens struct atl_leases (little-endian)
LEASE_LAYOUT = struct.Struct("<3I")
LEASES_COUNT_LAYOUT = struct.Struct("<I")

LEASE_READABLE = 1
LEASE_WRITABLE = 2

#: The virtual layout every component is linked for (firmware/lib/component.ld):
#: code and data from COMPONENT_BASE, below COMPONENT_LIMIT; the stack ends at
#: STACK_TOP. Peripherals a driver uses are mapped at their physical address
#: unless the image description gives another, outside these ranges.
COMPONENT_BASE = 0x0001_0000
COMPONENT_LIMIT = 0x0100_0000
STACK_TOP = 0x7000_0000
#: a component's heap (the image description's `heap` bytes, for its C library's malloc) is
#: mapped from HEAP_BASE; at most HEAP_MAX bytes
HEAP_BASE = 0x6000_0000
HEAP_MAX = 0x0100_0000

#: A component's thread starts with two words in its first two argument registers (r0/r1,
#: a0/a1), read by firmware/lib's crt0: the heap's size in bytes, and where its stdout goes
#: (STDOUT_DEBUG_LOG, or the console server's slot + 1)
STDOUT_DEBUG_LOG = 0

#: the syscall number and argument registers are the CPU's (machine.Cpu.SYSCALL_NUMBER_REGISTER
#: and ARG_REGISTERS): one list per ISA, in machine/cpu/


def c_header() -> str:
    """The C header for user space, generated from the definitions above."""
    out = [
        "/* Generated from kernel/abi.py by `python -m kernel.abi --header`; do not edit. */",
        "#ifndef ATOLL_ABI_H",
        "#define ATOLL_ABI_H",
        "",
        "#include <stdint.h>",
        "",
        "/* syscall numbers */",
    ]
    out += [f"#define ATL_SYS_{s.name} {s.value}" for s in Sys]
    out += ["/* syscall numbers run from 0 to ATL_SYSCALL_COUNT - 1 */", f"#define ATL_SYSCALL_COUNT {len(Sys)}"]
    out += ["", "/* status codes: 0 or negative */"]
    out += [f"#define ATL_{('E_' + e.name) if e.value else e.name} ({e.value})" for e in Error]
    out += ["", "/* capability rights */"]
    out += [f"#define ATL_RIGHT_{r.name} {r.value}u" for r in Right]
    out += ["", "/* labels of messages the kernel sends */"]
    out += [f"#define ATL_LABEL_{lb.name} 0x{lb.value:08X}u" for lb in Label]
    out += ["", "/* component states (COMPONENT_INFO) */"]
    out += [f"#define ATL_STATE_{c.name} {c.value}" for c in ComponentState]
    out += ["", "/* fault kinds (MR1 of a FAULT message) */"]
    out += [f"#define ATL_FAULT_{f.name} {f.value}" for f in FaultCode]
    out += [
        "",
        f"#define ATL_FAULT_RESTART_AT_ONCE 0x{FAULT_RESTART_AT_ONCE:X}u",
        f"#define ATL_MAX_PING_TIMEOUT_US {MAX_PING_TIMEOUT_US}u",
        f"#define ATL_MESSAGE_REGISTERS {MESSAGE_REGISTERS}",
        f"#define ATL_REPLY_SLOT {REPLY_SLOT}",
        f"#define ATL_MAX_LEASES {MAX_LEASES}",
        f"#define ATL_MAX_LEASE_BYTES {MAX_LEASE_BYTES}u",
        f"#define ATL_CAP_SLOTS {CAP_SLOTS}",
        f"#define ATL_LEASE_READABLE {LEASE_READABLE}u",
        f"#define ATL_LEASE_WRITABLE {LEASE_WRITABLE}u",
        f"#define ATL_COMPONENT_BASE 0x{COMPONENT_BASE:08X}u",
        f"#define ATL_COMPONENT_LIMIT 0x{COMPONENT_LIMIT:08X}u",
        f"#define ATL_STACK_TOP 0x{STACK_TOP:08X}u",
        f"#define ATL_HEAP_BASE 0x{HEAP_BASE:08X}u",
        f"#define ATL_HEAP_MAX 0x{HEAP_MAX:08X}u",
        "",
        "struct atl_lease {",
        "    uint32_t address;",
        "    uint32_t length;",
        "    uint32_t rights;",
        "};",
        "",
        "struct atl_leases {",
        "    uint32_t count;",
        f"    struct atl_lease lease[{MAX_LEASES}];",
        "};",
        "",
        "#endif /* ATOLL_ABI_H */",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "--header":
        print("usage: python -m kernel.abi --header PATH", file=sys.stderr)
        return 2
    path = pathlib.Path(argv[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    text = c_header()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
