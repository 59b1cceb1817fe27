"""Checked reading of TOML files: errors that name the file, the key and the problem.

Board files (machine/board.py) and system descriptions (kernel/image.py) are read
the same way: `read_toml` turns unreadable, non-UTF-8 or malformed files into one
line each, and a `TomlChecker` reads typed values out of tables, raising the
loader's own error type with `<file name>: <key>: <problem>`. Each loader
subclasses the checker for the checks only it needs.
"""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

KIND_NAMES = {int: "an integer", str: "a string", dict: "a table", list: "an array", bool: "true or false"}


def kind_name(kind: type) -> str:
    return KIND_NAMES.get(kind, kind.__name__)


def read_toml(path: pathlib.Path, error: type[Exception]) -> dict:
    """The parsed file, or `error` saying in one line why it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read: {e.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise error(f"{path.name}: not UTF-8 text (byte {e.start} is {raw[e.start]:#04x})") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path.name}: not valid TOML: {e}") from None


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
