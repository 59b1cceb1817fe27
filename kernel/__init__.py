"""kernel: the microkernel — objects, capabilities, syscalls, IPC, scheduling, faults.

It drives a `machine.Machine` through the machine's public names only and never
imports `atoll`. Its public names are below.
"""

from .abi import Error, FaultCode, Label, Right, Sys
from .caps import Capability, CapKind, CapTable, SyscallError
from .image import ComponentSpec, EndpointSpec, ImageError, NotificationSpec, SystemSpec, load_system
from .kernel import IpcEvent, Kernel, KernelSnapshot, Stats
from .loader import LoadError
from .package import (fingerprint, generate_keys, load_any, load_private_key, load_public_key, open_image, pack,
                      unpacked, verify)
from .process import Endpoint, Process, State, Thread

__all__ = [
    "CapKind", "CapTable", "Capability", "ComponentSpec", "Endpoint", "EndpointSpec", "Error", "FaultCode",
    "ImageError", "IpcEvent", "Kernel", "KernelSnapshot", "Label", "LoadError", "NotificationSpec",
    "Process", "Right", "State", "Stats", "Sys", "SyscallError", "SystemSpec", "Thread", "fingerprint",
    "generate_keys", "load_any", "load_private_key", "load_public_key", "load_system", "open_image", "pack",
    "unpacked", "verify",
]
