"""Values printed the way GDB prints them.

`format_value(value, fmt, env)` gives the text `print` shows after `$N = `:
structs and unions as `{name = value, ...}`, arrays as `{1, 2, 3}` with runs of
more than `REPEAT_THRESHOLD` equal elements as `0 <repeats 16 times>` and at most
`MAX_ELEMENTS` elements, char arrays as strings (`"uart", '\\000' <repeats 11
times>`), chars as `65 'A'`, pointers as `(struct ring *) 0x20000104 <tx_ring>`
(the type only at the top; a char pointer with the string it points to), enums
by name, bools as true/false, and `<optimized out>` for a value that is not there.
A format letter (`/x /d /u /o /t /c /a /z`) applies to every scalar inside.

`FormatEnv` is what printing may ask the program: the symbol at an address and
the bytes of a string (both for one component).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .dwarf_types import CType, type_name
from .expr_eval import Value
from .expressions import ExpressionError

REPEAT_THRESHOLD = 10
MAX_ELEMENTS = 200
FORMATS = "xduotcaz"
_CHAR_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\033"}


@dataclass
class FormatEnv:
    symbol: Callable[[int], str]                  # address -> "name" or "name+4" or ""
    string: Callable[[int], bytes | None]         # address -> bytes up to a NUL (None: unreadable)


def format_value(value: Value, fmt: str | None, env: FormatEnv, top: bool = True) -> str:
    if value.unavailable:
        return f"<{value.unavailable}>"
    t = value.type.strip()
    if t.kind in ("struct", "union"):
        parts = []
        for m in t.members:
            inner = _member_value(value, m)
            text = format_value(inner, fmt, env, top=False)
            parts.append(f"{m.name} = {text}" if m.name else text)
        return "{" + ", ".join(parts) + "}"
    if t.kind == "array":
        return _array(value, t, fmt, env)
    if t.kind == "function":
        return f"{{{type_name(value.type)}}} {value.address or 0:#x}" + _symbol(value.address or 0, env)
    if t.kind == "void":
        return "void"
    if fmt:
        return _formatted(value, fmt, env)
    if t.kind == "pointer":
        return _pointer(value, t, env, top)
    if t.kind == "enum":
        n = value.as_int()
        return t.enumerators.get(n, str(n))
    if t.is_float:
        return _float(value.as_float(), t.size)
    if t.kind == "base" and t.encoding == "bool":
        n = value.as_int()
        return {0: "false", 1: "true"}.get(n, str(n))
    n = value.as_int()
    if value.type.is_char:
        return f"{n} {_char_literal(n & 0xFF)}"
    return str(n)


def _member_value(value: Value, m) -> Value:
    size = m.type.byte_size
    if m.bit_size:
        storage = int.from_bytes(value.data[m.offset:m.offset + 8].ljust(8, b"\0"), "little")
        field = (storage >> m.bit_offset) & ((1 << m.bit_size) - 1)
        if m.type.is_signed and field >> (m.bit_size - 1):
            field -= 1 << m.bit_size
        data_size = max(1, m.type.strip().size)
        return Value(m.type, (field & ((1 << (8 * data_size)) - 1)).to_bytes(data_size, "little"))
    return Value(m.type, value.data[m.offset:m.offset + size],
                 address=None if value.address is None else value.address + m.offset)


def _array(value: Value, t: CType, fmt: str | None, env: FormatEnv) -> str:
    element = t.target
    size = element.byte_size
    count = t.count or 0
    if size == 0 or count == 0:
        return "{}"
    if element.is_char and not fmt:
        return _char_array(value.data[:count])
    items = []
    i = printed = 0
    while i < count and printed < MAX_ELEMENTS:
        chunk = value.data[i * size:(i + 1) * size]
        run = 1
        while i + run < count and value.data[(i + run) * size:(i + run + 1) * size] == chunk:
            run += 1
        address = None if value.address is None else value.address + i * size
        text = format_value(Value(element, chunk, address=address), fmt, env, top=False)
        if run > REPEAT_THRESHOLD:
            items.append(f"{text} <repeats {run} times>")
            i += run
            printed += REPEAT_THRESHOLD
        else:
            items.append(text)
            i += 1
            printed += 1
    return "{" + ", ".join(items) + ("..." if i < count else "") + "}"


def _char_array(data: bytes) -> str:
    if data.endswith(b"\0"):
        data = data[:-1]
    if not data:
        return '""'
    return _string(data)


def _string(data: bytes) -> str:
    """GDB's string text: quoted runs, runs of more than the threshold as repeats, and at most
    MAX_ELEMENTS characters (a repeat counting as the threshold), then `...`."""
    parts: list[str] = []
    quoted = ""
    i = printed = 0
    while i < len(data) and printed < MAX_ELEMENTS:
        run = 1
        while i + run < len(data) and data[i + run] == data[i]:
            run += 1
        if run > REPEAT_THRESHOLD:
            if quoted:
                parts.append(f'"{quoted}"')
                quoted = ""
            parts.append(f"{_char_literal(data[i])} <repeats {run} times>")
            printed += REPEAT_THRESHOLD
            i += run
        else:
            take = min(run, MAX_ELEMENTS - printed)
            quoted += _escape(data[i], '"') * take
            printed += take
            i += take
    if quoted:
        parts.append(f'"{quoted}"')
    return ", ".join(parts) + ("..." if i < len(data) else "")


def _escape(byte: int, quote: str) -> str:
    if byte in _CHAR_ESCAPES:
        return _CHAR_ESCAPES[byte]
    if byte == ord(quote) or byte == 0x5C:
        return "\\" + chr(byte)
    if 32 <= byte < 127:
        return chr(byte)
    return f"\\{byte:03o}"


def _char_literal(byte: int) -> str:
    return "'" + _escape(byte, "'") + "'"


def _symbol(address: int, env: FormatEnv) -> str:
    name = env.symbol(address) if address else ""
    return f" <{name}>" if name else ""


def _pointer(value: Value, t: CType, env: FormatEnv, top: bool) -> str:
    address = value.as_int() & 0xFFFFFFFF
    target = (t.target or CType("void", "void", 1)).strip()
    if t.target is not None and t.target.is_char:
        text = f"{address:#x}"
        data = env.string(address) if address else None
        if data is not None:
            text += " " + (_string(data) if data else '""')
        elif address:
            text += f" <error: cannot read memory at {address:#x}>"
        return text
    prefix = f"({type_name(value.type)}) " if top or target.kind == "function" else ""
    return f"{prefix}{address:#x}" + _symbol(address, env)


def _float(value: float, size: int) -> str:
    text = format(value, ".9g" if size == 4 else ".17g")
    return text


def _formatted(value: Value, fmt: str, env: FormatEnv) -> str:
    t = value.type.strip()
    size = max(1, t.size)
    n = value.as_int()
    unsigned = n & ((1 << (8 * size)) - 1)
    if fmt == "x":
        return f"{unsigned:#x}"
    if fmt == "z":
        return f"0x{unsigned:0{2 * size}x}"
    if fmt == "o":
        return f"0{unsigned:o}" if unsigned else "0"
    if fmt == "t":
        return f"{unsigned:b}"
    if fmt == "d":
        return str(unsigned - (1 << (8 * size)) if unsigned >> (8 * size - 1) else unsigned)
    if fmt == "u":
        return str(unsigned)
    if fmt == "c":
        byte = unsigned & 0xFF
        return f"{byte - 256 if byte > 127 and value.type.is_signed else byte} {_char_literal(byte)}"
    if fmt == "a":
        return f"{unsigned:#x}" + _symbol(unsigned, env)
    raise ExpressionError(f"undefined output format {fmt!r} (formats: {', '.join(FORMATS)})")
