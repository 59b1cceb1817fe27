"""sysdesc: the build-and-check side — system descriptions, policies, interfaces, packed and signed images.

Everything here reads, checks, packs or signs files written by people and tools:
system descriptions (`description`: TOML into a frozen `SystemSpec`), security policies
(`policy`), server interface files and their C headers (`interface`), and packed,
optionally Ed25519-signed images (`package`). The kernel boots from a `SystemSpec`
handed to it (`Kernel.boot`); the tools (`atoll`, `firmware/`, `bench/`) use this package
for everything else, as Microkit's tool and Hubris's build own their system files.

Invariants:
- A file is checked whole before anything is built from it; every problem is one
  line naming the file, the component (rule, method, entry) and the key.
- What the kernel enforces at run time (`Policy`, `Interface`, `RestartPolicy`) is a
  frozen type of the kernel's own (kernel/rules.py) that this package produces.
- Imports go one way: sysdesc uses `machine` (boards, TOML checking) and `kernel`
  (its ABI numbers and runtime rule types); `kernel` never imports sysdesc, and
  sysdesc never imports `atoll`.

Its public names are below. They are imported on first use (PEP 562), so that
`python -m sysdesc.interface` runs its module once, as the program, without the
package having imported it first.
"""

from __future__ import annotations

import importlib

#: public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(("ComponentSpec", "EndpointSpec", "ImageError", "NotificationSpec", "SystemSpec",
                     "load_system", "parse_system"), "description"),
    **dict.fromkeys(("InterfaceError", "c_header", "load_interface", "parse_interface", "write_header"),
                    "interface"),
    **dict.fromkeys(("describe", "fingerprint", "generate_keys", "load_any", "load_private_key", "load_public_key",
                     "open_image", "pack", "unpacked", "verify"), "package"),
    **dict.fromkeys(("Decision", "Edge", "PolicyError", "SystemPolicy", "load_policy", "parse_policy"), "policy"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sysdesc' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
