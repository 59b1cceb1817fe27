"""kernel: the microkernel — objects, capabilities, syscalls, IPC, scheduling, faults.

It drives a `machine.Machine` through the machine's public names only and never
imports `atoll`. Its public names are below.
"""

from .abi import Error, FaultCode, Label, Right, Sys
from .caps import Capability, CapKind, CapTable, SyscallError
from .image import ComponentSpec, EndpointSpec, ImageError, NotificationSpec, RestartPolicy, SystemSpec, load_system
from .interface import Interface, InterfaceError, load_interface
from .kernel import IpcEvent, Kernel, KernelSnapshot, Stats
from .loader import LoadError
from .monitor import JsonLinesSink, Monitor
from .package import (fingerprint, generate_keys, load_any, load_private_key, load_public_key, open_image, pack,
                      unpacked, verify)
from .policy import Decision, Policy, PolicyError, SystemPolicy, load_policy
from .process import Endpoint, Process, State, Thread

__all__ = [
    "CapKind", "CapTable", "Capability", "ComponentSpec", "Decision", "Endpoint", "EndpointSpec", "Error",
    "FaultCode", "ImageError", "Interface", "InterfaceError", "IpcEvent", "JsonLinesSink", "Kernel",
    "KernelSnapshot", "Label", "LoadError", "Monitor", "NotificationSpec", "Policy", "PolicyError", "Process",
    "RestartPolicy", "Right", "State", "Stats", "Sys", "SyscallError", "SystemPolicy", "SystemSpec", "Thread",
    "fingerprint", "generate_keys", "load_any", "load_interface", "load_policy", "load_private_key",
    "load_public_key", "load_system", "open_image", "pack", "unpacked", "verify",
]
