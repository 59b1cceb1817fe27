"""Variables of one ELF file from its DWARF: where each lives, at which pc, with which type.

`DebugInfo` reads .debug_info once (pyelftools): the globals and file statics of
every compile unit, the named types (for casts), the enumerators, and each
function as a tree of `Scope`s (the function, its lexical blocks and inlined
calls, each with its address ranges and its variables and parameters, names and
types taken through DW_AT_abstract_origin). `scopes_at(pc)` gives the scopes that
hold a pc, innermost first.

`locate(variable, pc, frame)` evaluates a variable's DWARF location for a frame
(`FrameRegisters`: the frame's registers by DWARF number, its canonical frame
address and memory) into a `Location`: in memory at an address, in a register, a
computed value (DW_OP_stack_value, DW_AT_const_value, pieces), or not available
with the reason (`<optimized out>` where no location list entry covers the pc, or
what this reader does not support). The operations are those clang emits at
-O0 to -O2: DW_OP_addr, fbreg, breg/reg (and their x forms), call_frame_cfa,
literals and constants, arithmetic, deref, stack_value and piece.
"""

from __future__ import annotations

import bisect
import pathlib
from dataclasses import dataclass, field
from typing import Callable

from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.locationlists import BaseAddressEntry, LocationEntry
from elftools.elf.elffile import ELFFile

from .dwarf_types import CType, DwarfTypeError, TypeReader, VOID

_TYPE_TAGS = {"DW_TAG_base_type": "", "DW_TAG_typedef": "", "DW_TAG_structure_type": "struct ",
              "DW_TAG_union_type": "union ", "DW_TAG_enumeration_type": "enum "}


@dataclass(eq=False)
class Variable:
    name: str
    type: CType
    #: a location expression (bytes), a location list [(low, high, expression)], or None
    location: object = None
    const_value: object = None
    is_param: bool = False


@dataclass(eq=False)
class Scope:
    kind: str                                  # function, block, inlined
    name: str
    ranges: list[tuple[int, int]]
    variables: list[Variable] = field(default_factory=list)
    children: list["Scope"] = field(default_factory=list)
    frame_base: bytes | None = None
    type: CType | None = None                  # a function's type (return and parameters)

    def holds(self, pc: int) -> bool:
        return any(low <= pc < high for low, high in self.ranges)


@dataclass(frozen=True)
class Location:
    kind: str            # memory, register, value, unavailable
    address: int = 0     # memory
    register: int = 0    # register: its DWARF number
    data: bytes = b""    # value: the bytes (little-endian)
    reason: str = ""     # unavailable: "optimized out" or what is not supported


@dataclass
class FrameRegisters:
    """What a location expression may ask about a frame."""

    register: Callable[[int], int]            # DWARF number -> value
    cfa: int | None
    read: Callable[[int, int], bytes]          # (address, length) -> bytes (raises on failure)


class DebugInfo:
    """The variables, scopes and named types of one ELF file's DWARF."""

    def __init__(self, path: str | pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self.globals: dict[str, Variable] = {}
        self.functions: list[Scope] = []
        self.types: dict[str, CType] = {}
        self.enumerators: dict[str, tuple[int, CType]] = {}
        self._starts: list[int] = []
        self._reader = TypeReader()
        self._parser = self._loclists = self._ranges = None
        with self.path.open("rb") as f:
            elf = ELFFile(f)
            if not elf.has_dwarf_info():
                return
            dwarf = elf.get_dwarf_info()
            self._parser = DWARFExprParser(dwarf.structs)
            self._loclists = dwarf.location_lists()
            self._ranges = dwarf.range_lists()
            for cu in dwarf.iter_CUs():
                self._read_unit(cu)
        pairs = sorted(((min(lo for lo, _ in s.ranges), s) for s in self.functions if s.ranges),
                       key=lambda p: p[0])
        self.functions = [s for _, s in pairs]
        self._starts = [start for start, _ in pairs]

    # -- reading ---------------------------------------------------------------------------------

    def _read_unit(self, cu) -> None:
        top = cu.get_top_DIE()
        base = top.attributes["DW_AT_low_pc"].value if "DW_AT_low_pc" in top.attributes else 0
        for die in top.iter_children():
            tag = die.tag
            if tag in _TYPE_TAGS:
                self._name_type(die)
            if tag == "DW_TAG_variable":
                var = self._variable(die, cu, base)
                if var is not None and (var.location is not None or var.const_value is not None):
                    self.globals.setdefault(var.name, var)
            elif tag == "DW_TAG_subprogram":
                scope = self._scope(die, cu, base, "function")
                if scope is not None and scope.ranges:
                    self.functions.append(scope)

    def _name_type(self, die) -> None:
        name = die.attributes.get("DW_AT_name")
        if name is None or "DW_AT_declaration" in die.attributes:
            return
        key = _TYPE_TAGS[die.tag] + name.value.decode("utf-8", "replace")
        try:
            t = self._reader.read(die)
        except DwarfTypeError:
            return
        self.types.setdefault(key, t)
        if die.tag == "DW_TAG_enumeration_type":
            for value, enumerator in t.enumerators.items():
                self.enumerators.setdefault(enumerator, (value, t))

    def _origin_attr(self, die, name: str):
        seen = 0
        while die is not None and seen < 4:
            if name in die.attributes:
                return die.attributes[name], die
            origin = die.attributes.get("DW_AT_abstract_origin") or die.attributes.get("DW_AT_specification")
            die = die.get_DIE_from_attribute(origin.name) if origin is not None else None
            seen += 1
        return None, None

    def _variable(self, die, cu, base: int, is_param: bool = False) -> Variable | None:
        name_attr, _ = self._origin_attr(die, "DW_AT_name")
        if name_attr is None:
            return None
        type_attr, type_die = self._origin_attr(die, "DW_AT_type")
        try:
            vtype = self._reader.of(type_die) if type_attr is not None else VOID
        except DwarfTypeError:
            return None
        var = Variable(name_attr.value.decode("utf-8", "replace"), vtype, is_param=is_param)
        loc = die.attributes.get("DW_AT_location")
        if loc is not None:
            if loc.form == "DW_FORM_exprloc" or loc.form.startswith("DW_FORM_block"):
                var.location = bytes(loc.value)
            else:
                var.location = self._location_list(loc, cu, base, die)
        const, _ = self._origin_attr(die, "DW_AT_const_value")
        if const is not None and var.location is None:
            var.const_value = const.value
        return var

    def _location_list(self, attr, cu, base: int, die) -> list[tuple[int, int, bytes]]:
        entries: list[tuple[int, int, bytes]] = []
        if self._loclists is None:
            return entries
        for entry in self._loclists.get_location_list_at_offset(attr.value, die):
            if isinstance(entry, BaseAddressEntry):
                base = entry.base_address
            elif isinstance(entry, LocationEntry):
                offset = 0 if entry.is_absolute else base
                entries.append((entry.begin_offset + offset, entry.end_offset + offset, bytes(entry.loc_expr)))
        return entries

    def _scope_ranges(self, die, cu, base: int) -> list[tuple[int, int]]:
        attrs = die.attributes
        if "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
            low = attrs["DW_AT_low_pc"].value
            high = attrs["DW_AT_high_pc"]
            return [(low, high.value if high.form == "DW_FORM_addr" else low + high.value)]
        if "DW_AT_ranges" in attrs and self._ranges is not None:
            out = []
            for entry in self._ranges.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=cu):
                if hasattr(entry, "base_address"):
                    base = entry.base_address
                else:
                    offset = 0 if getattr(entry, "is_absolute", False) else base
                    out.append((entry.begin_offset + offset, entry.end_offset + offset))
            return out
        return []

    def _scope(self, die, cu, base: int, kind: str) -> Scope | None:
        name_attr, _ = self._origin_attr(die, "DW_AT_name")
        name = name_attr.value.decode("utf-8", "replace") if name_attr is not None else ""
        frame_base = die.attributes.get("DW_AT_frame_base")
        scope = Scope(kind, name, self._scope_ranges(die, cu, base),
                      frame_base=bytes(frame_base.value) if frame_base is not None and
                      frame_base.form == "DW_FORM_exprloc" else None)
        if kind == "function":
            scope.type = self._function_type(die)
        for child in die.iter_children():
            tag = child.tag
            if tag in ("DW_TAG_variable", "DW_TAG_formal_parameter"):
                var = self._variable(child, cu, base, is_param=tag == "DW_TAG_formal_parameter")
                if var is not None:
                    scope.variables.append(var)
            elif tag in ("DW_TAG_lexical_block", "DW_TAG_inlined_subroutine"):
                inner = self._scope(child, cu, base, "block" if tag == "DW_TAG_lexical_block" else "inlined")
                if inner is not None:
                    scope.children.append(inner)
            elif tag in _TYPE_TAGS:
                self._name_type(child)
        return scope

    def _function_type(self, die) -> CType | None:
        attr, origin = self._origin_attr(die, "DW_AT_name")
        if origin is None:
            return None
        try:
            params = [self._reader.of(c) for c in origin.iter_children() if c.tag == "DW_TAG_formal_parameter"]
            return CType("function", target=self._reader.of(origin), params=params)
        except DwarfTypeError:
            return None

    def function_named(self, name: str) -> Scope | None:
        return next((f for f in self.functions if f.name == name), None)

    # -- queries ---------------------------------------------------------------------------------

    def function_at(self, pc: int) -> Scope | None:
        i = bisect.bisect_right(self._starts, pc) - 1
        for scope in self.functions[max(0, i - 4):i + 1][::-1]:
            if scope.holds(pc):
                return scope
        return None

    def scopes_at(self, pc: int) -> list[Scope]:
        """The scopes holding `pc`, innermost first, ending with its function."""
        fn = self.function_at(pc)
        if fn is None:
            return []
        chain = [fn]
        while True:
            inner = next((c for c in chain[-1].children if c.holds(pc) or (not c.ranges and c.kind == "block")),
                         None)
            if inner is None or inner in chain:
                break
            chain.append(inner)
        return chain[::-1]

    # -- locations -------------------------------------------------------------------------------

    def locate(self, var: Variable, pc: int, frame: FrameRegisters, function: Scope | None) -> Location:
        if var.const_value is not None:
            value = var.const_value
            data = bytes(value) if isinstance(value, list) else \
                (value & ((1 << (8 * max(1, var.type.byte_size))) - 1)).to_bytes(max(1, var.type.byte_size), "little")
            return Location("value", data=data)
        expr = var.location
        if isinstance(expr, list):
            expr = next((e for low, high, e in expr if low <= pc < high), None)
        if not expr:
            return Location("unavailable", reason="optimized out")
        return self.evaluate(expr, frame, function)

    def evaluate(self, expr: bytes, frame: FrameRegisters, function: Scope | None) -> Location:
        ops = self._parser.parse_expr(list(expr))
        if any(op.op_name == "DW_OP_piece" for op in ops):
            return self._pieces(ops, frame, function)
        return _Machine(frame, lambda: self._frame_base(function, frame)).run(ops)

    def _pieces(self, ops, frame: FrameRegisters, function: Scope | None) -> Location:
        data = b""
        part: list = []
        for op in ops:
            if op.op_name != "DW_OP_piece":
                part.append(op)
                continue
            size = op.args[0]
            if not part:
                return Location("unavailable", reason="optimized out")
            where = _Machine(frame, lambda: self._frame_base(function, frame)).run(part)
            if where.kind == "memory":
                data += frame.read(where.address, size)
            elif where.kind == "register":
                data += (frame.register(where.register) & 0xFFFFFFFF).to_bytes(4, "little")[:size].ljust(size, b"\0")
            elif where.kind == "value":
                data += where.data[:size].ljust(size, b"\0")
            else:
                return where
            part = []
        return Location("value", data=data)

    def _frame_base(self, function: Scope | None, frame: FrameRegisters) -> int:
        if function is None or function.frame_base is None:
            raise _Unsupported("no frame base for this function")
        where = _Machine(frame, lambda: 0).run(self._parser.parse_expr(list(function.frame_base)))
        if where.kind == "register":
            return frame.register(where.register) & 0xFFFFFFFF
        if where.kind == "memory":
            return where.address
        raise _Unsupported("a frame base this debugger cannot compute")


class _Unsupported(Exception):
    pass


class _Machine:
    """The DWARF expression stack machine, for one frame."""

    def __init__(self, frame: FrameRegisters, frame_base: Callable[[], int]) -> None:
        self.frame = frame
        self.frame_base = frame_base

    def run(self, ops) -> Location:
        try:
            return self._run(ops)
        except _Unsupported as e:
            return Location("unavailable", reason=str(e))

    def _run(self, ops) -> Location:
        stack: list[int] = []
        mask = 0xFFFFFFFF
        for op in ops:
            name, args = op.op_name, op.args
            if name.startswith("DW_OP_reg"):
                number = args[0] if name == "DW_OP_regx" else int(name[9:])
                return Location("register", register=number)
            if name.startswith("DW_OP_breg"):
                number, offset = (args[0], args[1]) if name == "DW_OP_bregx" else (int(name[10:]), args[0])
                stack.append((self.frame.register(number) + offset) & mask)
            elif name.startswith("DW_OP_lit"):
                stack.append(int(name[9:]))
            elif name == "DW_OP_addr" or name.startswith("DW_OP_const"):
                stack.append(args[0] & mask)
            elif name == "DW_OP_fbreg":
                stack.append((self.frame_base() + args[0]) & mask)
            elif name == "DW_OP_call_frame_cfa":
                if self.frame.cfa is None:
                    raise _Unsupported("no call frame information here")
                stack.append(self.frame.cfa)
            elif name == "DW_OP_plus_uconst":
                stack.append((stack.pop() + args[0]) & mask)
            elif name in _BINARY:
                b, a = stack.pop(), stack.pop()
                stack.append(_BINARY[name](a, b) & mask)
            elif name == "DW_OP_neg":
                stack.append(-stack.pop() & mask)
            elif name == "DW_OP_not":
                stack.append(~stack.pop() & mask)
            elif name == "DW_OP_dup":
                stack.append(stack[-1])
            elif name == "DW_OP_drop":
                stack.pop()
            elif name in ("DW_OP_deref", "DW_OP_deref_size"):
                size = args[0] if name == "DW_OP_deref_size" else 4
                stack.append(int.from_bytes(self.frame.read(stack.pop(), size), "little"))
            elif name == "DW_OP_stack_value":
                return Location("value", data=stack[-1].to_bytes(4, "little"))
            elif name == "DW_OP_implicit_value":
                return Location("value", data=bytes(args[1]))
            elif name in ("DW_OP_entry_value", "DW_OP_GNU_entry_value"):
                raise _Unsupported("optimized out")
            else:
                raise _Unsupported(f"location operation {name} is not supported")
        if not stack:
            raise _Unsupported("optimized out")
        return Location("memory", address=stack[-1])


_BINARY = {
    "DW_OP_plus": lambda a, b: a + b, "DW_OP_minus": lambda a, b: a - b, "DW_OP_mul": lambda a, b: a * b,
    "DW_OP_and": lambda a, b: a & b, "DW_OP_or": lambda a, b: a | b, "DW_OP_xor": lambda a, b: a ^ b,
    "DW_OP_shl": lambda a, b: a << b, "DW_OP_shr": lambda a, b: a >> b,
    "DW_OP_shra": lambda a, b: (a - (1 << 32) if a & 0x80000000 else a) >> b,
    "DW_OP_div": lambda a, b: int(_signed(a) / _signed(b)) if b else 0, "DW_OP_mod": lambda a, b: a % b if b else 0,
}


def _signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v
