"""`atoll keygen`, `atoll build --sign` and `atoll boot --trust`, run as a user runs them (a real
subprocess): a signed demo image boots with its public key; an unsigned, tampered or foreign image,
or a bad key file, is one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile

import pytest

from firmware import components
from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
DEMO = ROOT / "firmware" / "images" / "demo-hifive1.toml"


@pytest.fixture(scope="module")
def built():
    return components.build_all(ROOT / "build" / "components")


def atoll(*args, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atoll.cli", *map(str, args)], capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=ENV, cwd=cwd)


def refused(result: subprocess.CompletedProcess) -> str:
    """The one line of a refusal (exit status 2, nothing on stdout), without its newline."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr[:-1]


@pytest.fixture
def signed(built, tmp_path):
    """A demo image signed with a fresh key pair dev.key/dev.pub, all in tmp_path."""
    assert atoll("keygen", "dev", cwd=tmp_path).returncode == 0
    result = atoll("build", DEMO, "-o", "demo.atoll", "--sign", "dev.key", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "demo.atoll"


# -- keygen ----------------------------------------------------------------------------------


def test_keygen_writes_a_key_pair_and_prints_one_line(tmp_path):
    result = atoll("keygen", "dev", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote dev.key (private: keep it secret) and dev.pub (public; SHA256:")
    assert result.stdout.count("\n") == 1 and result.stderr == ""
    assert stat.S_IMODE((tmp_path / "dev.key").stat().st_mode) == 0o600
    assert (tmp_path / "dev.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_keygen_refuses_to_overwrite_an_existing_key(tmp_path):
    atoll("keygen", "dev", cwd=tmp_path)
    before = (tmp_path / "dev.key").read_bytes()

    assert refused(atoll("keygen", "dev", cwd=tmp_path)) == "atoll: dev.key: already exists; not overwriting a key file"
    assert (tmp_path / "dev.key").read_bytes() == before


def test_keygen_with_a_suffix_in_the_name_explains_the_name(tmp_path):
    assert refused(atoll("keygen", "dev.key", cwd=tmp_path)) == (
        "atoll: keygen: give the name without .key or .pub (atoll keygen dev writes dev.key and dev.pub)")
    assert list(tmp_path.iterdir()) == []


def test_keygen_into_a_missing_folder_is_one_line(tmp_path):
    assert refused(atoll("keygen", "keys/dev", cwd=tmp_path)) == (
        "atoll: keys/dev.key: cannot write: No such file or directory")


# -- build --sign and boot --trust -----------------------------------------------------------


def test_build_sign_says_the_image_is_signed(built, tmp_path):
    atoll("keygen", "dev", cwd=tmp_path)
    result = atoll("build", DEMO, "-o", "demo.atoll", "--sign", "dev.key", cwd=tmp_path)

    size = (tmp_path / "demo.atoll").stat().st_size
    n = DEMO.read_text().count("[[component]]")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"packed {n} components into demo.atoll ({size} bytes, signed with dev.key)\n"
    with zipfile.ZipFile(tmp_path / "demo.atoll") as archive:
        assert "signature.ed25519" in archive.namelist()


def test_a_signed_image_boots_with_its_public_key(signed):
    result = atoll("boot", "demo.atoll", "--trust", "dev.pub", "--for", "300ms", cwd=signed.parent)

    assert result.returncode == 0, result.stderr
    assert "Atoll shell ready; type help" in result.stdout


def test_a_signed_image_still_boots_without_a_trusted_key(signed):
    result = atoll("boot", "demo.atoll", "--for", "100ms", cwd=signed.parent)
    assert result.returncode == 0, result.stderr


def test_an_unsigned_image_is_refused_when_a_key_is_trusted(built, tmp_path):
    atoll("keygen", "dev", cwd=tmp_path)
    assert atoll("build", DEMO, "-o", "plain.atoll", cwd=tmp_path).returncode == 0

    assert refused(atoll("boot", "plain.atoll", "--trust", "dev.pub", "--for", "100ms", cwd=tmp_path)) == (
        "atoll: plain.atoll: not signed (no signature.ed25519), but a trusted key was given; "
        "sign it with atoll build --sign")


def test_an_image_signed_by_another_key_is_refused(signed):
    atoll("keygen", "other", cwd=signed.parent)

    line = refused(atoll("boot", "demo.atoll", "--trust", "other.pub", "--for", "100ms", cwd=signed.parent))

    assert line.startswith("atoll: demo.atoll: signed by another key (SHA256:")
    assert line.endswith(")") and "not the trusted key (SHA256:" in line


def tamper(image, name, change) -> None:
    with zipfile.ZipFile(image) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    entries[name] = change(entries[name])
    with zipfile.ZipFile(image, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)


def test_a_tampered_manifest_is_refused_by_the_signature(signed):
    def retarget(raw: bytes) -> bytes:
        manifest = json.loads(raw)
        manifest["system"] = "evil"
        return json.dumps(manifest).encode()
    tamper(signed, "manifest.json", retarget)

    assert refused(atoll("boot", "demo.atoll", "--trust", "dev.pub", "--for", "100ms", cwd=signed.parent)) == (
        "atoll: demo.atoll: signature.ed25519: signature does not match manifest.json (changed after signing?)")


def test_a_tampered_elf_is_refused(signed):
    tamper(signed, "elf/shell.elf", lambda data: data[:200] + bytes([data[200] ^ 1]) + data[201:])

    assert refused(atoll("boot", "demo.atoll", "--trust", "dev.pub", "--for", "100ms", cwd=signed.parent)) == (
        "atoll: demo.atoll: entry elf/shell.elf: SHA-256 does not match the manifest")


def test_a_malformed_signature_entry_is_one_line(signed):
    tamper(signed, "signature.ed25519", lambda data: b"not json")

    line = refused(atoll("boot", "demo.atoll", "--trust", "dev.pub", "--for", "100ms", cwd=signed.parent))

    assert line.startswith("atoll: demo.atoll: signature.ed25519: not valid JSON: ")


def test_a_malformed_trusted_key_file_is_one_line(signed):
    (signed.parent / "junk.pub").write_text("not a key\n")
    assert refused(atoll("boot", "demo.atoll", "--trust", "junk.pub", cwd=signed.parent)) == (
        "atoll: junk.pub: not a PEM public key (make a key pair with atoll keygen)")


def test_the_private_key_given_to_trust_is_refused_with_a_hint(signed):
    assert refused(atoll("boot", "demo.atoll", "--trust", "dev.key", cwd=signed.parent)) == (
        "atoll: dev.key: a private key; trust the public key (the .pub file) instead")


def test_a_missing_trusted_key_file_is_one_line(signed):
    assert refused(atoll("boot", "demo.atoll", "--trust", "nobody.pub", cwd=signed.parent)) == (
        "atoll: nobody.pub: cannot read: no such file")


def test_a_description_is_refused_when_a_key_is_trusted(built, tmp_path):
    atoll("keygen", "dev", cwd=tmp_path)
    assert refused(atoll("boot", DEMO, "--trust", "dev.pub", "--for", "100ms", cwd=tmp_path)) == (
        "atoll: demo-hifive1.toml: a description cannot be signed; with a trusted key "
        "only a signed packed image boots (atoll build --sign)")


def test_signing_with_the_public_key_is_refused_and_writes_nothing(built, tmp_path):
    atoll("keygen", "dev", cwd=tmp_path)

    assert refused(atoll("build", DEMO, "-o", "demo.atoll", "--sign", "dev.pub", cwd=tmp_path)) == (
        "atoll: dev.pub: a public key; signing needs the private key (the .key file)")
    assert not (tmp_path / "demo.atoll").exists()


def test_trust_with_a_bare_metal_elf_is_refused(built, tmp_path):
    atoll("keygen", "dev", cwd=tmp_path)
    elf = ROOT / "build" / "components" / "rv32imac" / "hello.elf"

    assert refused(atoll("boot", elf, "--board", "hifive1", "--trust", "dev.pub", cwd=tmp_path)) == (
        "atoll: --trust needs a packed image; a bare-metal ELF is not signed")
