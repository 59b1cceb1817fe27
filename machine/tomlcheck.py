"""Checked reading of TOML files: errors that name the file, the key and the problem.

Board files (machine/board.py) and system descriptions (sysdesc/description.py) are read
the same way: `read_toml` turns unreadable, non-UTF-8 or malformed files (integers
outside TOML's 64-bit range and nesting too deep to parse included) into one line
each, and a `TomlChecker` reads typed values out of tables, raising the loader's own
error type with `<file name>: <key>: <problem>`. Each loader subclasses the checker
for the checks only it needs.
"""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

KIND_NAMES = {int: "an integer", str: "a string", dict: "a table", list: "an array", bool: "true or false"}


def kind_name(kind: type) -> str:
    return KIND_NAMES.get(kind, kind.__name__)


#: TOML integers are 64-bit signed; a parser must refuse what it cannot represent (tomllib does not)
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1


def read_toml(path: pathlib.Path, error: type[Exception]) -> dict:
    """The parsed file, or `error` saying in one line why it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None
    except ValueError:  # a NUL in the name
        raise error(f"{path}: cannot read: not a valid file name") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise error(f"{path.name}: not UTF-8 text (byte {e.start} is {raw[e.start]:#04x})") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path.name}: not valid TOML: {e}") from None
    except RecursionError:
        raise error(f"{path.name}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # Python's limit on the digits of an integer, which tomllib lets through
        raise error(f"{path.name}: not valid TOML: an integer with too many digits "
                    f"(TOML integers are 64-bit)") from None
    _check_integers(data, path, error)
    return data


def _check_integers(data: dict, path: pathlib.Path, error: type[Exception]) -> None:
    """Refuse integers outside TOML's 64-bit range, naming the first one's key (in file order)."""
    pending: list[tuple[str, Any]] = list(reversed(data.items()))
    while pending:
        key, value = pending.pop()
        if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
            raise error(f"{path.name}: {key}: integer out of TOML's 64-bit range ({INT_MIN} to {INT_MAX})")
        if isinstance(value, dict):
            pending += reversed([(f"{key}.{k}", v) for k, v in value.items()])
        elif isinstance(value, list):
            pending += reversed([(f"{key}[{i}]", v) for i, v in enumerate(value)])


class TomlChecker:
    """Typed reads from TOML tables of one file; failures are `error` instances."""

    error: type[Exception] = ValueError

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> Exception:
        return self.error(f"{self.path.name}: {key}: {problem}")

    def table(self, data: dict, key: str, allowed: set[str], where: str | None = None) -> dict:
        """The required table `key`, with no keys but `allowed` (reported as `where`)."""
        where = where or key
        value = data.get(key)
        if value is None:
            raise self.fail(where, f"missing; the file needs a [{key}] table")
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a table, not {value!r}")
        self.only(value, where, allowed)
        return value

    def identifier(self, table: dict, key: str, where: str) -> str:
        """The required string `key`, a name made of ASCII letters, digits and _."""
        name = self.get(table, key, where, str)
        if not (name.isascii() and name.isidentifier()):
            raise self.fail(f"{where}.{key}", f"must be an identifier (letters, digits, _), not {name!r}")
        return name

    def ranged(self, value: Any, key: str, low: int, high: int, note: str = "") -> int:
        """`value`, an integer from `low` to `high` (`note` explains the range)."""
        self.value(value, key, int)
        if not low <= value <= high:
            raise self.fail(key, f"must be an integer from {low} to {high}{note}, not {value}")
        return value

    def tables(self, data: dict, key: str) -> list[dict]:
        """The array of tables `key` (written [[key]]; none: an empty list)."""
        raw = data.get(key, [])
        if isinstance(raw, dict):
            raise self.fail(key, f"must be an array of tables, written [[{key}]], not a single [{key}] table")
        if not isinstance(raw, list):
            raise self.fail(key, f"must be an array of tables, written [[{key}]], not {raw!r}")
        for i, t in enumerate(raw):
            self.value(t, f"{key}[{i}]", dict)
        return raw

    def only(self, table: dict, where: str | None, allowed: set[str]) -> None:
        """Refuse keys not in `allowed`; `where` None means the file's top level."""
        for k in table:
            if k not in allowed:
                key = k if where is None else f"{where}.{k}"
                raise self.fail(key, f"unknown key; expected one of: {', '.join(sorted(allowed))}")

    def get(self, table: dict, key: str, where: str, kind: type, required: bool = True, default: Any = None):
        if key not in table:
            if required:
                raise self.fail(f"{where}.{key}", "missing")
            return default
        return self.value(table[key], f"{where}.{key}", kind)

    def value(self, value: Any, key: str, kind: type):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be {kind_name(kind)}, not {value!r}")
        return value
