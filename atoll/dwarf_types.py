"""C types read from DWARF, as the debugger's expressions and printing see them.

A `CType` is one node of a C type: a base type (with its DWARF encoding), a
pointer, a struct or union (its `Member`s with byte and bit offsets), an array
(element and count), an enum (its enumerators), a typedef, a const/volatile
qualifier, a function or void. `TypeReader` turns pyelftools DIEs into them, one
object per DIE (so a struct that points to itself is one node, not an endless
chain), and `base_type` makes the C base types a cast names when the program's
DWARF has none of that name. `type_name` spells a type the way C (and GDB) write
it: `struct ring *`, `uint8_t [256]`, `void (*)(void)`.

Invariants: sizes are in bytes; `strip()` drops typedefs and qualifiers and nothing
else; a type's name is computed, never stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class DwarfTypeError(Exception):
    """A type the program's debug information describes in a way this reader cannot use."""


@dataclass(eq=False)
class Member:
    name: str
    offset: int                 # bytes from the start of the struct
    type: "CType"
    bit_size: int = 0           # 0: not a bit field
    bit_offset: int = 0         # bits from `offset` (little-endian), for a bit field


@dataclass(eq=False)
class CType:
    kind: str                   # base pointer struct union array enum typedef const volatile function void
    name: str = ""              # base/typedef name, struct/union/enum tag
    size: int = 0
    target: "CType | None" = None   # pointee, element, typedef/qualifier target, return type
    encoding: str = "signed"    # base: signed unsigned float bool signed_char unsigned_char
    members: list[Member] = field(default_factory=list)
    count: int | None = None    # array: number of elements (None: unknown)
    enumerators: dict[int, str] = field(default_factory=dict)
    params: list["CType"] | None = None   # function: parameter types (None: unspecified)

    def strip(self) -> "CType":
        """This type without typedefs and qualifiers."""
        t = self
        while t.kind in ("typedef", "const", "volatile") and t.target is not None:
            t = t.target
        return t

    @property
    def byte_size(self) -> int:
        t = self.strip()
        if t.kind == "array":
            return (t.count or 0) * t.target.byte_size
        return t.size

    @property
    def is_integer(self) -> bool:
        t = self.strip()
        return (t.kind == "base" and t.encoding != "float") or t.kind == "enum"

    @property
    def is_signed(self) -> bool:
        t = self.strip()
        return t.kind == "base" and t.encoding in ("signed", "signed_char") or \
            t.kind == "enum" and any(v < 0 for v in t.enumerators)

    @property
    def is_pointer(self) -> bool:
        return self.strip().kind == "pointer"

    @property
    def is_float(self) -> bool:
        t = self.strip()
        return t.kind == "base" and t.encoding == "float"

    @property
    def is_char(self) -> bool:
        t = self.strip()
        return t.kind == "base" and t.encoding in ("signed_char", "unsigned_char") and t.size == 1

    @property
    def is_scalar(self) -> bool:
        return self.is_integer or self.is_pointer or self.is_float

    def member(self, name: str) -> Member | None:
        """The member `name`, looking into anonymous structs and unions as C does."""
        for m in self.strip().members:
            if m.name == name:
                return m
            if not m.name and m.type.strip().kind in ("struct", "union"):
                inner = m.type.member(name)
                if inner is not None:
                    return Member(inner.name, m.offset + inner.offset, inner.type, inner.bit_size, inner.bit_offset)
        return None


VOID = CType("void", "void", 1)
_C_BASES = {
    "char": (1, "signed_char"), "signed char": (1, "signed_char"), "unsigned char": (1, "unsigned_char"),
    "short": (2, "signed"), "unsigned short": (2, "unsigned"), "int": (4, "signed"),
    "unsigned int": (4, "unsigned"), "long": (4, "signed"), "unsigned long": (4, "unsigned"),
    "long long": (8, "signed"), "unsigned long long": (8, "unsigned"), "_Bool": (1, "bool"),
    "float": (4, "float"), "double": (8, "float"),
}
_SPELLINGS = {"signed": "int", "unsigned": "unsigned int", "short int": "short", "signed int": "int",
              "short unsigned int": "unsigned short", "unsigned short int": "unsigned short",
              "long int": "long", "long unsigned int": "unsigned long", "unsigned long int": "unsigned long",
              "long long int": "long long", "long long unsigned int": "unsigned long long",
              "unsigned long long int": "unsigned long long", "signed short": "short", "signed long": "long",
              "signed long long": "long long", "unsigned": "unsigned int"}
_BUILT: dict[str, CType] = {}


def base_type(words: str) -> CType | None:
    """The C base type spelled `words` ("unsigned int", "char", ...) on a 32-bit target, or None."""
    name = " ".join(words.split())
    name = _SPELLINGS.get(name, name)
    if name == "void":
        return VOID
    if name not in _C_BASES:
        return None
    if name not in _BUILT:
        size, encoding = _C_BASES[name]
        _BUILT[name] = CType("base", name, size, encoding=encoding)
    return _BUILT[name]


def pointer_to(target: CType) -> CType:
    return CType("pointer", size=4, target=target)


def type_name(t: CType, inner: str = "") -> str:
    """C's spelling of `t` around a declarator `inner` (`*`, `[4]`, ...)."""
    kind = t.kind
    if kind == "pointer":
        target = t.target or VOID
        star = "*" + inner
        if target.strip().kind in ("array", "function") and target.kind not in ("typedef",):
            star = f"({star})"
        return type_name(target, star)
    if kind == "array":
        return type_name(t.target, f"{inner}[{'' if t.count is None else t.count}]")
    if kind == "function":
        params = "..." if t.params is None else (", ".join(type_name(p) for p in t.params) or "void")
        return type_name(t.target or VOID, f"{inner}({params})")
    if kind in ("const", "volatile"):
        if t.target is not None and t.target.kind == "pointer":
            return type_name(t.target, f" {kind}{inner}")
        return f"{kind} " + type_name(t.target or VOID, inner)
    if kind in ("struct", "union", "enum"):
        base = f"{kind} {t.name or '{...}'}"
    else:
        base = t.name or "void"
    if not inner:
        return base
    return base + ("" if inner.startswith(" ") else " ") + inner


class TypeReader:
    """DWARF type DIEs of one ELF into `CType`s, each DIE read once."""

    def __init__(self) -> None:
        self._by_offset: dict[int, CType] = {}

    def of(self, die) -> CType:
        """The type a DIE's DW_AT_type names (void when it has none)."""
        if die is None or "DW_AT_type" not in die.attributes:
            return VOID
        return self.read(die.get_DIE_from_attribute("DW_AT_type"))

    def read(self, die) -> CType:
        known = self._by_offset.get(die.offset)
        if known is not None:
            return known
        tag = die.tag
        attrs = die.attributes
        name = _text(attrs.get("DW_AT_name"))
        size = attrs["DW_AT_byte_size"].value if "DW_AT_byte_size" in attrs else 0
        simple = {"DW_TAG_pointer_type": "pointer", "DW_TAG_typedef": "typedef", "DW_TAG_const_type": "const",
                  "DW_TAG_volatile_type": "volatile", "DW_TAG_restrict_type": "volatile",
                  "DW_TAG_atomic_type": "volatile"}
        if tag in simple:
            kind = simple[tag]
            t = CType(kind, name, (size or 4) if kind == "pointer" else size)
            self._by_offset[die.offset] = t
            t.target = self.of(die) if "DW_AT_type" in attrs else VOID
            if tag == "DW_TAG_restrict_type" or tag == "DW_TAG_atomic_type":
                # C's restrict and _Atomic change nothing the debugger shows: the target itself
                self._by_offset[die.offset] = t.target
                return t.target
            return t
        if tag == "DW_TAG_base_type":
            t = CType("base", name, size, encoding=_encoding(attrs, size))
        elif tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type"):
            t = CType("union" if tag == "DW_TAG_union_type" else "struct", name, size)
            self._by_offset[die.offset] = t
            t.members = [self._member(child) for child in die.iter_children() if child.tag == "DW_TAG_member"]
            return t
        elif tag == "DW_TAG_array_type":
            return self._array(die)
        elif tag == "DW_TAG_enumeration_type":
            t = CType("enum", name, size or 4, target=self.of(die) if "DW_AT_type" in attrs else None)
            for child in die.iter_children():
                if child.tag == "DW_TAG_enumerator":
                    t.enumerators[child.attributes["DW_AT_const_value"].value] = _text(child.attributes["DW_AT_name"])
        elif tag == "DW_TAG_subroutine_type":
            t = CType("function", name, 1)
            self._by_offset[die.offset] = t
            t.target = self.of(die)
            params = [c for c in die.iter_children() if c.tag == "DW_TAG_formal_parameter"]
            variadic = any(c.tag == "DW_TAG_unspecified_parameters" for c in die.iter_children())
            prototyped = "DW_AT_prototyped" in attrs
            t.params = [self.of(c) for c in params] + ([CType("base", "...", 0)] if variadic else []) \
                if prototyped or params else None
            return t
        elif tag == "DW_TAG_unspecified_type":
            t = VOID
        else:
            raise DwarfTypeError(f"unsupported type {tag} at DIE {die.offset:#x}")
        self._by_offset[die.offset] = t
        return t

    def _member(self, die) -> Member:
        attrs = die.attributes
        offset = 0
        location = attrs.get("DW_AT_data_member_location")
        if location is not None:
            if isinstance(location.value, int):
                offset = location.value
            elif location.value and location.value[0] == 0x23:   # DW_OP_plus_uconst ULEB128
                offset = _uleb(location.value[1:])
        bit_size = attrs["DW_AT_bit_size"].value if "DW_AT_bit_size" in attrs else 0
        bit_offset = 0
        if bit_size and "DW_AT_data_bit_offset" in attrs:
            total = attrs["DW_AT_data_bit_offset"].value
            offset, bit_offset = total // 8, total % 8
        elif bit_size and "DW_AT_bit_offset" in attrs:
            storage = (attrs["DW_AT_byte_size"].value if "DW_AT_byte_size" in attrs else 4) * 8
            bit_offset = storage - attrs["DW_AT_bit_offset"].value - bit_size
        return Member(_text(attrs.get("DW_AT_name")), offset, self.of(die), bit_size, bit_offset)

    def _array(self, die) -> CType:
        element = self.of(die)
        counts = []
        for child in die.iter_children():
            if child.tag != "DW_TAG_subrange_type":
                continue
            a = child.attributes
            if "DW_AT_count" in a and isinstance(a["DW_AT_count"].value, int):
                counts.append(a["DW_AT_count"].value)
            elif "DW_AT_upper_bound" in a and isinstance(a["DW_AT_upper_bound"].value, int):
                lower = a["DW_AT_lower_bound"].value if "DW_AT_lower_bound" in a else 0
                counts.append(a["DW_AT_upper_bound"].value - lower + 1)
            else:
                counts.append(None)
        t = element
        for count in reversed(counts or [None]):
            t = CType("array", target=t, count=count)
        self._by_offset[die.offset] = t
        return t


def _encoding(attrs, size: int) -> str:
    code = attrs["DW_AT_encoding"].value if "DW_AT_encoding" in attrs else 5
    return {2: "bool", 4: "float", 5: "signed", 6: "signed_char", 7: "unsigned", 8: "unsigned_char",
            0x10: "unsigned"}.get(code, "signed" if size else "unsigned")


def _text(attr) -> str:
    if attr is None:
        return ""
    value = attr.value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _uleb(data) -> int:
    value, shift = 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value
