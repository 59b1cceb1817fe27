"""Packed images: a description packs into one file and opens back into the same system,
and an image is refused, with one line naming the file and the entry, unless every entry is
exactly what the manifest says.

ELF files are small placeholders: packing and verifying never look inside them.
"""

import hashlib
import json
import pathlib
import shutil
import zipfile

import pytest

from machine import load_board
from sysdesc.description import ImageError, load_system
from sysdesc.package import describe, load_any, open_image, pack, unpacked, verify
from tests.sysdesc.test_image_files import MINIMAL, write_system


@pytest.fixture
def description(tmp_path) -> pathlib.Path:
    return write_system(tmp_path / "src")


@pytest.fixture
def image(description, tmp_path) -> pathlib.Path:
    path = tmp_path / "image.atoll"
    pack(description, path)
    return path


def entries_of(path: pathlib.Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: pathlib.Path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def refusal(path: pathlib.Path) -> str:
    with pytest.raises(ImageError) as excinfo:
        open_image(path)
    return str(excinfo.value)


def shape(system):
    """Everything a system says, with paths reduced to file names."""
    return (system.name, system.board.name,
            [(c.name, c.elf.name, c.priority, c.stack, c.uses, c.interrupts, c.supervisor, c.start, c.index)
             for c in system.components],
            system.endpoints, system.notifications)


# -- packing and opening ---------------------------------------------------------------------


def test_a_packed_image_opens_into_the_same_system(description, image):
    assert shape(open_image(image)) == shape(load_system(description))


def test_a_packed_image_carries_each_elf_byte_for_byte(description, image):
    system = open_image(image)
    for comp in system.components:
        assert comp.elf.read_bytes() == (description.parent / "elf" / f"{comp.name}.elf").read_bytes()


def test_a_packed_image_holds_a_manifest_the_description_and_one_elf_per_component(image):
    entries = entries_of(image)
    assert sorted(entries) == ["elf/console.elf", "elf/supervisor.elf", "elf/uart.elf", "manifest.json",
                               "system.toml"]
    manifest = json.loads(entries["manifest.json"])
    assert (manifest["format"], manifest["version"], manifest["system"]) == ("atoll-image", 1, "tiny")
    assert manifest["entries"] == {name: hashlib.sha256(data).hexdigest()
                                   for name, data in entries.items() if name != "manifest.json"}


def test_every_entry_is_deflated(image):
    with zipfile.ZipFile(image) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}


def test_the_packed_description_names_the_packed_elf_files_and_the_board_by_name(image):
    text = entries_of(image)["system.toml"].decode()
    assert 'elf = "elf/uart.elf"' in text and 'board = "mps2-an385"' in text
    assert "src/" not in text


def test_the_packed_description_keeps_virtual_addresses(tmp_path):
    source = write_system(tmp_path, MINIMAL.replace('uses = ["uart0"]', "uses = { uart0 = 0x5000_0000 }"))
    pack(source, tmp_path / "image.atoll")
    assert open_image(tmp_path / "image.atoll").component("uart").uses == {"uart0": 0x5000_0000}


def test_packing_the_same_description_twice_gives_the_same_bytes(description, tmp_path):
    pack(description, tmp_path / "a.atoll")
    pack(description, tmp_path / "b.atoll")
    assert (tmp_path / "a.atoll").read_bytes() == (tmp_path / "b.atoll").read_bytes()


def test_a_board_file_that_is_not_shipped_is_packed_as_an_entry(tmp_path):
    (tmp_path / "boards").mkdir()
    shutil.copy(load_board("hifive1").path, tmp_path / "boards" / "myboard.toml")
    text = (MINIMAL.replace('board = "mps2-an385"', 'board = "boards/myboard.toml"')
            .replace('interrupts = { "uart0.rx" = 0, "uart0.tx" = 1 }', ""))
    pack(write_system(tmp_path, text), tmp_path / "image.atoll")
    assert "board/myboard.toml" in entries_of(tmp_path / "image.atoll")
    system = open_image(tmp_path / "image.atoll")
    assert system.board.path.name == "myboard.toml" and system.board.cpu.isa == "rv32imac"


def test_a_shipped_board_given_by_its_path_is_packed_by_name(tmp_path):
    text = MINIMAL.replace('board = "mps2-an385"', f'board = "{load_board("mps2-an385").path.as_posix()}"')
    pack(write_system(tmp_path, text), tmp_path / "image.atoll")
    assert not any(name.startswith("board/") for name in entries_of(tmp_path / "image.atoll"))


def test_a_bad_description_is_refused_by_pack_and_nothing_is_written(tmp_path):
    source = write_system(tmp_path, MINIMAL.replace("priority = 1", "priority = 9"))
    with pytest.raises(ImageError) as excinfo:
        pack(source, tmp_path / "image.atoll")
    assert str(excinfo.value) == "tiny.toml: component 'uart'.priority: must be an integer from 0 to 7, not 9"
    assert list(tmp_path.glob("*.atoll*")) == [] and list(tmp_path.glob(".image.atoll*")) == []


def test_load_any_reads_a_description_or_a_packed_image(description, image):
    assert shape(load_any(description)) == shape(load_any(image))


def test_an_unpacked_image_is_removed_on_leaving_the_with(image):
    with unpacked(image) as system:
        folder = system.path.parent
        assert (folder / "elf" / "uart.elf").is_file()
    assert not folder.exists()


def test_the_packed_description_round_trips_through_describe(description):
    system = load_system(description)
    assert describe(system, "mps2-an385").count("[[component]]") == 3


# -- refusals --------------------------------------------------------------------------------


def test_an_elf_entry_changed_after_packing_is_refused_by_its_sha256(image):
    entries = entries_of(image)
    elf = bytearray(entries["elf/uart.elf"])
    elf[5] ^= 0x01
    entries["elf/uart.elf"] = bytes(elf)
    rewrite(image, entries)
    assert refusal(image) == "image.atoll: entry elf/uart.elf: SHA-256 does not match the manifest"


def test_a_byte_flipped_inside_an_elf_entry_of_the_file_is_refused(image):
    with zipfile.ZipFile(image) as archive:
        info = archive.getinfo("elf/uart.elf")
    raw = bytearray(image.read_bytes())
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[data_start + 2] ^= 0x40
    image.write_bytes(bytes(raw))
    assert refusal(image) == "image.atoll: entry elf/uart.elf: SHA-256 does not match the manifest (the entry is damaged)"


def test_the_description_changed_after_packing_is_refused_before_it_is_read(image):
    entries = entries_of(image)
    entries["system.toml"] = entries["system.toml"].replace(b"priority = 1", b"priority = 0")
    rewrite(image, entries)
    assert refusal(image) == "image.atoll: entry system.toml: SHA-256 does not match the manifest"


def test_a_truncated_image_is_refused(image):
    image.write_bytes(image.read_bytes()[:-100])
    assert refusal(image) == "image.atoll: a damaged or truncated zip archive; not a usable packed image"


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "image.atoll"
    path.write_bytes(b"\x7fELF not an image")
    assert refusal(path) == "image.atoll: not a packed image (not a zip archive)"


def test_a_missing_image_file_says_it_cannot_be_read(tmp_path):
    assert refusal(tmp_path / "image.atoll") == f"{tmp_path / 'image.atoll'}: cannot read: no such file"


def test_an_image_without_a_manifest_is_refused(image):
    entries = entries_of(image)
    del entries["manifest.json"]
    rewrite(image, entries)
    assert refusal(image) == "image.atoll: no manifest.json; not a packed image"


def test_an_entry_the_manifest_does_not_list_is_refused(image):
    rewrite(image, {**entries_of(image), "notes.txt": b"hello"})
    assert refusal(image) == "image.atoll: entry notes.txt: not listed in the manifest"


def test_an_entry_the_manifest_lists_but_the_image_lacks_is_refused(image):
    entries = entries_of(image)
    del entries["elf/console.elf"]
    rewrite(image, entries)
    assert refusal(image) == "image.atoll: entry elf/console.elf: listed in the manifest but missing"


def edit_manifest(image: pathlib.Path, **changes) -> None:
    entries = entries_of(image)
    manifest = json.loads(entries["manifest.json"])
    manifest.update(changes)
    entries["manifest.json"] = json.dumps(manifest).encode()
    rewrite(image, entries)


def test_an_unknown_manifest_version_is_refused(image):
    edit_manifest(image, version=2)
    assert refusal(image) == "image.atoll: manifest.json: version: 2 is not supported; this Atoll reads version 1"


def test_an_unknown_manifest_format_is_refused(image):
    edit_manifest(image, format="zip")
    assert refusal(image) == "image.atoll: manifest.json: format: must be 'atoll-image', not 'zip'"


def test_a_manifest_that_is_not_json_is_refused(image):
    rewrite(image, {**entries_of(image), "manifest.json": b"{entries"})
    assert refusal(image).startswith("image.atoll: manifest.json: not valid JSON: ")


def test_a_manifest_naming_another_system_is_refused(image):
    edit_manifest(image, system="other")
    assert refusal(image) == "image.atoll: manifest.json: system: 'other', but system.toml names 'tiny'"


def test_an_entry_name_an_image_may_not_hold_is_refused(image):
    entries = entries_of(image)
    entries["../escape.elf"] = b"x"
    manifest = json.loads(entries["manifest.json"])
    manifest["entries"]["../escape.elf"] = hashlib.sha256(b"x").hexdigest()
    entries["manifest.json"] = json.dumps(manifest).encode()
    rewrite(image, entries)
    assert refusal(image) == "image.atoll: manifest.json: entries: '../escape.elf' is not an entry name an image may hold"


def repack(image: pathlib.Path, entries: dict[str, bytes]) -> None:
    """Rewrite `image` with `entries` and a manifest that matches them (a well-formed forgery)."""
    manifest = {"format": "atoll-image", "version": 1, "system": "tiny",
                "entries": {name: hashlib.sha256(data).hexdigest() for name, data in entries.items()}}
    rewrite(image, {"manifest.json": json.dumps(manifest).encode(), **entries})


def test_a_packed_description_naming_a_file_outside_the_image_is_refused(image):
    entries = entries_of(image)
    del entries["manifest.json"]
    entries["system.toml"] = entries["system.toml"].replace(b'"elf/uart.elf"', b'"../../outside.elf"')
    repack(image, entries)
    assert refusal(image) == ("image.atoll: system.toml: component 'uart'.elf: "
                              "must name an ELF entry of the image, not '../../outside.elf'")


def test_an_entry_the_packed_description_does_not_use_is_refused(image):
    entries = entries_of(image)
    del entries["manifest.json"]
    entries["elf/spare.elf"] = b"\x7fELF spare"
    repack(image, entries)
    assert refusal(image) == "image.atoll: entry elf/spare.elf: not used by system.toml"


def test_verify_returns_the_manifest_and_the_checked_entries(image):
    manifest, contents = verify(image)
    assert manifest["system"] == "tiny"
    assert set(contents) == set(manifest["entries"])
