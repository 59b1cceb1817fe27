"""Evaluating a parsed C expression (`atoll.expressions`) against a stopped component.

A `Value` is a typed run of bytes and, when it is an lvalue, where it lives: an
address in the component's address space, a register, or a bit field inside
memory. `Evaluator(context).evaluate(node)` computes one with C's rules on a
32-bit little-endian target: integer promotion and the usual arithmetic
conversions, pointer arithmetic scaled by the pointee's size, arrays that decay
to pointers, member access (`.` and `->`, either on a struct or a pointer to one,
as GDB allows), indexing, dereference, address-of, casts to base types, typedefs,
struct pointers, comparisons and logical operators, GDB's `@`, and assignment.

Everything the evaluator knows of the program comes from its `EvalContext`
(memory, registers, variables of the selected frame, named types, value history),
so the same code serves every component and frame. Every error is an
`ExpressionError` with one clear message; nothing here raises anything else for
bad input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .dwarf_types import CType, VOID, base_type, pointer_to, type_name
from .expressions import ExpressionError, Node, TypeSpec, number_value

INT, UINT, LONGLONG, ULONGLONG = (base_type(n) for n in ("int", "unsigned int", "long long",
                                                            "unsigned long long"))
CHAR, DOUBLE = base_type("char"), base_type("double")
#: the most bytes one value may hold (a bigger array or `@` count is refused)
MAX_VALUE_BYTES = 1 << 16


@dataclass
class Value:
    type: CType
    data: bytes
    address: int | None = None         # an lvalue in memory
    register: str | None = None        # an lvalue in a register (its name)
    bits: tuple[int, int] | None = None    # (bit offset, bit size) of a bit field at `address`
    unavailable: str = ""              # why the value cannot be shown ("optimized out", ...)

    def as_int(self) -> int:
        if self.unavailable:
            raise ExpressionError("value has been optimized out" if self.unavailable == "optimized out"
                                  else f"value is {self.unavailable}")
        t = self.type.strip()
        if t.kind == "array":
            if self.address is None:
                raise ExpressionError("an array not in memory has no address")
            return self.address
        if t.is_float:
            return int(self.as_float())
        if not (t.is_integer or t.is_pointer):
            raise ExpressionError(f"a value of type {type_name(self.type)} is not a number")
        value = int.from_bytes(self.data[:max(1, t.size)], "little")
        if t.is_signed and value >> (8 * t.size - 1):
            value -= 1 << (8 * t.size)
        return value

    def as_float(self) -> float:
        t = self.type.strip()
        if t.is_float:
            return struct.unpack("<f" if t.size == 4 else "<d", self.data[:t.size])[0]
        return float(self.as_int())


def int_value(value: int, t: CType) -> Value:
    size = max(1, t.strip().size)
    return Value(t, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


def float_value(value: float, t: CType) -> Value:
    size = t.strip().size
    return Value(t, struct.pack("<f" if size == 4 else "<d", value))


class EvalContext:
    """What an expression may read and change; the debugger gives one per component and frame."""

    def read(self, address: int, length: int) -> bytes:
        raise NotImplementedError

    def write(self, address: int, data: bytes) -> None:
        raise NotImplementedError

    def register(self, name: str) -> Value:
        raise NotImplementedError

    def write_register(self, name: str, value: int) -> None:
        raise NotImplementedError

    def variable(self, name: str) -> Value | None:
        raise NotImplementedError

    def type_named(self, name: str) -> CType | None:
        raise NotImplementedError

    def history(self, number: int | None, back: int | None) -> Value:
        raise NotImplementedError


class Evaluator:
    """Evaluates expression trees in one `EvalContext`."""

    def __init__(self, context: EvalContext) -> None:
        self.ctx = context

    def evaluate(self, node: Node) -> Value:
        method = getattr(self, "_" + node.op)
        return method(node)

    # -- leaves ----------------------------------------------------------------------------------

    def _num(self, node: Node) -> Value:
        value, unsigned, wide = number_value(node.value)
        t = (ULONGLONG if unsigned else LONGLONG) if wide else (UINT if unsigned else INT)
        return int_value(value, t)

    def _float(self, node: Node) -> Value:
        return float_value(node.value, DOUBLE)

    def _char(self, node: Node) -> Value:
        return int_value(node.value, CHAR)

    def _name(self, node: Node) -> Value:
        found = self.ctx.variable(node.value)
        if found is None:
            raise ExpressionError(f"no symbol {node.value!r} in current context")
        return found

    def _reg(self, node: Node) -> Value:
        return self.ctx.register(node.value)

    def _history(self, node: Node) -> Value:
        number, back = node.value
        return self.ctx.history(number, back)

    def resolve_type(self, spec: TypeSpec) -> CType:
        t = self.ctx.type_named(spec.base)
        if t is None:
            t = base_type(spec.base)
        if t is None:
            what = spec.base if " " in spec.base and spec.base.split()[0] in ("struct", "union", "enum") \
                else f"type {spec.base}"
            raise ExpressionError(f"no {what} in current context")
        for _ in range(spec.pointers):
            t = pointer_to(t)
        return t

    def _sizeof(self, node: Node) -> Value:
        t = self.resolve_type(node.value) if node.value is not None else self.evaluate(node.args[0]).type
        return int_value(t.byte_size, UINT)

    # -- unary -----------------------------------------------------------------------------------

    def _unary(self, node: Node) -> Value:
        op = node.value
        if op == "&":
            return self.address_of(self.evaluate(node.args[0]), node)
        operand = self.evaluate(node.args[0])
        if op == "*":
            return self.dereference(operand)
        if op == "!":
            return int_value(0 if self.truth(operand) else 1, INT)
        operand = self.decay(operand)
        if operand.type.is_float and op in "-+":
            return float_value(-operand.as_float() if op == "-" else operand.as_float(), operand.type)
        if not operand.type.is_integer:
            raise ExpressionError(f"cannot apply {op!r} to a value of type {type_name(operand.type)}")
        t = promote(operand.type)
        value = operand.as_int()
        return int_value({"-": -value, "+": value, "~": ~value}[op], t)

    def address_of(self, value: Value, node: Node) -> Value:
        if value.bits is not None:
            raise ExpressionError("cannot take the address of a bit field")
        if value.register is not None:
            raise ExpressionError(f"cannot take the address of a value in register {value.register}")
        if value.address is None:
            raise ExpressionError("cannot take the address of a value not in memory")
        return int_value(value.address, pointer_to(value.type))

    def dereference(self, value: Value) -> Value:
        t = value.type.strip()
        if t.kind == "array":
            return self.at(t.target, value.address) if value.address is not None else \
                Value(t.target, value.data[:t.target.byte_size])
        if t.kind == "pointer":
            target = t.target or VOID
            if target.strip().kind == "void":
                raise ExpressionError("cannot dereference a void pointer (cast it to a type first)")
            if target.strip().kind == "function":
                raise ExpressionError("cannot dereference a function pointer")
            return self.at(target, value.as_int() & 0xFFFFFFFF)
        if t.is_integer:
            return self.at(INT, value.as_int() & 0xFFFFFFFF)
        raise ExpressionError(f"cannot dereference a value of type {type_name(value.type)}")

    def at(self, t: CType, address: int) -> Value:
        """The object of type `t` at `address` (read now)."""
        size = t.byte_size
        if size > MAX_VALUE_BYTES:
            raise ExpressionError(f"a value of {size} bytes is too big to show (at most {MAX_VALUE_BYTES})")
        return Value(t, self.ctx.read(address, size) if size else b"", address=address)

    def decay(self, value: Value) -> Value:
        """An array in memory as a pointer to its first element (C's decay); anything else as is."""
        t = value.type.strip()
        if t.kind == "array" and value.address is not None:
            return int_value(value.address, pointer_to(t.target))
        if t.kind == "function" and value.address is not None:
            return int_value(value.address, pointer_to(value.type))
        return value

    def truth(self, value: Value) -> bool:
        value = self.decay(value)
        if value.type.is_float:
            return value.as_float() != 0
        if not value.type.is_scalar:
            raise ExpressionError(f"a value of type {type_name(value.type)} is not true or false")
        return value.as_int() != 0

    # -- postfix ---------------------------------------------------------------------------------

    def _member(self, node: Node) -> Value:
        value = self.evaluate(node.args[0])
        name = node.value
        if value.type.strip().kind == "pointer":
            value = self.dereference(value)
        t = value.type.strip()
        if t.kind not in ("struct", "union"):
            raise ExpressionError(f"cannot take member {name!r} of a value of type {type_name(value.type)} "
                                  "(not a struct or union)")
        member = value.type.member(name)
        if member is None:
            raise ExpressionError(f"there is no member named {name!r} in {type_name(value.type)}")
        size = member.type.byte_size
        if value.unavailable:
            return Value(member.type, b"", unavailable=value.unavailable)
        address = None if value.address is None else value.address + member.offset
        data = value.data[member.offset:member.offset + size]
        if member.bit_size:
            storage = int.from_bytes(value.data[member.offset:member.offset + 8].ljust(8, b"\0"), "little")
            field = (storage >> member.bit_offset) & ((1 << member.bit_size) - 1)
            if member.type.is_signed and field >> (member.bit_size - 1):
                field -= 1 << member.bit_size
            out = int_value(field, member.type)
            out.address, out.bits = address, (member.bit_offset, member.bit_size)
            return out
        return Value(member.type, data, address=address)

    def _index(self, node: Node) -> Value:
        base = self.evaluate(node.args[0])
        index = self.evaluate(node.args[1])
        if not index.type.is_integer:
            raise ExpressionError(f"an array index must be an integer, not {type_name(index.type)}")
        i = index.as_int()
        t = base.type.strip()
        if t.kind == "array":
            size = t.target.byte_size
            if base.address is not None:
                return self.at(t.target, base.address + i * size)
            if not 0 <= i < (t.count or 0):
                raise ExpressionError(f"index {i} is outside {type_name(base.type)}")
            return Value(t.target, base.data[i * size:(i + 1) * size])
        if t.kind == "pointer":
            target = t.target or VOID
            if target.strip().kind in ("void", "function"):
                raise ExpressionError(f"cannot index a {type_name(base.type)}")
            return self.at(target, (base.as_int() + i * target.byte_size) & 0xFFFFFFFF)
        raise ExpressionError(f"cannot index a value of type {type_name(base.type)} (not an array or pointer)")

    def _cast(self, node: Node) -> Value:
        target = self.resolve_type(node.value)
        return self.convert(self.decay(self.evaluate(node.args[0])), target, cast=True)

    def convert(self, value: Value, target: CType, cast: bool = False) -> Value:
        t = target.strip()
        if t.kind == "void":
            return Value(target, b"")
        if t.kind in ("struct", "union", "array"):
            if value.type.strip() is t and not cast:
                return Value(target, value.data)
            raise ExpressionError(f"cannot convert {type_name(value.type)} to {type_name(target)}")
        source = value.type.strip()
        if not source.is_scalar:
            raise ExpressionError(f"cannot convert {type_name(value.type)} to {type_name(target)}")
        if t.is_float:
            return float_value(value.as_float(), target)
        if t.kind == "base" and t.encoding == "bool":
            return int_value(1 if self.truth(value) else 0, target)
        return int_value(value.as_int(), target)

    # -- binary ----------------------------------------------------------------------------------

    def _binary(self, node: Node) -> Value:
        op = node.value
        if op in ("&&", "||"):
            left = self.truth(self.evaluate(node.args[0]))
            if op == "&&" and not left or op == "||" and left:
                return int_value(0 if op == "&&" else 1, INT)
            return int_value(1 if self.truth(self.evaluate(node.args[1])) else 0, INT)
        if op == "@":
            return self._artificial_array(node)
        left = self.decay(self.evaluate(node.args[0]))
        right = self.decay(self.evaluate(node.args[1]))
        if left.type.is_pointer or right.type.is_pointer:
            return self._pointer_arithmetic(op, left, right)
        for side in (left, right):
            if not side.type.is_scalar:
                raise ExpressionError(f"cannot apply {op!r} to a value of type {type_name(side.type)}")
        if left.type.is_float or right.type.is_float:
            return _float_arithmetic(op, left.as_float(), right.as_float())
        t = arithmetic_type(left.type, right.type)
        a, b = int_value(left.as_int(), t).as_int(), int_value(right.as_int(), t).as_int()
        if op in _COMPARE:
            return int_value(1 if _COMPARE[op](a, b) else 0, INT)
        if op in ("/", "%") and b == 0:
            raise ExpressionError("division by zero")
        if op in ("<<", ">>"):
            t = promote(left.type)
            a = left.as_int()
            if not 0 <= b < 8 * t.strip().size:
                raise ExpressionError(f"shift count {b} is out of range for {type_name(t)} "
                                      f"(0 to {8 * t.strip().size - 1})")
        return int_value(_ARITHMETIC[op](a, b), t)

    def _pointer_arithmetic(self, op: str, left: Value, right: Value) -> Value:
        if op in _COMPARE:
            if not (left.type.is_pointer or left.type.is_integer) or not (right.type.is_pointer or
                                                                          right.type.is_integer):
                raise ExpressionError(f"cannot compare {type_name(left.type)} with {type_name(right.type)}")
            a, b = left.as_int() & 0xFFFFFFFF, right.as_int() & 0xFFFFFFFF
            return int_value(1 if _COMPARE[op](a, b) else 0, INT)
        if op == "-" and left.type.is_pointer and right.type.is_pointer:
            size = max(1, (left.type.strip().target or VOID).byte_size)
            if size != max(1, (right.type.strip().target or VOID).byte_size):
                raise ExpressionError(f"cannot subtract {type_name(right.type)} from {type_name(left.type)}")
            return int_value(((left.as_int() & 0xFFFFFFFF) - (right.as_int() & 0xFFFFFFFF)) // size, INT)
        pointer, offset = (left, right) if left.type.is_pointer else (right, left)
        if op not in ("+", "-") or not offset.type.is_integer or (op == "-" and pointer is right):
            raise ExpressionError(f"cannot apply {op!r} to {type_name(left.type)} and {type_name(right.type)}")
        size = max(1, (pointer.type.strip().target or VOID).byte_size)
        step = offset.as_int() * size
        return int_value(pointer.as_int() + (step if op == "+" else -step), pointer.type)

    def _artificial_array(self, node: Node) -> Value:
        first = self.evaluate(node.args[0])
        count = self.evaluate(node.args[1])
        if first.address is None or first.bits is not None:
            raise ExpressionError("only a value in memory can be the start of an '@' array")
        if not count.type.is_integer or count.as_int() < 1:
            raise ExpressionError("the right of '@' must be a positive integer")
        return self.at(CType("array", target=first.type, count=count.as_int()), first.address)

    # -- assignment ------------------------------------------------------------------------------

    def _assign(self, node: Node) -> Value:
        target = self.evaluate(node.args[0])
        value = self.decay(self.evaluate(node.args[1]))
        new = self.convert(value, target.type)
        if target.unavailable:
            raise ExpressionError(f"cannot assign to a value that is {target.unavailable}")
        if target.register is not None:
            self.ctx.write_register(target.register, int.from_bytes(new.data.ljust(4, b"\0")[:4], "little"))
            return Value(target.type, new.data, register=target.register)
        if target.address is None:
            raise ExpressionError("left operand of assignment is not an lvalue")
        if target.bits is not None:
            return self._assign_bits(target, new)
        self.ctx.write(target.address, new.data)
        return self.at(target.type, target.address)

    def _assign_bits(self, target: Value, new: Value) -> Value:
        offset, size = target.bits
        span = (offset + size + 7) // 8
        old = int.from_bytes(self.ctx.read(target.address, span), "little")
        mask = ((1 << size) - 1) << offset
        word = (old & ~mask) | ((new.as_int() << offset) & mask)
        self.ctx.write(target.address, word.to_bytes(span, "little"))
        out = int_value(new.as_int() & ((1 << size) - 1), target.type)
        if target.type.is_signed and out.as_int() >> (size - 1) & 1:
            out = int_value(out.as_int() - (1 << size), target.type)
        out.address, out.bits = target.address, target.bits
        return out


def promote(t: CType) -> CType:
    """C's integer promotion: anything narrower than int becomes int."""
    s = t.strip()
    if s.kind == "enum" or s.size < 4:
        return INT
    return t


def arithmetic_type(a: CType, b: CType) -> CType:
    """C's usual arithmetic conversions for two integer types (32-bit int and long)."""
    a, b = promote(a).strip(), promote(b).strip()
    size = max(a.size, b.size)
    unsigned = (a.size == size and not a.is_signed) or (b.size == size and not b.is_signed)
    if size > 4:
        return ULONGLONG if unsigned else LONGLONG
    return UINT if unsigned else INT


def _float_arithmetic(op: str, a: float, b: float) -> Value:
    if op in _COMPARE:
        return int_value(1 if _COMPARE[op](a, b) else 0, INT)
    if op not in ("+", "-", "*", "/"):
        raise ExpressionError(f"cannot apply {op!r} to floating-point values")
    if op == "/" and b == 0:
        raise ExpressionError("division by zero")
    return float_value(_ARITHMETIC[op](a, b) if op != "/" else a / b, DOUBLE)


_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}
_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1),
               "%": lambda a, b: a - b * (abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)),
               "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
               "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b}
