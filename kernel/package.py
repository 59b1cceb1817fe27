"""Packed images: one file holding a system description and everything it names.

A packed image (by convention `<name>.atoll`) is a zip archive (deflated) of:

    manifest.json     {"format": "atoll-image", "version": 1, "system": NAME,
                       "entries": {ENTRY: SHA-256 hex, ...}}   (every entry but itself)
    system.toml       the description, rewritten: ELF paths name the entries below,
                      the board is a shipped board's name or the packed board file
    elf/<component>.elf
    board/<file>.toml only when the board is not a shipped one

`pack` checks the description fully (`load_system`) before writing anything, and
writes the archive whole or not at all. `open_image` refuses an archive unless every
entry's SHA-256 matches the manifest and the entries are exactly the manifest's, and
only then unpacks it and checks `system.toml` like any description, its paths bound
to the image's own entries. The kernel boots from the returned `SystemSpec`, whose
ELF paths point into a private folder that lives as long as the process
(`unpacked` gives one that is removed on leaving a `with`).

Errors are `ImageError`s in one line naming the image file and the entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import pathlib
import re
import tempfile
import zipfile
import zlib
from typing import Iterator

from machine import known_boards, load_board

from machine import read_toml

from .image import ImageError, SystemSpec, load_system, parse_system

FORMAT = "atoll-image"
VERSION = 1
MANIFEST = "manifest.json"
DESCRIPTION = "system.toml"
#: the largest entry accepted, unpacked
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: entry names an image may hold (besides the manifest)
_ENTRY = re.compile(r"(system\.toml|elf/[A-Za-z_][A-Za-z0-9_]*\.elf|board/[A-Za-z0-9_][A-Za-z0-9_.-]*\.toml)\Z")
#: fixed timestamps, so that the same inputs pack to the same bytes
_EPOCH = (1980, 1, 1, 0, 0, 0)

_unpacked_dirs: list[tempfile.TemporaryDirectory] = []


# -- packing ---------------------------------------------------------------------------------------


def pack(description: str | pathlib.Path, output: str | pathlib.Path) -> SystemSpec:
    """Check `description` and write it, with its ELF files (and board file), to `output`."""
    system = load_system(description)
    output = pathlib.Path(output)
    files: dict[str, bytes] = {}
    board_ref = system.board.name
    if not _is_shipped(system):
        board_ref = f"board/{system.board.path.name}"
        files[board_ref] = _read(system.board.path, system.path)
    for comp in system.components:
        files[f"elf/{comp.name}.elf"] = _read(comp.elf, system.path)
    files[DESCRIPTION] = describe(system, board_ref).encode()
    manifest = {"format": FORMAT, "version": VERSION, "system": system.name,
                "entries": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    entries = {MANIFEST: (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), **dict(sorted(files.items()))}
    _write_atomically(output, entries)
    return system


def _is_shipped(system: SystemSpec) -> bool:
    name = system.board.name
    return name in known_boards() and load_board(name).path.resolve() == system.board.path.resolve()


def _read(path: pathlib.Path, description: pathlib.Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        shown = os.path.relpath(path, description.parent)
        raise ImageError(f"{description.name}: cannot read {shown}: {e.strerror}") from None


def _write_atomically(output: pathlib.Path, entries: dict[str, bytes]) -> None:
    folder = output.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    except OSError as e:
        raise ImageError(f"{output}: cannot write: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries.items():
                info = zipfile.ZipInfo(name, _EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(tmp, output)
    except OSError as e:
        os.unlink(tmp)
        raise ImageError(f"{output}: cannot write: {e.strerror}") from None


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def describe(system: SystemSpec, board: str) -> str:
    """`system` as a description whose ELF paths are the packed entries `elf/<component>.elf`."""
    lines = ["# Packed by atoll build: the ELF paths name this image's entries.", "",
             "[system]", f"name = {_toml_string(system.name)}", f"board = {_toml_string(board)}"]
    for comp in system.components:
        lines += ["", "[[component]]", f'name = "{comp.name}"', f'elf = "elf/{comp.name}.elf"',
                  f"priority = {comp.priority}", f"stack = {comp.stack}"]
        if comp.uses:
            physical = all(address == system.board.peripheral(p).base for p, address in comp.uses.items())
            if physical:
                lines.append("uses = [" + ", ".join(f'"{p}"' for p in comp.uses) + "]")
            else:
                lines.append("uses = { " + ", ".join(f"{p} = {a:#010x}" for p, a in comp.uses.items()) + " }")
        if comp.interrupts:
            lines.append("interrupts = { " + ", ".join(f'"{p}.{o}" = {bit}'
                                                        for (p, o), bit in comp.interrupts.items()) + " }")
        if comp.supervisor is not None:
            lines.append(f'supervisor = "{comp.supervisor}"')
        lines.append(f"start = {'true' if comp.start else 'false'}")
    for e in system.endpoints:
        lines += ["", "[[endpoint]]", f'name = "{e.name}"', f'server = "{e.server}"', f"server_slot = {e.server_slot}"]
        if e.clients:
            lines.append("clients = { " + ", ".join(f"{client} = {slot}" for client, slot in e.clients.items()) + " }")
    for n in system.notifications:
        lines += ["", "[[notification]]", f'from = "{n.source}"', f'to = "{n.target}"', f"slot = {n.slot}",
                  f"bits = {n.bits:#x}"]
    return "\n".join(lines) + "\n"


# -- verifying and unpacking -------------------------------------------------------------------------


def verify(path: str | pathlib.Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and every entry's bytes, each entry checked against the manifest's SHA-256."""
    path = pathlib.Path(path)
    image = path.name

    def fail(problem: str) -> ImageError:
        return ImageError(f"{image}: {problem}")

    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: cannot read: no such file") from None
    except OSError as e:
        raise ImageError(f"{path}: cannot read: {e.strerror}") from None
    except zipfile.BadZipFile:
        try:
            head = path.read_bytes()[:4]
        except OSError:
            head = b""
        if head == b"PK\x03\x04":
            raise fail("a damaged or truncated zip archive; not a usable packed image") from None
        raise fail("not a packed image (not a zip archive)") from None
    with archive:
        infos = {info.filename: info for info in archive.infolist()}
        if len(infos) != len(archive.infolist()):
            names = [info.filename for info in archive.infolist()]
            raise fail(f"entry {next(n for n in names if names.count(n) > 1)}: stored twice")
        if MANIFEST not in infos:
            raise fail(f"no {MANIFEST}; not a packed image")
        raw = _read_entry(archive, infos.pop(MANIFEST), fail)
        if raw is None:
            raise fail(f"entry {MANIFEST}: damaged in the archive")
        manifest = _parse_manifest(raw, fail)
        expected: dict[str, str] = manifest["entries"]
        for name in expected:
            if name not in infos:
                raise fail(f"entry {name}: listed in the manifest but missing")
        for name in infos:
            if name not in expected:
                raise fail(f"entry {name}: not listed in the manifest")
        contents: dict[str, bytes] = {}
        for name, info in infos.items():
            data = _read_entry(archive, info, fail)
            if data is None:
                raise fail(f"entry {name}: SHA-256 does not match the manifest (the entry is damaged)")
            if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), expected[name]):
                raise fail(f"entry {name}: SHA-256 does not match the manifest")
            contents[name] = data
    return manifest, contents


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, fail) -> bytes | None:
    """The entry's bytes, or None when the archive's own checks (CRC, inflating) fail."""
    if info.file_size > MAX_ENTRY_BYTES:
        raise fail(f"entry {info.filename}: {info.file_size} bytes, more than the {MAX_ENTRY_BYTES} accepted")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
        return None


def _parse_manifest(raw: bytes, fail) -> dict:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"{MANIFEST}: not valid JSON: {e}") from None
    if not isinstance(manifest, dict):
        raise fail(f"{MANIFEST}: must be a JSON object, not {manifest!r}")
    allowed = {"format", "version", "system", "entries"}
    for key in manifest:
        if key not in allowed:
            raise fail(f"{MANIFEST}: {key}: unknown key; expected one of: {', '.join(sorted(allowed))}")
    for key in sorted(allowed):
        if key not in manifest:
            raise fail(f"{MANIFEST}: {key}: missing")
    if manifest["format"] != FORMAT:
        raise fail(f"{MANIFEST}: format: must be {FORMAT!r}, not {manifest['format']!r}")
    version = manifest["version"]
    if version != VERSION or isinstance(version, bool):
        raise fail(f"{MANIFEST}: version: {version!r} is not supported; this Atoll reads version {VERSION}")
    if not isinstance(manifest["system"], str):
        raise fail(f"{MANIFEST}: system: must be a string, not {manifest['system']!r}")
    entries = manifest["entries"]
    if not isinstance(entries, dict):
        raise fail(f"{MANIFEST}: entries: must be an object of entry name -> SHA-256, not {entries!r}")
    for name, digest in entries.items():
        if not _ENTRY.match(name):
            raise fail(f"{MANIFEST}: entries: {name!r} is not an entry name an image may hold")
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            raise fail(f"{MANIFEST}: entries.{name}: must be a SHA-256 in 64 lowercase hex digits, not {digest!r}")
    if DESCRIPTION not in entries:
        raise fail(f"{MANIFEST}: entries: {DESCRIPTION} is not listed")
    return manifest


def _unpack_into(path: pathlib.Path, folder: pathlib.Path) -> SystemSpec:
    manifest, contents = verify(path)
    for name, data in contents.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    description = folder / DESCRIPTION
    entries = {folder / name for name in contents if name != DESCRIPTION}
    try:
        system = parse_system(read_toml(description, ImageError), description, entries)
    except ImageError as e:
        raise ImageError(f"{path.name}: {e}") from None
    used = {comp.elf for comp in system.components} | {system.board.path}
    for name in sorted(contents):
        if name != DESCRIPTION and folder / name not in used:
            raise ImageError(f"{path.name}: entry {name}: not used by {DESCRIPTION}")
    if manifest["system"] != system.name:
        raise ImageError(f"{path.name}: {MANIFEST}: system: {manifest['system']!r}, but {DESCRIPTION} "
                         f"names {system.name!r}")
    return system


def open_image(path: str | pathlib.Path) -> SystemSpec:
    """Verify and unpack a packed image; its files stay until the process exits."""
    holder = tempfile.TemporaryDirectory(prefix="atoll-image-")
    try:
        system = _unpack_into(pathlib.Path(path), pathlib.Path(holder.name))
    except BaseException:
        holder.cleanup()
        raise
    _unpacked_dirs.append(holder)
    return system


@contextlib.contextmanager
def unpacked(path: str | pathlib.Path) -> Iterator[SystemSpec]:
    """Like `open_image`, with the unpacked files removed on leaving the `with`."""
    with tempfile.TemporaryDirectory(prefix="atoll-image-") as folder:
        yield _unpack_into(pathlib.Path(path), pathlib.Path(folder))


def load_any(path: str | pathlib.Path) -> SystemSpec:
    """A description (a `.toml` file) or a packed image (anything else)."""
    path = pathlib.Path(path)
    if path.suffix == ".toml":
        return load_system(path)
    return open_image(path)
