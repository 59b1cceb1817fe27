"""C expressions as a GDB user types them, parsed into a tree (`Node`).

`parse(text, is_type)` reads the C operators with C's precedence -- postfix `[]`,
`.`, `->`; unary `- + ! ~ * &`, casts and `sizeof`; `* / %`, `+ -`, GDB's `@`
(an artificial array), shifts, comparisons, bitwise and logical operators, and
assignment `=` (for `set var` and `print x = 1`) -- over integer, floating-point and
character literals, identifiers, registers and value-history entries (`$pc`, `$1`, `$`).
`is_type(name)` says whether an identifier names a type (a typedef of the program),
which decides whether `(name)` is a cast.

Invariants: parsing never reads the program; every error is an `ExpressionError`
whose message names the column (1-based) and what was expected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


class ExpressionError(Exception):
    """An expression that cannot be parsed or evaluated; its message is shown as it is."""


@dataclass
class Node:
    op: str                  # num float char name reg history unary binary member index cast sizeof assign
    pos: int
    value: object = None     # number, name, operator, member name, type spec
    args: tuple = ()


@dataclass(frozen=True)
class TypeSpec:
    """A type as written in a cast: base words ("unsigned int", "struct ring", "uint8_t") and stars."""
    base: str
    pointers: int = 0

    def __str__(self) -> str:
        return self.base + (" " + "*" * self.pointers if self.pointers else "")


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?|\d+[eE][-+]?\d+[fF]?)
  | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
  | (?P<char>'(?:\\(?:[0-7]{1,3}|x[0-9a-fA-F]+|.)|[^\\'])')
  | (?P<dollar>\$[A-Za-z_]\w*|\$\$?\d*)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>=()\[\].@,])
""", re.X)
_BINARY = [("=",), ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
           ("<<", ">>"), ("@",), ("+", "-"), ("*", "/", "%")]
_TYPE_WORDS = {"unsigned", "signed", "int", "char", "short", "long", "void", "_Bool", "float", "double",
               "struct", "union", "enum", "const", "volatile"}
_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, "'": 39, '"': 34}


def tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) of each token; a character that starts none is a syntax error."""
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"syntax error in {text!r} at column {pos + 1}: unexpected {text[pos]!r}")
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group(), pos))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


def parse(text: str, is_type: Callable[[str], bool] = lambda name: False) -> Node:
    """The tree of expression `text`."""
    if not text.strip():
        raise ExpressionError("an expression is needed")
    parser = _Parser(text, is_type)
    node = parser.binary(0)
    kind, word, pos = parser.peek()
    if kind != "end":
        parser.fail(pos, f"unexpected {word!r}")
    return node


class _Parser:
    def __init__(self, text: str, is_type: Callable[[str], bool]) -> None:
        self.text = text
        self.toks = tokens(text)
        self.i = 0
        self.is_type = is_type

    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, pos: int, what: str):
        raise ExpressionError(f"syntax error in {self.text!r} at column {pos + 1}: {what}")

    def expect(self, word: str, after: str) -> None:
        kind, got, pos = self.take()
        if got != word or kind != "op":
            self.fail(pos, f"expected {word!r} {after}" + (f", not {got!r}" if got else ""))

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        if _BINARY[level] == ("=",):
            left = self.binary(level + 1)
            kind, word, pos = self.peek()
            if kind == "op" and word == "=":
                self.take()
                return Node("assign", pos, "=", (left, self.binary(level)))
            return left
        left = self.binary(level + 1)
        while True:
            kind, word, pos = self.peek()
            if kind != "op" or word not in _BINARY[level]:
                return left
            self.take()
            if self.peek()[0] == "end":
                self.fail(self.peek()[2], f"expected an expression after {word!r}")
            left = Node("binary", pos, word, (left, self.binary(level + 1)))

    def unary(self) -> Node:
        kind, word, pos = self.peek()
        if kind == "op" and word in ("-", "+", "!", "~", "*", "&"):
            self.take()
            if self.peek()[0] == "end":
                self.fail(self.peek()[2], f"expected an expression after {word!r}")
            return Node("unary", pos, word, (self.unary(),))
        if kind == "name" and word == "sizeof":
            self.take()
            if self.peek()[1] == "(" and self._type_ahead(1):
                self.take()
                spec = self.type_spec()
                self.expect(")", "after the type in sizeof")
                return Node("sizeof", pos, spec)
            return Node("sizeof", pos, None, (self.unary(),))
        if kind == "op" and word == "(" and self._type_ahead(1):
            self.take()
            spec = self.type_spec()
            self.expect(")", "after the type in a cast")
            return Node("cast", pos, spec, (self.unary(),))
        return self.postfix(self.primary())

    def _type_ahead(self, ahead: int) -> bool:
        kind, word, _ = self.peek(ahead)
        return kind == "name" and (word in _TYPE_WORDS or self.is_type(word))

    def type_spec(self) -> TypeSpec:
        words: list[str] = []
        closed = False          # a typedef name or a struct/union/enum tag ends the base words
        while True:
            kind, word, pos = self.peek()
            if kind != "name":
                break
            if word in ("const", "volatile"):
                self.take()
            elif closed:
                break
            elif word in ("struct", "union", "enum") and not words:
                self.take()
                kind, tag, pos = self.take()
                if kind != "name":
                    self.fail(pos, f"expected a tag name after {word!r}")
                words.append(f"{word} {tag}")
                closed = True
            elif word in _TYPE_WORDS and word not in ("struct", "union", "enum"):
                words.append(self.take()[1])
            elif not words and self.is_type(word):
                words.append(self.take()[1])
                closed = True
            else:
                break
        if not words:
            self.fail(self.peek()[2], "expected a type name")
        stars = 0
        while self.peek()[:2] == ("op", "*") or self.peek()[1] in ("const", "volatile"):
            stars += self.take()[1] == "*"
        return TypeSpec(" ".join(words), stars)

    def primary(self) -> Node:
        kind, word, pos = self.take()
        if kind == "num":
            return Node("num", pos, word)
        if kind == "float":
            return Node("float", pos, float(word.rstrip("fF")))
        if kind == "char":
            return Node("char", pos, _char_value(word[1:-1]))
        if kind == "name":
            return Node("name", pos, word)
        if kind == "dollar":
            rest = word.lstrip("$")
            if word.startswith("$$"):                        # $$ the one before the last, $$N N back
                return Node("history", pos, (None, int(rest) if rest else 1))
            if rest.isdigit() or not rest:                   # $N, and $ the last
                return Node("history", pos, (int(rest), None) if rest else (None, 0))
            return Node("reg", pos, rest)
        if kind == "op" and word == "(":
            inner = self.binary(0)
            self.expect(")", "to close '('")
            return inner
        if kind == "end":
            self.fail(pos, "expected an expression")
        self.fail(pos, f"expected an expression, not {word!r}")

    def postfix(self, node: Node) -> Node:
        while True:
            kind, word, pos = self.peek()
            if kind != "op" or word not in ("[", ".", "->", "("):
                return node
            self.take()
            if word == "[":
                index = self.binary(0)
                self.expect("]", "to close '['")
                node = Node("index", pos, None, (node, index))
            elif word == "(":
                self.fail(pos, "calling functions is not supported")
            else:
                kind, name, npos = self.take()
                if kind != "name":
                    self.fail(npos, f"expected a member name after {word!r}")
                node = Node("member", pos, name, (node, word == "->"))


def _char_value(body: str) -> int:
    if not body.startswith("\\"):
        return ord(body)
    rest = body[1:]
    if rest[0] in "01234567" and len(rest) > 1 or rest[0] in "1234567":
        return int(rest, 8) & 0xFF
    if rest[0] == "x":
        return int(rest[1:], 16) & 0xFF
    return _ESCAPES.get(rest, ord(rest[0]))


def number_value(text: str) -> tuple[int, bool, bool]:
    """(value, unsigned, long long) of an integer literal."""
    digits = text.rstrip("uUlL")
    suffix = text[len(digits):].lower()
    try:
        if len(digits) > 1 and digits.startswith("0") and digits[1] not in "xX":
            value = int(digits, 8)
        else:
            value = int(digits, 16 if digits[:2].lower() == "0x" else 10)
    except ValueError:
        raise ExpressionError(f"invalid number {text!r}") from None
    if value > 0xFFFFFFFFFFFFFFFF:
        raise ExpressionError(f"number {text!r} is too big (at most 64 bits)")
    hexadecimal = digits.lower().startswith("0x") or digits.startswith("0") and len(digits) > 1
    # C: a decimal literal that int cannot hold is long long (long is 32 bits here); a hex or
    # octal one is unsigned int first
    unsigned = "u" in suffix or hexadecimal and 0x7FFFFFFF < value <= 0xFFFFFFFF
    wide = suffix.count("l") == 2 or value > 0xFFFFFFFF or not hexadecimal and value > 0x7FFFFFFF and not unsigned
    return value, unsigned, wide
