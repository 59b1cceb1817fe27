"""Writes the malformed-input corpus: tests/malformed/<format>/<case><suffix>.

Run from anywhere, after changing a recipe below (the suite checks that the committed corpus
is what this script writes):

    python tests/malformed/make_corpus.py

Every file is one valid sample (samples.py: the real ELF the toolchain builds, the shipped
hifive1 board, a description, its packed and signed images, Ed25519 keys from fixed seeds)
truncated or corrupted in one way, named after the way. Each file is a few KiB at most.
The expected error of each file is in test_malformed_inputs.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
import struct
import sys
from typing import Callable

if __name__ == "__main__":  # run as a script: the repository root is importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, x25519  # noqa: E402

from tests.malformed.samples import (  # noqa: E402
    E_ENTRY,
    E_IDENT_CLASS,
    E_IDENT_DATA,
    E_MACHINE,
    E_PHENTSIZE,
    E_PHNUM,
    E_PHOFF,
    E_SHOFF,
    E_SHSTRNDX,
    E_TYPE,
    EHDR,
    HERE,
    OTHER,
    P_FILESZ,
    P_FLAGS,
    P_MEMSZ,
    P_OFFSET,
    P_TYPE,
    P_VADDR,
    PHDR,
    POLICY,
    SIGNER,
    Seeds,
    archive,
    entries,
    interface_text,
    key_from_seed,
    make_seeds,
    manifest_bytes,
    packed_image,
    private_pem,
    public_pem,
)


Recipe = Callable[[Seeds], bytes]


# -- ELF ------------------------------------------------------------------------------------------


def put(raw: bytes, offset: int, size: int, value: int) -> bytes:
    """`raw` with the little-endian field of `size` bytes at `offset` set to `value`."""
    out = bytearray(raw)
    out[offset:offset + size] = value.to_bytes(size, "little")
    return bytes(out)


def phdr(raw: bytes, index: int, field: int) -> int:
    """The offset of a field of program header `index`."""
    return EHDR.unpack_from(raw)[5] + index * PHDR.size + field


def segment_offset(raw: bytes, index: int) -> int:
    return struct.unpack_from("<I", raw, phdr(raw, index, P_OFFSET))[0]


def section_headers_offset(raw: bytes) -> int:
    return struct.unpack_from("<I", raw, E_SHOFF)[0]


ELF: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "bad_magic": lambda s: b"\x7fELG" + s.elf[4:],
    "truncated_in_header": lambda s: s.elf[:40],
    "truncated_after_header": lambda s: s.elf[:EHDR.size],
    "truncated_in_program_headers": lambda s: s.elf[:EHDR.size + PHDR.size + 12],
    "truncated_in_code_segment": lambda s: s.elf[:segment_offset(s.elf, 0) + 10],
    "class_64_bit": lambda s: put(s.elf, E_IDENT_CLASS, 1, 2),
    "class_invalid": lambda s: put(s.elf, E_IDENT_CLASS, 1, 9),
    "big_endian": lambda s: put(s.elf, E_IDENT_DATA, 1, 2),
    "machine_x86": lambda s: put(s.elf, E_MACHINE, 2, 3),
    "machine_unknown": lambda s: put(s.elf, E_MACHINE, 2, 0xBEEF),
    "other_isa": lambda s: s.arm_elf,
    "type_relocatable": lambda s: put(s.elf, E_TYPE, 2, 1),
    "phoff_past_end": lambda s: put(s.elf, E_PHOFF, 4, 0x10000),
    "phnum_huge": lambda s: put(s.elf, E_PHNUM, 2, 0xFFF0),
    "phentsize_too_small": lambda s: put(s.elf, E_PHENTSIZE, 2, 8),
    "segment_offset_past_end": lambda s: put(s.elf, phdr(s.elf, 0, P_OFFSET), 4, 0x10000),
    "segment_filesz_past_end": lambda s: put(s.elf, phdr(s.elf, 0, P_FILESZ), 4, 0x10000),
    "segment_memsz_wraps_address_space": lambda s: put(s.elf, phdr(s.elf, 0, P_MEMSZ), 4, 0xFFFFFFFF),
    "segment_file_bytes_exceed_memory": lambda s: put(s.elf, phdr(s.elf, 1, P_MEMSZ), 4, 4),
    "segment_outside_component_range": lambda s: put(s.elf, phdr(s.elf, 0, P_VADDR), 4, 0x0100_0000),
    "segment_writable_and_executable": lambda s: put(s.elf, phdr(s.elf, 0, P_FLAGS), 4, 7),
    "segments_overlap": lambda s: put(s.elf, phdr(s.elf, 1, P_VADDR), 4, 0x10010),
    "segments_share_a_page": lambda s: put(s.elf, phdr(s.elf, 1, P_VADDR), 4, 0x10100),
    "no_loadable_segments": lambda s: put(put(s.elf, phdr(s.elf, 0, P_TYPE), 4, 0), phdr(s.elf, 1, P_TYPE), 4, 0),
    "entry_outside_code": lambda s: put(s.elf, E_ENTRY, 4, 0x11000),
    # loading reads only the program headers: these load, but their section tables are damaged
    "sections_past_end": lambda s: put(s.elf, E_SHOFF, 4, 0x10000),
    "sections_truncated": lambda s: s.elf[:section_headers_offset(s.elf) + 20],
    "section_names_index_out_of_range": lambda s: put(s.elf, E_SHSTRNDX, 2, 99),
}


# -- TOML: descriptions and boards ------------------------------------------------------------------


def replace(text: str, old: str, new: str, *more: str) -> bytes:
    """`text` with its one `old` replaced by `new`, and so on for each further pair in `more`
    (a recipe that no longer matches its sample fails loudly)."""
    pairs = [(old, new), *zip(more[::2], more[1::2])]
    for old, new in pairs:
        if text.count(old) != 1:
            raise ValueError(f"recipe: {old!r} occurs {text.count(old)} times")
        text = text.replace(old, new)
    return text.encode()


def before(text: str, marker: str) -> str:
    """`text` up to its first `marker`."""
    return text[:text.index(marker)]


def cut_after(text: str, marker: str, extra: int = 0) -> bytes:
    """`text` up to the end of its one `marker`, plus `extra` characters."""
    if text.count(marker) != 1:
        raise ValueError(f"recipe: {marker!r} occurs {text.count(marker)} times")
    return text[:text.index(marker) + len(marker) + extra].encode()


#: a file that is not text at all: the start of a PNG image
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
NESTING = 1500

DESCRIPTIONS: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "binary_garbage": lambda s: BINARY,
    "packed_image_named_toml": lambda s: s.image,
    "nul_byte": lambda s: replace(s.description, 'name = "app"', 'name = "a\0pp"'),
    "byte_order_mark": lambda s: "\ufeff".encode() + s.description.encode(),
    "truncated_in_string": lambda s: cut_after(s.description, 'elf = "elf/ap'),
    "truncated_in_table_header": lambda s: cut_after(s.description, "[[endpoint]]", -4),
    "truncated_after_component_name": lambda s: cut_after(s.description, 'name = "app"\n'),
    "duplicate_key": lambda s: replace(s.description, "priority = 2\n", "priority = 2\npriority = 3\n"),
    "system_name_a_date": lambda s: replace(s.description, 'name = "seed"', "name = 1979-05-27"),
    "priority_a_string": lambda s: replace(s.description, "priority = 2", 'priority = "2"'),
    "priority_too_large_for_toml": lambda s: replace(s.description, "priority = 2", "priority = 9223372036854775808"),
    "priority_with_too_many_digits": lambda s: replace(s.description, "priority = 2", "priority = " + "9" * 4400),
    "elf_path_too_long": lambda s: replace(s.description, 'elf = "elf/app.elf"', f'elf = "{"a" * 300}.elf"'),
    "board_name_too_long": lambda s: replace(s.description, 'board = "hifive1"', f'board = "{"b" * 300}"'),
    "board_path_too_long": lambda s: replace(s.description, 'board = "hifive1"', f'board = "{"b" * 300}.toml"'),
    "uses_a_number": lambda s: replace(s.description, 'uses = ["uart0", "gpio0"]', "uses = 7"),
    "uses_address_negative": lambda s: replace(s.description, 'uses = ["uart0", "gpio0"]',
                                               "uses = { uart0 = -4096, gpio0 = 0x5000_1000 }"),
    "interrupts_an_array": lambda s: replace(s.description, 'interrupts = { "uart0.irq" = 0, "gpio0.pin3" = 1 }',
                                             'interrupts = ["uart0.irq"]'),
    "bits_wider_than_toml": lambda s: replace(s.description, "bits = 0x4", "bits = 0x1_0000_0000_0000_0000"),
    "nested_too_deeply": lambda s: s.description.encode() + b"\n[extra]\nkey = " + b"[" * NESTING + b"]" * NESTING,
}

BOARDS: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "binary_garbage": lambda s: BINARY,
    "invalid_toml": lambda s: replace(s.board, "params = { timebase_hz = 32768 }", "params = { timebase_hz = 32768"),
    "truncated_in_value": lambda s: cut_after(s.board, "frequency_hz = 16_"),
    "truncated_after_cpu": lambda s: before(s.board, "[[region]]").encode(),
    "frequency_a_string": lambda s: replace(s.board, "frequency_hz = 16_000_000", 'frequency_hz = "16 MHz"'),
    "frequency_too_large_for_toml": lambda s: replace(s.board, "frequency_hz = 16_000_000",
                                                      "frequency_hz = 18_446_744_073_709_551_616"),
    "frequency_with_too_many_digits": lambda s: replace(s.board, "frequency_hz = 16_000_000",
                                                        "frequency_hz = " + "1" * 4400),
    "region_base_a_float": lambda s: replace(s.board, "base = 0x8000_0000", "base = 2.147483648e9"),
    "region_size_negative": lambda s: replace(s.board, "size = 0x0010_0000", "size = -1_048_576"),
    "access_an_array": lambda s: replace(s.board, 'access = "rwx"', 'access = ["r", "w", "x"]'),
    "irq_a_string": lambda s: replace(s.board, "irq = 3", 'irq = "3"'),
    "params_a_string": lambda s: replace(s.board, "num_sources = 52", 'num_sources = "52"'),
    "nested_too_deeply": lambda s: replace(s.board, "irq = 4", "irq = " + "[" * NESTING + "]" * NESTING),
}


# -- packed images ----------------------------------------------------------------------------------

def with_manifest(raw: bytes, change: Callable[[dict], None]) -> bytes:
    """The image with its manifest changed by `change` (and not re-signed)."""
    items = entries(raw)
    manifest = json.loads(items["manifest.json"])
    change(manifest)
    items["manifest.json"] = manifest_bytes(manifest)
    return archive(items)


def with_entry(raw: bytes, name: str, data: bytes, rehash: bool = True) -> bytes:
    """The image with entry `name` set to `data`, listed in the manifest with its SHA-256 if `rehash`."""
    items = entries(raw)
    items[name] = data
    if rehash:
        manifest = json.loads(items["manifest.json"])
        manifest["entries"][name] = hashlib.sha256(data).hexdigest()
        items["manifest.json"] = manifest_bytes(manifest)
    return archive(items)


def without(raw: bytes, name: str) -> bytes:
    items = entries(raw)
    del items[name]
    return archive(items)


def central_record(raw: bytes, name: str) -> int:
    """The offset of the central directory record of entry `name`."""
    at = raw.index(b"PK\x01\x02")
    while raw[at:at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", raw, at + 28)
        if raw[at + 46:at + 46 + name_len] == name.encode():
            return at
        at += 46 + name_len + extra_len + comment_len
    raise ValueError(f"recipe: no entry {name}")


def local_data(raw: bytes, name: str) -> int:
    """The offset of entry `name`'s (compressed) data."""
    header = struct.unpack_from("<I", raw, central_record(raw, name) + 42)[0]
    name_len, extra_len = struct.unpack_from("<HH", raw, header + 26)
    return header + 30 + name_len + extra_len


def flip(raw: bytes, offset: int, mask: int = 0x01) -> bytes:
    out = bytearray(raw)
    out[offset] ^= mask
    return bytes(out)


def end_record(raw: bytes) -> int:
    return raw.rindex(b"PK\x05\x06")


def set_central_flag(raw: bytes, name: str, bit: int) -> bytes:
    at = central_record(raw, name) + 8
    flags = struct.unpack_from("<H", raw, at)[0]
    return put(raw, at, 2, flags | bit)


def name_not_utf8(raw: bytes) -> bytes:
    """The central directory names system.toml in bytes that are not UTF-8, with the UTF-8 flag set."""
    at = central_record(raw, "system.toml")
    out = bytearray(set_central_flag(raw, "system.toml", 0x800))
    out[at + 46] = 0xFF
    return bytes(out)


def compression_method(raw: bytes, name: str, method: int) -> bytes:
    at = central_record(raw, name)
    header = struct.unpack_from("<I", raw, at + 42)[0]
    return put(put(raw, at + 10, 2, method), header + 8, 2, method)


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


IMAGES: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "not_a_zip": lambda s: s.description.encode(),
    "truncated_in_first_entry": lambda s: s.image[:200],
    "truncated_before_central_directory": lambda s: s.image[:s.image.index(b"PK\x01\x02")],
    "truncated_in_end_record": lambda s: s.image[:-10],
    "end_record_offset_too_large": lambda s: put(s.image, end_record(s.image) + 16, 4,
                                                 struct.unpack_from("<I", s.image, end_record(s.image) + 16)[0] + 64),
    "zip_version_unsupported": lambda s: put(s.image, central_record(s.image, "elf/app.elf") + 6, 2, 0xFF),
    "entry_name_not_utf8": lambda s: name_not_utf8(s.image),
    "flipped_byte_in_compressed_entry": lambda s: flip(s.image, local_data(s.image, "elf/app.elf") + 5, 0x40),
    "encrypted_entry": lambda s: set_central_flag(s.image, "elf/app.elf", 0x1),
    "compression_method_unknown": lambda s: compression_method(s.image, "elf/app.elf", 99),
    "declared_size_huge": lambda s: put(s.image, central_record(s.image, "elf/app.elf") + 24, 4, 0xFFFFFFF0),
    "entry_hash_mismatch": lambda s: with_entry(s.image, "elf/app.elf", flip(entries(s.image)["elf/app.elf"], 100),
                                                rehash=False),
    "entry_missing": lambda s: without(s.image, "elf/app.elf"),
    "entry_extra": lambda s: with_entry(s.image, "notes.txt", b"hello\n", rehash=False),
    "entry_name_with_newline": lambda s: with_entry(s.image, "elf/app\n.elf", b"x", rehash=False),
    "entry_stored_twice": lambda s: archive([*entries(s.image).items(),
                                             ("elf/app.elf", entries(s.image)["elf/app.elf"])]),
    "manifest_missing": lambda s: without(s.image, "manifest.json"),
    "manifest_garbage": lambda s: with_entry(s.image, "manifest.json", BINARY, rehash=False),
    "manifest_not_json": lambda s: with_entry(s.image, "manifest.json", b"{format: atoll-image}\n", rehash=False),
    "manifest_not_an_object": lambda s: with_entry(s.image, "manifest.json", b"[]\n", rehash=False),
    "manifest_nested_too_deeply": lambda s: with_entry(s.image, "manifest.json", nested_json(3000), rehash=False),
    "manifest_number_with_too_many_digits": lambda s: with_entry(
        s.image, "manifest.json",
        replace(entries(s.image)["manifest.json"].decode(), '"version": 1', '"version": ' + "1" * 4400), rehash=False),
    "manifest_version_a_string": lambda s: with_manifest(s.image, lambda m: m.update(version="1")),
    "manifest_entries_an_array": lambda s: with_manifest(s.image, lambda m: m.update(entries=list(m["entries"]))),
    "manifest_entry_name_escapes": lambda s: with_manifest(s.image, lambda m: m["entries"].update(
        {"../escape.elf": m["entries"].pop("elf/app.elf")})),
    "manifest_digest_uppercase": lambda s: with_manifest(s.image, lambda m: m["entries"].update(
        {"elf/app.elf": m["entries"]["elf/app.elf"].upper()})),
    "description_invalid_toml": lambda s: with_entry(s.image, "system.toml", b"[system\n"),
}


# -- signed images ----------------------------------------------------------------------------------


def with_signature(raw: bytes, data: bytes, stored: bool = False) -> bytes:
    items = entries(raw)
    items["signature.ed25519"] = data
    return archive(items, {"signature.ed25519"} if stored else set())


def edit_signature(raw: bytes, change: Callable[[dict], None]) -> bytes:
    record = json.loads(entries(raw)["signature.ed25519"])
    change(record)
    return with_signature(raw, json.dumps(record, indent=2, sort_keys=True).encode() + b"\n")


def flip_signature_digit(record: dict) -> None:
    sig = record["signature"]
    record["signature"] = sig[:10] + ("0" if sig[10] != "0" else "1") + sig[11:]


def other_image_signature(s: Seeds) -> bytes:
    """A signature by the trusted key, but over the manifest of another image."""
    other = packed_image(s.elf, key_from_seed(SIGNER), s.description.replace('name = "seed"', 'name = "other"'))
    return entries(other)["signature.ed25519"]


def signature_damaged(s: Seeds) -> bytes:
    raw = with_signature(s.signed, entries(s.signed)["signature.ed25519"], stored=True)
    return flip(raw, local_data(raw, "signature.ed25519") + 20)


SIGNED: dict[str, Recipe] = {
    "unsigned": lambda s: s.image,
    "signed_by_another_key": lambda s: packed_image(s.elf, key_from_seed(OTHER)),
    "signature_byte_flipped": lambda s: edit_signature(s.signed, flip_signature_digit),
    "signature_of_another_manifest": lambda s: with_signature(s.signed, other_image_signature(s)),
    "signature_truncated": lambda s: edit_signature(s.signed, lambda r: r.update(signature=r["signature"][:64])),
    "signature_not_json": lambda s: with_signature(s.signed, b"ed25519:" + b"00" * 64),
    "signature_not_utf8": lambda s: with_signature(s.signed, BINARY),
    "signature_not_an_object": lambda s: with_signature(s.signed, b'["ed25519"]\n'),
    "signature_nested_too_deeply": lambda s: with_signature(s.signed, nested_json(1500)),
    "signature_key_not_hex": lambda s: edit_signature(s.signed, lambda r: r.update(key="SHA256:" + r["key"][:16])),
    "signature_too_large": lambda s: with_signature(s.signed, entries(s.signed)["signature.ed25519"] + b" " * 5000),
    "signature_damaged_in_archive": signature_damaged,
    "signature_stored_twice": lambda s: archive([*entries(s.signed).items(),
                                                 ("signature.ed25519", entries(s.signed)["signature.ed25519"])]),
    "manifest_changed_after_signing": lambda s: with_entry(
        s.signed, "manifest.json", entries(s.signed)["manifest.json"] + b"\n", rehash=False),
    "entry_changed_after_signing": lambda s: with_entry(s.signed, "elf/app.elf",
                                                        flip(entries(s.signed)["elf/app.elf"], 100), rehash=False),
    "truncated": lambda s: s.signed[:len(s.signed) // 2],
}


# -- key files ----------------------------------------------------------------------------------------


def pem_body_changed(pem: bytes) -> bytes:
    lines = pem.split(b"\n")
    lines[1] = lines[1][:10] + b"!!!!" + lines[1][14:]
    return b"\n".join(lines)


def with_key_oid(pem: bytes, last: int) -> bytes:
    """`pem` (an Ed25519 key) with the last arc of its algorithm's OID 1.3.101.112 set to `last`
    (113: Ed448, whose keys are longer than the 32 bytes that follow)."""
    label = pem.split(b"\n", 1)[0][len(b"-----BEGIN "):-len(b"-----")]
    der = bytearray(base64.b64decode(b"".join(pem.split(b"\n")[1:-2])))
    der[der.index(bytes.fromhex("2b6570")) + 2] = last
    return b"-----BEGIN " + label + b"-----\n" + base64.encodebytes(bytes(der)) + b"-----END " + label + b"-----\n"


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(hashlib.sha256(b"atoll malformed corpus: ec").digest(), "big"),
                                 ec.SECP256R1())


def x25519_public() -> bytes:
    key = x25519.X25519PrivateKey.from_private_bytes(hashlib.sha256(b"atoll malformed corpus: x25519").digest())
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def ed25519_public_der() -> bytes:
    return key_from_seed(SIGNER).public_key().public_bytes(serialization.Encoding.DER,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)


def openssh_public() -> bytes:
    return key_from_seed(SIGNER).public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                           serialization.PublicFormat.OpenSSH) + b" dev@host\n"


#: a PEM block that says it holds a private key, with a body that is none
PRIVATE_LOOKALIKE = b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"
#: an encrypted key in OpenSSL's traditional format: the headers say so, the body is not read
ENCRYPTED = (b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
             b"DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n")

PUBLIC_KEYS: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "binary_garbage": lambda s: BINARY,
    "truncated_pem": lambda s: public_pem(key_from_seed(SIGNER))[:50],
    "body_not_base64": lambda s: pem_body_changed(public_pem(key_from_seed(SIGNER))),
    "der_not_pem": lambda s: ed25519_public_der(),
    "openssh_format": lambda s: openssh_public(),
    "private_key": lambda s: PRIVATE_LOOKALIKE,
    "ec_p256": lambda s: ec_key().public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo),
    "x25519": lambda s: x25519_public(),
    "ed448_oid_on_an_ed25519_key": lambda s: with_key_oid(public_pem(key_from_seed(OTHER)), 0x71),
}

PRIVATE_KEYS: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "binary_garbage": lambda s: BINARY,
    "truncated_pem": lambda s: private_pem(key_from_seed(OTHER))[:50],   # the fixed PKCS#8 prefix only
    "body_not_base64": lambda s: pem_body_changed(PRIVATE_LOOKALIKE),
    "public_key": lambda s: public_pem(key_from_seed(SIGNER)),
    "encrypted": lambda s: ENCRYPTED,
    "ed448_oid_on_an_ed25519_key": lambda s: with_key_oid(private_pem(key_from_seed(OTHER)), 0x71),
    "ec_p256": lambda s: ec_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()),
}

POLICIES: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "binary_garbage": lambda s: BINARY,
    "not_utf8": lambda s: POLICY.encode().replace(b"the app may", b"the app\xff may"),
    "truncated_in_rule": lambda s: cut_after(POLICY, 'action = "al'),
    "truncated_after_a_key": lambda s: cut_after(POLICY, "from = "),
    "mode_unknown": lambda s: replace(POLICY, 'mode = "enforce"', 'mode = "learn"'),
    "audit_unknown": lambda s: replace(POLICY, 'audit = "denied"', 'audit = "some"'),
    "action_unknown": lambda s: replace(POLICY, 'action = "allow"', 'action = "permit"'),
    "component_unknown": lambda s: replace(POLICY, 'from = "app"', 'from = "bulb"'),
    "interface_unknown": lambda s: replace(POLICY, 'methods = ["*"]', 'methods = ["uart.write"]'),
    "methods_not_a_pattern": lambda s: replace(POLICY, 'methods = ["*"]', 'methods = ["uart"]'),
    "from_a_number": lambda s: replace(POLICY, 'from = "app"', "from = 7"),
    "rule_a_table": lambda s: replace(POLICY, "[[rule]]", "[rule]"),
    "unknown_key": lambda s: replace(POLICY, 'action = "allow"', 'action = "allow"\npriority = 1'),
    "nested_arrays": lambda s: replace(POLICY, 'methods = ["*"]', "methods = " + "[" * NESTING + "]" * NESTING),
}

INTERFACES: dict[str, Recipe] = {
    "empty": lambda s: b"",
    "binary_garbage": lambda s: BINARY,
    "truncated_in_method": lambda s: cut_after(interface_text(), 'name = "rea'),
    "truncated_before_methods": lambda s: before(interface_text(), "[[method]]").encode(),
    "id_zero": lambda s: replace(interface_text(), "id = 1\n", "id = 0\n"),
    "id_past_16_bits": lambda s: replace(interface_text(), "id = 1\n", "id = 65536\n"),
    "method_number_twice": lambda s: replace(interface_text(), "number = 2\n", "number = 1\n"),
    "reply_too_many": lambda s: replace(interface_text(), "reply = 4\n", "reply = 5\n"),
    "lease_rights_unknown": lambda s: replace(interface_text(), '[{ rights = "write", max = 65536 }]',
                                              '[{ rights = "execute", max = 65536 }]'),
    "lease_too_large": lambda s: replace(interface_text(), '[{ rights = "read", max = 65536 }]',
                                         '[{ rights = "read", max = 65537 }]'),
    "name_not_an_identifier": lambda s: replace(interface_text(), 'name = "uart"', 'name = "u-art"'),
    "doc_ends_the_c_comment": lambda s: replace(interface_text(), '-> status, mr0 rx bytes', '*/ status'),
}

#: folder -> (file suffix, recipes)
CORPUS: dict[str, tuple[str, dict[str, Recipe]]] = {
    "elf": (".elf", ELF),
    "description": (".toml", DESCRIPTIONS),
    "board": (".toml", BOARDS),
    "policy": (".toml", POLICIES),
    "interface": (".toml", INTERFACES),
    "image": (".atoll", IMAGES),
    "signed": (".atoll", SIGNED),
    "public_key": (".pub", PUBLIC_KEYS),
    "private_key": (".key", PRIVATE_KEYS),
}

#: the largest corpus file allowed
MAX_FILE_BYTES = 8 * 1024


def generate(seeds: Seeds) -> dict[str, bytes]:
    """Every corpus file, by its path relative to tests/malformed."""
    files = {}
    for folder, (suffix, recipes) in CORPUS.items():
        for name, recipe in recipes.items():
            data = recipe(seeds)
            if len(data) > MAX_FILE_BYTES:
                raise ValueError(f"{folder}/{name}{suffix}: {len(data)} bytes; keep corpus files small")
            files[f"{folder}/{name}{suffix}"] = data
    return files


def write_corpus(root: pathlib.Path = HERE) -> dict[str, bytes]:
    """Write every corpus file under `root`, removing corpus files no recipe makes any more."""
    files = generate(make_seeds())
    for folder, (suffix, _) in CORPUS.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for old in (root / folder).glob(f"*{suffix}"):
            if f"{folder}/{old.name}" not in files:
                old.unlink()
    for relative, data in files.items():
        (root / relative).write_bytes(data)
    return files


if __name__ == "__main__":
    print(f"wrote {len(write_corpus())} corpus files")
