"""Signed images: an image packed with a private key opens only when its signature, over the
manifest, checks against the trusted public key; with a trusted key, an unsigned, re-signed,
tampered or malformed image is refused in one line naming the image file. Without a trusted
key, signed and unsigned images open alike.
"""

import hashlib
import json
import os
import pathlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sysdesc.description import ImageError
from sysdesc.package import (fingerprint, generate_keys, load_any, load_private_key, load_public_key, open_image,
                            pack, signature_entry, unpacked, verify)
from tests.sysdesc.test_image_files import write_system
from tests.sysdesc.test_packed_images import entries_of, rewrite, shape


@pytest.fixture
def description(tmp_path) -> pathlib.Path:
    return write_system(tmp_path / "src")


@pytest.fixture
def keys(tmp_path) -> tuple[pathlib.Path, pathlib.Path]:
    private, public, _ = generate_keys(tmp_path / "dev")
    return private, public


@pytest.fixture
def image(description, keys, tmp_path) -> pathlib.Path:
    path = tmp_path / "image.atoll"
    pack(description, path, signing_key=keys[0])
    return path


def refusal(path: pathlib.Path, key) -> str:
    with pytest.raises(ImageError) as excinfo:
        open_image(path, trusted_key=key)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def set_signature(image: pathlib.Path, data: bytes) -> None:
    rewrite(image, {**entries_of(image), "signature.ed25519": data})


def edit_signature(image: pathlib.Path, **changes) -> None:
    record = json.loads(entries_of(image)["signature.ed25519"])
    record.update(changes)
    set_signature(image, json.dumps(record).encode())


# -- keys ------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_readable_only_by_its_owner_and_a_public_key(tmp_path):
    private, public, fp = generate_keys(tmp_path / "dev")
    assert (private.name, public.name) == ("dev.key", "dev.pub")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert fingerprint(load_public_key(public)) == fingerprint(load_private_key(private)) == fp


def test_keygen_never_overwrites_a_key_file(tmp_path, keys):
    before = keys[0].read_bytes()
    with pytest.raises(ImageError) as excinfo:
        generate_keys(tmp_path / "dev")
    assert str(excinfo.value) == f"{tmp_path / 'dev.key'}: already exists; not overwriting a key file"
    assert keys[0].read_bytes() == before


def test_keygen_refuses_when_only_the_public_key_exists_and_writes_nothing(tmp_path):
    (tmp_path / "dev.pub").write_text("mine\n")
    with pytest.raises(ImageError, match="dev.pub: already exists"):
        generate_keys(tmp_path / "dev")
    assert not (tmp_path / "dev.key").exists() and (tmp_path / "dev.pub").read_text() == "mine\n"


def test_two_generated_keys_differ(tmp_path):
    assert generate_keys(tmp_path / "a")[2] != generate_keys(tmp_path / "b")[2]


@pytest.mark.parametrize("text,message", [
    (b"", "k.pub: not a PEM public key (make a key pair with atoll keygen)"),
    (b"hello\n", "k.pub: not a PEM public key (make a key pair with atoll keygen)"),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
     "k.pub: not a PEM public key (make a key pair with atoll keygen)"),
    (b"\xff\xfe\x00binary", "k.pub: not a PEM public key (make a key pair with atoll keygen)"),
])
def test_a_malformed_public_key_file_is_one_line(tmp_path, text, message):
    (tmp_path / "k.pub").write_bytes(text)
    with pytest.raises(ImageError) as excinfo:
        load_public_key(tmp_path / "k.pub")
    assert str(excinfo.value) == message


def test_a_private_key_given_as_the_trusted_key_is_refused_with_a_hint(keys):
    with pytest.raises(ImageError) as excinfo:
        load_public_key(keys[0])
    assert str(excinfo.value) == "dev.key: a private key; trust the public key (the .pub file) instead"


def test_a_public_key_given_as_the_signing_key_is_refused_with_a_hint(keys):
    with pytest.raises(ImageError) as excinfo:
        load_private_key(keys[1])
    assert str(excinfo.value) == "dev.pub: a public key; signing needs the private key (the .key file)"


def test_a_key_of_another_algorithm_is_refused(tmp_path):
    ec = generate_private_key(SECP256R1())
    (tmp_path / "ec.pub").write_bytes(ec.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "ec.key").write_bytes(ec.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ImageError, match=r"^ec\.pub: not an Ed25519 public key"):
        load_public_key(tmp_path / "ec.pub")
    with pytest.raises(ImageError, match=r"^ec\.key: not an Ed25519 private key"):
        load_private_key(tmp_path / "ec.key")


def test_an_encrypted_private_key_is_refused(tmp_path):
    key = Ed25519PrivateKey.generate()
    (tmp_path / "enc.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(ImageError) as excinfo:
        load_private_key(tmp_path / "enc.key")
    assert str(excinfo.value) == "enc.key: an encrypted private key; atoll needs an unencrypted one"


def test_a_missing_key_file_says_it_cannot_be_read(tmp_path, image):
    with pytest.raises(ImageError) as excinfo:
        open_image(image, trusted_key=tmp_path / "nobody.pub")
    assert str(excinfo.value) == f"{tmp_path / 'nobody.pub'}: cannot read: no such file"


def test_packing_with_a_bad_signing_key_writes_nothing(description, tmp_path):
    (tmp_path / "bad.key").write_text("nonsense\n")
    with pytest.raises(ImageError, match=r"^bad\.key: not a PEM private key"):
        pack(description, tmp_path / "image.atoll", signing_key=tmp_path / "bad.key")
    assert not (tmp_path / "image.atoll").exists()


# -- signing and verifying -------------------------------------------------------------------


def test_a_signed_image_opens_with_its_public_key_into_the_same_system(description, image, keys):
    assert shape(open_image(image, trusted_key=keys[1])) == shape(open_image(image))
    assert shape(load_any(image, trusted_key=load_public_key(keys[1]))) == shape(load_any(description))
    with unpacked(image, trusted_key=keys[1]) as system:
        assert system.name == "tiny"


def test_a_signed_image_holds_a_signature_over_the_exact_manifest_bytes(image, keys):
    entries = entries_of(image)
    record = json.loads(entries["signature.ed25519"])
    assert record["algorithm"] == "ed25519"
    assert record["key"] == fingerprint(load_public_key(keys[1]))
    load_public_key(keys[1]).verify(bytes.fromhex(record["signature"]), entries["manifest.json"])
    assert "signature.ed25519" not in json.loads(entries["manifest.json"])["entries"]


def test_verify_leaves_the_signature_out_of_the_entries(image, keys):
    manifest, contents = verify(image, trusted_key=keys[1])
    assert set(contents) == set(manifest["entries"])


def test_signing_the_same_description_twice_gives_the_same_bytes(description, keys, tmp_path):
    pack(description, tmp_path / "a.atoll", signing_key=keys[0])
    pack(description, tmp_path / "b.atoll", signing_key=load_private_key(keys[0]))
    assert (tmp_path / "a.atoll").read_bytes() == (tmp_path / "b.atoll").read_bytes()


def test_an_unsigned_image_still_opens_without_a_trusted_key(description, tmp_path):
    pack(description, tmp_path / "plain.atoll")
    assert open_image(tmp_path / "plain.atoll").name == "tiny"


def test_an_unsigned_image_is_refused_when_a_key_is_trusted(description, keys, tmp_path):
    pack(description, tmp_path / "plain.atoll")
    assert refusal(tmp_path / "plain.atoll", keys[1]) == (
        "plain.atoll: not signed (no signature.ed25519), but a trusted key was given; "
        "sign it with atoll build --sign")


def test_an_image_whose_signature_was_removed_is_refused(image, keys):
    entries = entries_of(image)
    del entries["signature.ed25519"]
    rewrite(image, entries)
    assert refusal(image, keys[1]).startswith("image.atoll: not signed")


def test_an_image_signed_by_another_key_is_refused_naming_both_fingerprints(image, tmp_path):
    _, other, other_fp = generate_keys(tmp_path / "other")
    signer = json.loads(entries_of(image)["signature.ed25519"])["key"]
    assert refusal(image, other) == (f"image.atoll: signed by another key (SHA256:{signer[:16]}), "
                                     f"not the trusted key (SHA256:{other_fp[:16]})")


def test_a_tampered_manifest_is_refused_by_the_signature_before_it_is_read(image, keys):
    entries = entries_of(image)
    entries["manifest.json"] = entries["manifest.json"].replace(b'"tiny"', b'"evil"')
    rewrite(image, entries)
    assert refusal(image, keys[1]) == (
        "image.atoll: signature.ed25519: signature does not match manifest.json (changed after signing?)")


def test_a_tampered_elf_with_a_matching_manifest_is_refused_by_the_signature(image, keys):
    entries = entries_of(image)
    manifest = json.loads(entries["manifest.json"])
    entries["elf/uart.elf"] = b"\x7fELF evil"
    manifest["entries"]["elf/uart.elf"] = hashlib.sha256(b"\x7fELF evil").hexdigest()
    entries["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    rewrite(image, entries)
    assert "signature does not match" in refusal(image, keys[1])


def test_a_tampered_elf_alone_is_refused_by_its_sha256(image, keys):
    entries = entries_of(image)
    entries["elf/uart.elf"] = entries["elf/uart.elf"] + b"\0"
    rewrite(image, entries)
    assert refusal(image, keys[1]) == "image.atoll: entry elf/uart.elf: SHA-256 does not match the manifest"


def test_an_image_resigned_by_an_attacker_is_refused_as_signed_by_another_key(image, keys):
    attacker = Ed25519PrivateKey.generate()
    set_signature(image, signature_entry(entries_of(image)["manifest.json"], attacker))
    assert refusal(image, keys[1]).startswith("image.atoll: signed by another key")


def test_a_signature_claiming_the_trusted_key_but_made_by_another_does_not_match(image, keys):
    attacker = Ed25519PrivateKey.generate()
    forged = json.loads(signature_entry(entries_of(image)["manifest.json"], attacker))
    edit_signature(image, signature=forged["signature"])
    assert "signature does not match manifest.json" in refusal(image, keys[1])


def test_a_description_is_refused_when_a_key_is_trusted(description, keys):
    with pytest.raises(ImageError) as excinfo:
        load_any(description, trusted_key=keys[1])
    assert str(excinfo.value) == ("tiny.toml: a description cannot be signed; with a trusted key "
                                  "only a signed packed image boots (atoll build --sign)")


@pytest.mark.parametrize("data,message", [
    (b"{sig", "signature.ed25519: not valid JSON: "),
    (b"[1, 2]", "signature.ed25519: must be a JSON object, not [1, 2]"),
    (b"\xff\xfe", "signature.ed25519: not valid JSON: "),
    (b'{"algorithm": "ed25519", "key": "' + b"0" * 64 + b'"}', "signature.ed25519: signature: missing"),
], ids=["not-json", "not-an-object", "not-utf8", "no-signature"])
def test_a_malformed_signature_entry_is_one_line(image, keys, data, message):
    set_signature(image, data)
    assert refusal(image, keys[1]).startswith(f"image.atoll: {message}")


@pytest.mark.parametrize("changes,message", [
    ({"algorithm": "rsa"}, "signature.ed25519: algorithm: must be 'ed25519', not 'rsa'"),
    ({"key": "abc"}, "signature.ed25519: key: must be a SHA-256 fingerprint in 64 lowercase hex digits, not 'abc'"),
    ({"signature": "00"}, "signature.ed25519: signature: must be 128 lowercase hex digits (64 bytes), not '00'"),
    ({"signature": 7}, "signature.ed25519: signature: must be 128 lowercase hex digits (64 bytes), not 7"),
    ({"comment": "hi"}, "signature.ed25519: comment: unknown key; expected one of: algorithm, key, signature"),
])
def test_a_signature_entry_with_a_bad_field_is_one_line(image, keys, changes, message):
    edit_signature(image, **changes)
    assert refusal(image, keys[1]) == f"image.atoll: {message}"


def test_an_oversized_signature_entry_is_refused(image, keys):
    set_signature(image, b" " * 5000)
    assert refusal(image, keys[1]) == "image.atoll: signature.ed25519: 5000 bytes, more than the 4096 accepted"


def test_a_malformed_signature_entry_is_ignored_without_a_trusted_key(image):
    set_signature(image, b"junk")
    assert open_image(image).name == "tiny"
