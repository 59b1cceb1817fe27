"""kernel: the microkernel — objects, capabilities, syscalls, IPC, scheduling, faults, the monitor.

It drives a `machine.Machine` through the machine's public names only and never
imports `sysdesc` or `atoll`: it boots from a `SystemSpec` that sysdesc read and checked,
and enforces the rules it carries (kernel/rules.py). Its public names are below. They are
imported on first use (PEP 562), so that `python -m kernel.abi` runs its module once, as
the program, without the package having imported it first.
"""

from __future__ import annotations

import importlib

#: public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(("Error", "FaultCode", "Label", "Right", "Sys"), "abi"),
    **dict.fromkeys(("Capability", "CapKind", "CapTable", "SyscallError"), "caps"),
    **dict.fromkeys(("Kernel", "KernelSnapshot"), "kernel"),
    **dict.fromkeys(("DEBUG_LOG_LINES", "KernelState", "Stats"), "state"),
    "LoadError": "loader",
    **dict.fromkeys(("IpcEvent", "IpcKind"), "process"),
    **dict.fromkeys(("JsonLinesSink", "Monitor"), "monitor"),
    **dict.fromkeys(("Endpoint", "Process", "State", "Thread"), "process"),
    **dict.fromkeys(("Interface", "LeaseSpec", "Method", "Policy", "RestartAction", "RestartPolicy", "Rule"), "rules"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kernel' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
