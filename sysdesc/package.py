"""Packed images: one file holding a system description and everything it names.

A packed image (by convention `<name>.atoll`) is a zip archive (deflated) of:

    manifest.json     {"format": "atoll-image", "version": 1, "system": NAME,
                       "entries": {ENTRY: SHA-256 hex, ...}}   (every entry but itself)
    system.toml       the description, rewritten: ELF paths name the entries below,
                      the board is a shipped board's name or the packed board file
    elf/<component>.elf
    board/<file>.toml only when the board is not a shipped one
    policy.toml       the security policy, when the description names one
    idl/<name>.idl.toml  the interface file of each endpoint that declares one

`pack` checks the description fully (`load_system`) before writing anything, and
writes the archive whole or not at all. `open_image` refuses an archive unless every
entry's SHA-256 matches the manifest and the entries are exactly the manifest's, and
only then unpacks it and checks `system.toml` like any description, its paths bound
to the image's own entries. The kernel boots from the returned `SystemSpec`, whose
ELF paths point into a private folder that lives as long as the process
(`unpacked` gives one that is removed on leaving a `with`).

Signed images. `pack(..., signing_key=KEY)` adds one more entry, `signature.ed25519`, that the
manifest does not list: `{"algorithm": "ed25519", "key": FINGERPRINT, "signature": HEX}`, an
Ed25519 signature over the exact bytes of `manifest.json` (which holds every other entry's
SHA-256, so the signature covers every byte) and the SHA-256 of the signer's raw public key.
Given `trusted_key=`, `open_image` (and `verify`, `unpacked`, `load_any`) checks the signature
right after reading the manifest, before anything else of it is believed, and refuses an image
that is not signed, signed by another key, or whose signature does not match. Without a trusted
key the signature entry is ignored and unsigned images open as before. Keys are PEM files
(`generate_keys` writes NAME.key, PKCS#8, mode 0600, and NAME.pub, SubjectPublicKeyInfo), so
`openssl pkey` reads them too.

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
import struct
import tempfile
import zipfile
import zlib
from typing import Iterator, Union

from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from machine import known_boards, load_board

from machine import read_toml

from .description import ImageError, SystemSpec, load_system, parse_system

FORMAT = "atoll-image"
VERSION = 1
MANIFEST = "manifest.json"
DESCRIPTION = "system.toml"
POLICY = "policy.toml"
SIGNATURE = "signature.ed25519"
#: the largest signature entry accepted
MAX_SIGNATURE_BYTES = 4096
#: the largest key file accepted
MAX_KEY_BYTES = 16 * 1024
#: the largest entry accepted, unpacked
MAX_ENTRY_BYTES = 64 * 1024 * 1024
#: entry names an image may hold (besides the manifest)
_ENTRY = re.compile(r"(system\.toml|policy\.toml|elf/[A-Za-z_][A-Za-z0-9_]*\.elf|idl/[A-Za-z_][A-Za-z0-9_]*\.idl\.toml"
                    r"|board/[A-Za-z0-9_][A-Za-z0-9_.-]*\.toml)\Z")
#: fixed timestamps, so that the same inputs pack to the same bytes
_EPOCH = (1980, 1, 1, 0, 0, 0)

_unpacked_dirs: list[tempfile.TemporaryDirectory] = []

#: a public key, or the path of a public key file
TrustedKey = Union[Ed25519PublicKey, str, pathlib.Path]
#: a private key, or the path of a private key file
SigningKey = Union[Ed25519PrivateKey, str, pathlib.Path]


# -- keys ------------------------------------------------------------------------------------------


def fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The SHA-256 of the raw 32-byte public key, in 64 lowercase hex digits."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _short(fp: str) -> str:
    return f"SHA256:{fp[:16]}"


def generate_keys(name: str | pathlib.Path) -> tuple[pathlib.Path, pathlib.Path, str]:
    """Write a new key pair, NAME.key (private, mode 0600) and NAME.pub; never overwrite a file.

    Returns the two paths and the public key's fingerprint."""
    base = pathlib.Path(name)
    private, public = base.with_name(base.name + ".key"), base.with_name(base.name + ".pub")
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise ImageError(f"{path}: already exists; not overwriting a key file")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private, private_pem, 0o600)
    try:
        _write_new(public, public_pem, 0o644)
    except BaseException:
        private.unlink()
        raise
    return private, public, fingerprint(key)


def _write_new(path: pathlib.Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise ImageError(f"{path}: already exists; not overwriting a key file") from None
    except OSError as e:
        raise ImageError(f"{path}: cannot write: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, mode)  # whatever the umask
    except OSError as e:
        path.unlink()
        raise ImageError(f"{path}: cannot write: {e.strerror}") from None


def _open_to_read(path: pathlib.Path, directory: str | None = None):
    """`path` opened for binary reading, or an ImageError naming it and saying why not
    (`directory`: the words for a folder given instead of a file; else the system's)."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise ImageError(f"{path}: cannot read: no such file") from None
    except IsADirectoryError as e:
        raise ImageError(f"{path}: cannot read: {directory or e.strerror}") from None
    except OSError as e:
        raise ImageError(f"{path}: cannot read: {e.strerror}") from None
    except ValueError:  # a NUL in the name
        raise ImageError(f"{path}: cannot read: not a valid file name") from None


def _read_key_file(path: pathlib.Path) -> bytes:
    with _open_to_read(path, directory="a directory, not a key file") as f:
        try:
            data = f.read(MAX_KEY_BYTES + 1)
        except OSError as e:
            raise ImageError(f"{path}: cannot read: {e.strerror}") from None
    if len(data) > MAX_KEY_BYTES:
        raise ImageError(f"{path.name}: more than {MAX_KEY_BYTES} bytes; not a key file")
    return data


def load_public_key(path: str | pathlib.Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file (NAME.pub, as `generate_keys` writes it)."""
    path = pathlib.Path(path)
    data = _read_key_file(path)
    if b"PRIVATE KEY-----" in data:
        raise ImageError(f"{path.name}: a private key; trust the public key (the .pub file) instead")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm, InternalError):  # InternalError: some bad DER
        raise ImageError(f"{path.name}: not a PEM public key (make a key pair with atoll keygen)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ImageError(f"{path.name}: not an Ed25519 public key (make a key pair with atoll keygen)")
    return key


def load_private_key(path: str | pathlib.Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in an unencrypted PEM file (NAME.key, as `generate_keys` writes it)."""
    path = pathlib.Path(path)
    data = _read_key_file(path)
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise ImageError(f"{path.name}: a public key; signing needs the private key (the .key file)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ImageError(f"{path.name}: an encrypted private key; atoll needs an unencrypted one") from None
    except (ValueError, UnsupportedAlgorithm, InternalError):  # InternalError: some bad DER
        raise ImageError(f"{path.name}: not a PEM private key (make a key pair with atoll keygen)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImageError(f"{path.name}: not an Ed25519 private key (make a key pair with atoll keygen)")
    return key


def _as_public_key(key: TrustedKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, (str, pathlib.Path)):
        return load_public_key(key)
    raise TypeError(f"trusted_key must be an Ed25519PublicKey or a key file's path, not {type(key).__name__}")


def _as_private_key(key: SigningKey) -> Ed25519PrivateKey:
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, (str, pathlib.Path)):
        return load_private_key(key)
    raise TypeError(f"signing_key must be an Ed25519PrivateKey or a key file's path, not {type(key).__name__}")


def signature_entry(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    """The `signature.ed25519` entry signing `manifest` (the exact bytes of manifest.json)."""
    record = {"algorithm": "ed25519", "key": fingerprint(key), "signature": key.sign(manifest).hex()}
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


# -- packing ---------------------------------------------------------------------------------------


def pack(description: str | pathlib.Path, output: str | pathlib.Path,
         signing_key: SigningKey | None = None) -> SystemSpec:
    """Check `description` and write it, with its ELF files (and board file), to `output`;
    signed when `signing_key` (a private key or its file) is given."""
    key = None if signing_key is None else _as_private_key(signing_key)
    system = load_system(description)
    output = pathlib.Path(output)
    files: dict[str, bytes] = {}
    board_ref = system.board.name
    if not _is_shipped(system):
        board_ref = f"board/{system.board.path.name}"
        files[board_ref] = _read(system.board.path, system.path)
    for comp in system.components:
        files[f"elf/{comp.name}.elf"] = _read(comp.elf, system.path)
    if system.policy is not None:
        files[POLICY] = _read(system.policy.path, system.path)
    for iface in system.interfaces.values():
        files[f"idl/{iface.name}.idl.toml"] = _read(iface.path, system.path)
    files[DESCRIPTION] = describe(system, board_ref).encode()
    manifest = {"format": FORMAT, "version": VERSION, "system": system.name,
                "entries": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    entries = {MANIFEST: manifest_bytes, **dict(sorted(files.items()))}
    if key is not None:
        entries[SIGNATURE] = signature_entry(manifest_bytes, key)
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
    if system.policy is not None:
        lines.append(f'policy = "{POLICY}"')
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
        restart = comp.restart
        lines.append(f'restart = "{restart.action}"')
        if restart.limit is not None:
            lines += [f"restart_limit = {restart.limit}", f"restart_window_ms = {restart.window_ms}",
                      f'restart_then = "{restart.then}"']
    for e in system.endpoints:
        lines += ["", "[[endpoint]]", f'name = "{e.name}"', f'server = "{e.server}"', f"server_slot = {e.server_slot}"]
        if e.interface is not None:
            lines.append(f'interface = "idl/{e.interface.name}.idl.toml"')
        if e.clients:
            lines.append("clients = { " + ", ".join(f"{client} = {slot}" for client, slot in e.clients.items()) + " }")
    for n in system.notifications:
        lines += ["", "[[notification]]", f'from = "{n.source}"', f'to = "{n.target}"', f"slot = {n.slot}",
                  f"bits = {n.bits:#x}"]
    return "\n".join(lines) + "\n"


# -- verifying and unpacking -------------------------------------------------------------------------


def verify(path: str | pathlib.Path, trusted_key: TrustedKey | None = None) -> tuple[dict, dict[str, bytes]]:
    """The manifest and every entry's bytes, each entry checked against the manifest's SHA-256.

    With `trusted_key` (a public key or its file), the image must carry a signature by that key
    over the manifest; it is checked before the manifest is parsed."""
    path = pathlib.Path(path)
    trusted = None if trusted_key is None else _as_public_key(trusted_key)
    image = path.name

    def fail(problem: str) -> ImageError:
        return ImageError(f"{image}: {problem}")

    with _open_to_read(path) as file:
        try:
            archive = zipfile.ZipFile(file)
        except _DAMAGED:
            # zipfile believes the offsets and sizes of a damaged central directory: seeking
            # before the start (OSError), an unknown zip version (NotImplementedError), names
            # that are not UTF-8 (UnicodeDecodeError, a ValueError), ...
            file.seek(0)
            if file.read(4) == b"PK\x03\x04":
                raise fail("a damaged or truncated zip archive; not a usable packed image") from None
            raise fail("not a packed image (not a zip archive)") from None
        with archive:
            return _verify_archive(archive, trusted, fail)


#: what zipfile raises on a damaged archive, besides BadZipFile
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError,
            struct.error)


def _verify_archive(archive: zipfile.ZipFile, trusted: Ed25519PublicKey | None,
                    fail) -> tuple[dict, dict[str, bytes]]:
    infos = {info.filename: info for info in archive.infolist()}
    if len(infos) != len(archive.infolist()):
        names = [info.filename for info in archive.infolist()]
        raise fail(f"entry {_shown(next(n for n in names if names.count(n) > 1))}: stored twice")
    if MANIFEST not in infos:
        raise fail(f"no {MANIFEST}; not a packed image")
    raw = _read_entry(archive, infos.pop(MANIFEST), fail)
    if raw is None:
        raise fail(f"entry {MANIFEST}: damaged in the archive")
    signature = infos.pop(SIGNATURE, None)
    if trusted is not None:
        _check_signature(archive, signature, raw, trusted, fail)
    manifest = _parse_manifest(raw, fail)
    expected: dict[str, str] = manifest["entries"]
    for name in expected:
        if name not in infos:
            raise fail(f"entry {name}: listed in the manifest but missing")
    for name in infos:
        if name not in expected:
            raise fail(f"entry {_shown(name)}: not listed in the manifest")
    contents: dict[str, bytes] = {}
    for name, info in infos.items():
        data = _read_entry(archive, info, fail)
        if data is None:
            raise fail(f"entry {name}: SHA-256 does not match the manifest (the entry is damaged)")
        if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), expected[name]):
            raise fail(f"entry {name}: SHA-256 does not match the manifest")
        contents[name] = data
    return manifest, contents


def _check_signature(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, manifest: bytes,
                     trusted: Ed25519PublicKey, fail) -> None:
    if info is None:
        raise fail(f"not signed (no {SIGNATURE}), but a trusted key was given; sign it with atoll build --sign")
    if info.file_size > MAX_SIGNATURE_BYTES:
        raise fail(f"{SIGNATURE}: {info.file_size} bytes, more than the {MAX_SIGNATURE_BYTES} accepted")
    raw = _read_entry(archive, info, fail)
    if raw is None:
        raise fail(f"entry {SIGNATURE}: damaged in the archive")
    record = _json(raw, SIGNATURE, fail)
    if not isinstance(record, dict):
        raise fail(f"{SIGNATURE}: must be a JSON object, not {record!r}")
    allowed = {"algorithm", "key", "signature"}
    for key in record:
        if key not in allowed:
            raise fail(f"{SIGNATURE}: {key}: unknown key; expected one of: {', '.join(sorted(allowed))}")
    for key in sorted(allowed):
        if key not in record:
            raise fail(f"{SIGNATURE}: {key}: missing")
    if record["algorithm"] != "ed25519":
        raise fail(f"{SIGNATURE}: algorithm: must be 'ed25519', not {record['algorithm']!r}")
    signer = record["key"]
    if not (isinstance(signer, str) and re.fullmatch(r"[0-9a-f]{64}", signer)):
        raise fail(f"{SIGNATURE}: key: must be a SHA-256 fingerprint in 64 lowercase hex digits, not {signer!r}")
    sig = record["signature"]
    if not (isinstance(sig, str) and re.fullmatch(r"[0-9a-f]{128}", sig)):
        raise fail(f"{SIGNATURE}: signature: must be 128 lowercase hex digits (64 bytes), not {sig!r}")
    expected = fingerprint(trusted)
    if not hmac.compare_digest(signer, expected):
        raise fail(f"signed by another key ({_short(signer)}), not the trusted key ({_short(expected)})")
    try:
        trusted.verify(bytes.fromhex(sig), manifest)
    except InvalidSignature:
        raise fail(f"{SIGNATURE}: signature does not match {MANIFEST} (changed after signing?)") from None


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, fail) -> bytes | None:
    """The entry's bytes, or None when the archive's own checks (CRC, inflating) fail."""
    if info.file_size > MAX_ENTRY_BYTES:
        raise fail(f"entry {info.filename}: {info.file_size} bytes, more than the {MAX_ENTRY_BYTES} accepted")
    try:
        return archive.read(info)
    except _DAMAGED:
        return None


def _json(raw: bytes, entry: str, fail):
    """The JSON value in an entry's bytes."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"{entry}: not valid JSON: {e}") from None
    except RecursionError:
        raise fail(f"{entry}: not valid JSON: arrays or objects nested too deeply") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise fail(f"{entry}: not valid JSON: a number with too many digits") from None


def _shown(name: str) -> str:
    """An entry name from the archive as a message shows it: quoted if it is not printable."""
    return name if name.isprintable() else repr(name)


def _parse_manifest(raw: bytes, fail) -> dict:
    manifest = _json(raw, MANIFEST, fail)
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


def _unpack_into(path: pathlib.Path, folder: pathlib.Path, trusted_key: TrustedKey | None) -> SystemSpec:
    manifest, contents = verify(path, trusted_key)
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
    used = ({comp.elf for comp in system.components} | {system.board.path}
            | {iface.path for iface in system.interfaces.values()}
            | ({system.policy.path} if system.policy is not None else set()))
    for name in sorted(contents):
        if name != DESCRIPTION and folder / name not in used:
            raise ImageError(f"{path.name}: entry {name}: not used by {DESCRIPTION}")
    if manifest["system"] != system.name:
        raise ImageError(f"{path.name}: {MANIFEST}: system: {manifest['system']!r}, but {DESCRIPTION} "
                         f"names {system.name!r}")
    return system


def open_image(path: str | pathlib.Path, trusted_key: TrustedKey | None = None) -> SystemSpec:
    """Verify and unpack a packed image; its files stay until the process exits.

    With `trusted_key`, only an image signed by that key opens."""
    holder = tempfile.TemporaryDirectory(prefix="atoll-image-")
    try:
        system = _unpack_into(pathlib.Path(path), pathlib.Path(holder.name), trusted_key)
    except BaseException:
        holder.cleanup()
        raise
    _unpacked_dirs.append(holder)
    return system


@contextlib.contextmanager
def unpacked(path: str | pathlib.Path, trusted_key: TrustedKey | None = None) -> Iterator[SystemSpec]:
    """Like `open_image`, with the unpacked files removed on leaving the `with`."""
    with tempfile.TemporaryDirectory(prefix="atoll-image-") as folder:
        yield _unpack_into(pathlib.Path(path), pathlib.Path(folder), trusted_key)


def load_any(path: str | pathlib.Path, trusted_key: TrustedKey | None = None) -> SystemSpec:
    """A description (a `.toml` file) or a packed image (anything else).

    With `trusted_key`, only a packed image signed by that key is accepted: a description
    cannot be signed, so it is refused."""
    path = pathlib.Path(path)
    if path.suffix == ".toml":
        if trusted_key is not None:
            _as_public_key(trusted_key)  # a bad key file is reported as such
            raise ImageError(f"{path.name}: a description cannot be signed; with a trusted key "
                             "only a signed packed image boots (atoll build --sign)")
        return load_system(path)
    return open_image(path, trusted_key)
