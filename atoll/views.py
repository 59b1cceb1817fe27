"""Kernel-aware views shared by the debugger (`atoll debug`) and the GDB stub (`monitor`).

Each view is plain text built from the kernel's public state: its processes and
threads, their saved registers, capability tables, the IPC log, interrupt routes
and the clock. A thread's registers come from the CPU when it is the one running,
and from its saved context otherwise (`atoll.control`, which both tools share).
"""

from __future__ import annotations

from .control import thread_pc


def waits_on(kernel, thread) -> str:
    """What a blocked thread waits for, in a few words ('-' if it does not wait)."""
    state = thread.state.value
    if state == "sending" and thread.send_endpoint is not None:
        return f"send {thread.send_endpoint.name}"
    if state == "reply-wait":
        reply = thread.pending_reply
        for p in kernel.processes:
            for _, cap in p.caps.filled():
                if cap.obj is reply:
                    return f"reply from {p.name}"
        return "reply"
    if state == "receiving":
        if thread.waiting_only or thread.recv_endpoint is None:
            return f"notify {thread.recv_mask:#x}"
        return f"recv {thread.recv_endpoint.name}" + (f" | notify {thread.recv_mask:#x}" if thread.recv_mask else "")
    if state == "sleeping" and thread.wake_event is not None:
        when = getattr(thread.wake_event, "when", None)
        if when is not None:
            return f"until {kernel.clock.us(when)} us"
        return "timer"
    if state in ("stopped", "exited"):
        fault = thread.process.last_fault
        if state == "exited":
            return f"exit {thread.process.exit_code}"
        return f"fault: {fault.kind.name.lower()}" if fault is not None else "stopped"
    return "-"


def ps(machine, kernel) -> str:
    """Components: id, name, state, priority, pc, what each waits on, faults, generation."""
    lines = [f"{'ID':>3} {'NAME':12} {'STATE':11} {'PRIO':>4} {'PC':>10}  {'FAULTS':>6} {'GEN':>3}  WAITS ON"]
    for p in kernel.processes:
        t = p.thread
        pc = thread_pc(machine, kernel, t)
        lines.append(f"{p.index:>3} {p.name:12} {t.state.value:11} {t.priority:>4} {pc:#010x}  "
                     f"{t.faults:>6} {p.generation:>3}  {waits_on(kernel, t)}")
    return "\n".join(lines) + "\n"


def ipc(kernel, count: int = 20) -> str:
    """The last `count` IPC, notification, interrupt and fault events, oldest first."""
    events = list(kernel.ipc_log)[-count:] if count > 0 else []
    if not events:
        return "no IPC yet\n"
    us = kernel.clock.us
    dropped = getattr(kernel.ipc_log, "dropped", 0)
    older = f"({dropped} older events no longer kept)\n" if dropped else ""
    return older + "".join(f"{us(e.cycle):>10} us  {e.kind:6} {e.source} -> {e.destination} "
                   f"label {e.label:#x}\n" for e in events)


def caps(process) -> str:
    """The filled capability slots of one process."""
    filled = process.caps.filled()
    if not filled:
        return f"{process.name} holds no capabilities\n"
    lines = [f"capabilities of {process.name}:"]
    for slot, cap in filled:
        lines.append(f"  slot {slot:>2}: {cap.describe()}")
    return "\n".join(lines) + "\n"


def irqs(machine, kernel) -> str:
    """Interrupt lines routed to drivers: line, owner, notification bit, enabled, pending."""
    ctrl = machine.interrupts
    pending = set(ctrl.pending()) if ctrl is not None else set()
    lines = [f"{'LINE':>4} {'DRIVER':12} {'BIT':>3} {'ENABLED':7} PENDING"]
    for p in kernel.processes:
        for bit, line in sorted(p.irq_bits.items()):
            enabled = ctrl.is_enabled(line)
            lines.append(f"{line:>4} {p.name:12} {bit:>3} {'yes' if enabled else 'no':7} "
                         f"{'yes' if line in pending else 'no'}")
    if len(lines) == 1:
        return "no interrupt is routed to a component\n"
    return "\n".join(lines) + f"\n{kernel.stats.interrupts} interrupts taken\n"


def time_view(machine, kernel=None) -> str:
    """Virtual time, instructions executed, and the kernel's counters."""
    clock = machine.clock
    text = (f"{clock.us(clock.now)} us virtual ({clock.now} cycles at "
            f"{clock.frequency_hz} Hz), {machine.counter.executed} instructions\n")
    if kernel is not None:
        st = kernel.stats
        text += (f"{st.syscalls} syscalls, {st.ipc} IPC, {st.switches} context switches, "
                 f"{st.interrupts} interrupts, {st.faults} faults, {st.restarts} restarts\n")
    return text
