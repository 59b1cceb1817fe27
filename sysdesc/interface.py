"""Server interfaces as data: `servers/<name>/<name>.idl.toml`, read into a checked `Interface`
(the kernel's runtime type, kernel/rules.py).

An interface names a server's methods, each with a number, how many message
registers its request and its reply use, the leases a request carries, and a
one-line doc. A request's label carries the interface and the method:

    label = interface id << 16 | method number

The policy monitor (kernel/monitor.py) checks every request against the method's
declaration (its shape) before any byte is delivered, and the build generates a C
header per interface (`<idl/NAME.h>`: the label constants and sizes) for clients
and servers, so the numbers have one source. A file looks like:

    [interface]
    name = "gpio"
    id = 2
    doc = "GPIO pins as a service"

    [[method]]
    name = "write"
    number = 2
    args = 2            # MR0..MR1 carry arguments; MR2, MR3 must be 0
    reply = 0           # the reply's label is the status; no reply registers
    doc = "mr0 pin, mr1 level -> status"

    [[method]]
    name = "log"
    number = 1
    args = 0
    reply = 1
    leases = [{ rights = "read", max = 4096 }, { rights = "read", max = 16, optional = true }]
    doc = "..."

Errors name the file, the method and the key, in one line (like descriptions).
"""

from __future__ import annotations

import pathlib
import sys

from machine import TomlChecker, read_toml

from kernel.abi import LEASE_READABLE, LEASE_WRITABLE, MAX_LEASE_BYTES, MAX_LEASES, MESSAGE_REGISTERS
from kernel.rules import Interface, LeaseSpec, Method

#: interface ids fit the label's upper 16 bits below the kernel's own labels (0xFFFF_FFxx)
MAX_INTERFACE_ID = 0xFFFE
MAX_METHOD = 0xFFFF
LEASE_RIGHTS = {"read": LEASE_READABLE, "write": LEASE_WRITABLE, "read-write": LEASE_READABLE | LEASE_WRITABLE}


class InterfaceError(ValueError):
    """An interface file that cannot be used; one line naming the file, key and problem."""


class _Checker(TomlChecker):
    error = InterfaceError

    def array(self, data: dict, key: str, where: str) -> list:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise self.fail(where, f"must be an array, not {raw!r}")
        return raw

    def doc(self, table: dict, where: str) -> str:
        """A doc string; the C header puts it in a /* comment */, which it must not end."""
        doc = self.get(table, "doc", where, str, required=False, default="")
        if "*/" in doc:
            raise self.fail(f"{where}.doc", "must not contain '*/' (the generated C header quotes it in a "
                                            "comment)")
        return doc



def load_interface(path: str | pathlib.Path) -> Interface:
    """Read and check an interface file."""
    path = pathlib.Path(path)
    return parse_interface(read_toml(path, InterfaceError), path)


def parse_interface(data: dict, path: pathlib.Path) -> Interface:
    c = _Checker(path)
    c.only(data, None, {"interface", "method"})
    head = c.table(data, "interface", {"name", "id", "doc"})
    name = c.identifier(head, "name", "interface")
    ident = c.ranged(c.get(head, "id", "interface", int), "interface.id", 1, MAX_INTERFACE_ID)
    doc = c.doc(head, "interface")
    raw = data.get("method")
    if raw is None:
        raise c.fail("method", "missing; an interface needs at least one [[method]]")
    if raw == []:
        raise c.fail("method", "is empty; an interface needs at least one [[method]]")
    raw = c.tables(data, "method")
    up = name.upper()
    # the header's names (c_header): one method's must not be another's, nor the interface's
    constants = {f"ATOLL_IDL_{up}_H": "the header's include guard", f"{up}_INTERFACE": "the interface id"}
    methods: list[Method] = []
    for i, t in enumerate(raw):
        m = _parse_method(c, t, i)
        for other in methods:
            if other.name == m.name:
                raise c.fail(f"method {m.name!r}.name", "is used twice")
            if other.number == m.number:
                raise c.fail(f"method {m.name!r}.number",
                             f"{m.number} is already the number of method {other.name!r}")
        for constant in _c_constants(up, m):
            if constant in constants:
                raise c.fail(f"method {m.name!r}.name", f"its C constant {constant} is also defined for "
                                                        f"{constants[constant]}")
            constants[constant] = f"method {m.name!r}"
        methods.append(m)
    return Interface(name, ident, doc, tuple(methods), path)


def _c_constants(up: str, m: Method) -> list[str]:
    """The names c_header defines for method `m` of interface `up` (upper case)."""
    name = f"{up}_{m.name.upper()}"
    return [name, f"{name}_ARGS", f"{name}_REPLY", f"{name}_LEASES",
            *(f"{name}_LEASE{j}_MAX" for j in range(len(m.leases)))]


def _parse_method(c: _Checker, t: dict, i: int) -> Method:
    name = c.identifier(t, "name", f"method[{i}]")
    where = f"method {name!r}"
    c.only(t, where, {"name", "number", "args", "reply", "leases", "doc"})
    number = c.ranged(c.get(t, "number", where, int), f"{where}.number", 1, MAX_METHOD)
    args = c.ranged(c.get(t, "args", where, int, required=False, default=0), f"{where}.args",
                    0, MESSAGE_REGISTERS)
    reply = c.ranged(c.get(t, "reply", where, int, required=False, default=0), f"{where}.reply",
                     0, MESSAGE_REGISTERS)
    doc = c.doc(t, where)
    raw = c.array(t, "leases", f"{where}.leases")
    if len(raw) > MAX_LEASES:
        raise c.fail(f"{where}.leases", f"{len(raw)} leases, at most {MAX_LEASES}")
    leases: list[LeaseSpec] = []
    for j, lease in enumerate(raw):
        key = f"{where}.leases[{j}]"
        c.value(lease, key, dict)
        c.only(lease, key, {"rights", "max", "optional"})
        rights = c.get(lease, "rights", key, str)
        if rights not in LEASE_RIGHTS:
            raise c.fail(f"{key}.rights", f"must be one of {', '.join(LEASE_RIGHTS)}, not {rights!r}")
        size = c.ranged(c.get(lease, "max", key, int), f"{key}.max", 1, MAX_LEASE_BYTES)
        optional = c.get(lease, "optional", key, bool, required=False, default=False)
        if leases and leases[-1].optional and not optional:
            raise c.fail(f"{key}.optional", "a required lease cannot follow an optional one")
        leases.append(LeaseSpec(LEASE_RIGHTS[rights], size, optional))
    return Method(name, number, args, reply, tuple(leases), doc)


def c_header(interface: Interface) -> str:
    """The C header clients and the server include as <idl/NAME.h>."""
    up = interface.name.upper()
    guard = f"ATOLL_IDL_{up}_H"
    out = [
        f"/* Generated from {interface.path.name} by the build; do not edit. */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        f"/* {interface.doc} */" if interface.doc else f"/* interface {interface.name} */",
        f"#define {up}_INTERFACE {interface.id}u",
        "",
    ]
    for m in interface.methods:
        name = f"{up}_{m.name.upper()}"
        if m.doc:
            out.append(f"/* {m.name}: {m.doc} */")
        out.append(f"#define {name} 0x{interface.id << 16 | m.number:08X}u")
        out.append(f"#define {name}_ARGS {m.args}")
        out.append(f"#define {name}_REPLY {m.reply}")
        out.append(f"#define {name}_LEASES {len(m.leases)}")
        for j, lease in enumerate(m.leases):
            out.append(f"#define {name}_LEASE{j}_MAX {lease.max}u")
        out.append("")
    out += [f"#endif /* {guard} */", ""]
    return "\n".join(out)


def write_header(interface: Interface, include_dir: pathlib.Path) -> pathlib.Path:
    """Write <include_dir>/idl/NAME.h when its text changed; return its path."""
    path = pathlib.Path(include_dir) / "idl" / f"{interface.name}.h"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = c_header(interface)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m sysdesc.interface FILE.idl.toml INCLUDE_DIR", file=sys.stderr)
        return 2
    try:
        write_header(load_interface(argv[0]), pathlib.Path(argv[1]))
    except InterfaceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
