"""Valid inputs of every format Atoll reads, made from what the build produces and the repository holds.

The malformed corpus (make_corpus.py) and the fuzzer (test_input_fuzzer.py) both start from these:

- an ELF component: tests/kernel/guest_ld/tiny.c compiled by the project's toolchain and linked
  with good.ld, then stripped and laid out compactly (`compact_elf`) so that it is a few hundred
  bytes instead of the tens of KiB of alignment padding and debug sections the linker leaves;
- a system description on the shipped hifive1 board naming two such ELF files;
- a board file: the shipped hifive1.toml;
- a packed image of that description, unsigned and signed;
- Ed25519 key files, made from fixed seeds so that every run writes the same bytes.

No absolute path of the machine that builds these ends up in their bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import re
import struct
import tempfile
import warnings
import zipfile
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from atoll.toolchain import build
from machine.board import BOARDS_DIR
from sysdesc.package import FORMAT, MANIFEST, SIGNATURE, VERSION, signature_entry

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GUEST_LD = ROOT / "tests" / "kernel" / "guest_ld"

#: the board every sample runs on, and its ISA
BOARD = "hifive1"
ISA = "rv32imac"

# ELF32 layouts (little-endian): the file header, a program header, a section header.
EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
PHDR = struct.Struct("<IIIIIIII")
SHDR = struct.Struct("<IIIIIIIIII")
#: byte offsets of the header fields the corpus and the fuzzer change
E_IDENT_CLASS, E_IDENT_DATA = 4, 5
E_TYPE, E_MACHINE, E_ENTRY, E_PHOFF, E_SHOFF = 16, 18, 24, 28, 32
E_PHENTSIZE, E_PHNUM, E_SHENTSIZE, E_SHNUM, E_SHSTRNDX = 42, 44, 46, 48, 50
P_TYPE, P_OFFSET, P_VADDR, P_PADDR, P_FILESZ, P_MEMSZ, P_FLAGS, P_ALIGN = range(0, 32, 4)
SHF_ALLOC, SHT_NOBITS, SHT_STRTAB = 0x2, 8, 3
#: segment file offsets are kept congruent to their addresses modulo this
SEGMENT_ALIGN = 16


def build_elf(isa: str, folder: pathlib.Path) -> bytes:
    """tiny.c as the toolchain builds it for `isa` ("armv7m" or "rv32imac"): the full linker output."""
    return build([GUEST_LD / "tiny.c"], folder / isa / "tiny.elf", isa, GUEST_LD / "good.ld").read_bytes()


def compact_elf(raw: bytes) -> bytes:
    """`raw` without its non-allocated sections (debug information, symbols) and without the
    padding between segments: the ELF header, the program headers, each segment's bytes, the
    allocated sections' headers and a section name table. Loads exactly like `raw`."""
    header = list(EHDR.unpack_from(raw))
    phoff, shoff = header[5], header[6]
    phnum, shnum, shstrndx = header[10], header[12], header[13]
    phdrs = [list(PHDR.unpack_from(raw, phoff + i * PHDR.size)) for i in range(phnum)]
    shdrs = [list(SHDR.unpack_from(raw, shoff + i * SHDR.size)) for i in range(shnum)]
    names_at = shdrs[shstrndx][4]

    def name(sh: list[int]) -> bytes:
        start = names_at + sh[0]
        return raw[start:raw.index(b"\0", start)]

    out = bytearray(EHDR.size + PHDR.size * phnum)
    moved: list[tuple[int, int, int]] = []            # (old offset, size, new offset) of each segment
    for ph in phdrs:
        old, size = ph[1], ph[4]
        while len(out) % SEGMENT_ALIGN != ph[2] % SEGMENT_ALIGN:
            out.append(0)
        moved.append((old, size, len(out)))
        ph[1] = len(out)
        ph[7] = SEGMENT_ALIGN
        out += raw[old:old + size]

    def new_offset(old: int) -> int:
        for start, size, new in moved:
            if start <= old <= start + size:
                return new + old - start
        raise ValueError(f"section at {old:#x} lies in no segment")

    kept = [shdrs[0]] + [list(sh) for sh in shdrs[1:] if sh[2] & SHF_ALLOC]
    names = bytearray(b"\0")
    for sh in kept[1:]:
        label = name(sh)
        sh[0] = len(names)
        names += label + b"\0"
        sh[4] = new_offset(sh[4]) if sh[1] != SHT_NOBITS else len(out)
    strtab = [len(names), SHT_STRTAB, 0, 0, 0, 0, 0, 0, 1, 0]
    names += b".shstrtab\0"
    strtab[4] = len(out)
    strtab[5] = len(names)                              # every name, its own too
    out += names
    kept.append(strtab)
    while len(out) % 4:
        out.append(0)
    header[5], header[6] = EHDR.size, len(out)
    header[12], header[13] = len(kept), len(kept) - 1
    for sh in kept:
        out += SHDR.pack(*sh)
    EHDR.pack_into(out, 0, *header)
    for i, ph in enumerate(phdrs):
        PHDR.pack_into(out, EHDR.size + i * PHDR.size, *ph)
    return bytes(out)


def component_elf(isa: str = ISA) -> bytes:
    """A valid component ELF for `isa`, freshly built and compacted."""
    with tempfile.TemporaryDirectory(prefix="atoll-sample-") as folder:
        return compact_elf(build_elf(isa, pathlib.Path(folder)))


# -- descriptions, boards, images ----------------------------------------------------------------

#: the components of DESCRIPTION, each an ELF entry elf/<name>.elf
COMPONENTS = ("supervisor", "app")

DESCRIPTION = """\
[system]
name = "seed"
board = "hifive1"

[[component]]
name = "supervisor"
elf = "elf/supervisor.elf"
priority = 0
stack = 1024

[[component]]
name = "app"
elf = "elf/app.elf"
priority = 2
stack = 2048
uses = ["uart0", "gpio0"]
interrupts = { "uart0.irq" = 0, "gpio0.pin3" = 1 }
supervisor = "supervisor"

[[endpoint]]
name = "faults"
server = "supervisor"
server_slot = 1
clients = { app = 2 }

[[notification]]
from = "supervisor"
to = "app"
slot = 3
bits = 0x4
"""


#: a policy for the sample system (its components: supervisor, app; no interface files)
POLICY = """\
[policy]
mode = "enforce"
audit = "denied"

[[rule]]
name = "the app may talk to its supervisor"
action = "allow"
from = "app"
to = "supervisor"
methods = ["*"]
"""

#: the components the sample policy is checked against
POLICY_COMPONENTS = ["supervisor", "app"]


def interface_text() -> str:
    """A shipped interface file: the uart server's."""
    return (ROOT / "servers" / "uart" / "uart.idl.toml").read_text()


def board_text() -> str:
    """The shipped board the samples run on, as the repository holds it."""
    return (BOARDS_DIR / f"{BOARD}.toml").read_text()


def write_system(folder: pathlib.Path, elf: bytes, text: str = DESCRIPTION, name: str = "system.toml") -> pathlib.Path:
    """`text` as `folder/name`, with elf/<component>.elf beside it; returns the description's path."""
    (folder / "elf").mkdir(parents=True, exist_ok=True)
    for component in COMPONENTS:
        (folder / "elf" / f"{component}.elf").write_bytes(elf)
    path = folder / name
    path.write_text(text)
    return path


def key_from_seed(label: str) -> Ed25519PrivateKey:
    """An Ed25519 key that is the same on every run: its seed is the SHA-256 of `label`."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"atoll malformed corpus: {label}".encode()).digest())


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


#: the key the signed samples are signed with, and another one
SIGNER = "trusted"
OTHER = "other"


EPOCH = (1980, 1, 1, 0, 0, 0)


def entries(raw: bytes) -> dict[str, bytes]:
    """The entries of a zip archive, in order."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def archive(items: dict[str, bytes] | list[tuple[str, bytes]], stored: set[str] = frozenset()) -> bytes:
    """A zip of `items` as `atoll build` writes one (deflated, fixed timestamps, mode 0644); the
    names in `stored` uncompressed. A list may name an entry twice."""
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as z:
        warnings.simplefilter("ignore")  # a name stored twice, on purpose
        for name, data in (items.items() if isinstance(items, dict) else items):
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()


def manifest_bytes(manifest: dict) -> bytes:
    """manifest.json as `atoll build` writes it."""
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def packed_image(elf: bytes, signer: Ed25519PrivateKey | None = None, text: str = DESCRIPTION) -> bytes:
    """The packed image of description `text` with `elf` for every component, signed by `signer`
    if given: the layout `atoll build` writes, with `text` itself as system.toml (its ELF paths
    already name the entries), so that the samples do not change when the packer's rewriting of
    descriptions does (test_malformed_inputs.py checks the two agree otherwise)."""
    files = {f"elf/{name}.elf": elf for name in COMPONENTS}
    files["system.toml"] = text.encode()
    name = re.search(r'^name = "([^"]*)"', text, re.M).group(1)
    manifest = manifest_bytes({"format": FORMAT, "version": VERSION, "system": name,
                               "entries": {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}})
    items = {MANIFEST: manifest, **dict(sorted(files.items()))}
    if signer is not None:
        items[SIGNATURE] = signature_entry(manifest, signer)
    return archive(items)


@dataclass(frozen=True)
class Seeds:
    """The valid samples the corpus recipes and the fuzzer start from."""

    elf: bytes              # rv32imac, the ISA of the hifive1 board
    arm_elf: bytes          # the same program for armv7m
    description: str
    board: str
    image: bytes
    signed: bytes           # the image signed by key_from_seed(SIGNER)


def make_seeds() -> Seeds:
    """Every valid sample, the ELF files freshly built."""
    elf = component_elf("rv32imac")
    return Seeds(elf, component_elf("armv7m"), DESCRIPTION, board_text(), packed_image(elf),
                 packed_image(elf, key_from_seed(SIGNER)))
