"""Images as data for a campaign's tasks: packed once, shipped as bytes, unpacked once per worker.

`ImageRef.load(path)` takes a system description (packed with `sysdesc.pack`, which checks
it whole and gathers its ELF, interface and policy files) or an already packed image, and
keeps the packed image's bytes and their SHA-256 (the image digest every result and finding
carries). A task carries the `ImageRef`; `materialise` writes its bytes once per worker
process into a private folder under the system's temporary directory, named by digest, and
returns that path, so a worker on another host of a cluster needs nothing of the driver's
file system. `save` writes the bytes next to a campaign's results, where a finding's
replay finds them.

Invariants: the digest is of the exact bytes booted; a materialised file is written whole
(a temporary name, then renamed) and never rewritten.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile
import zipfile
from dataclasses import dataclass

from sysdesc import ImageError, load_any, pack


@dataclass(frozen=True)
class ImageRef:
    name: str            # the file it came from, as given (for people)
    board: str
    digest: str          # SHA-256 of `data`, hex
    data: bytes          # a packed image

    @staticmethod
    def load(path: str | pathlib.Path) -> "ImageRef":
        """Pack the description at `path` (or read the packed image); ImageError in one line."""
        path = pathlib.Path(path)
        if not path.is_file():
            raise ImageError(f"{path}: no such file")
        if zipfile.is_zipfile(path):
            data = path.read_bytes()
        else:
            with tempfile.TemporaryDirectory(prefix="atoll-pack-") as folder:
                packed = pathlib.Path(folder) / "image.atoll"
                pack(path, packed)
                data = packed.read_bytes()
        ref = ImageRef(str(path), "", hashlib.sha256(data).hexdigest(), data)
        board = load_any(materialise(ref)).board.name
        return ImageRef(ref.name, board, ref.digest, data)

    @property
    def short(self) -> str:
        return self.digest[:12]

    def save(self, folder: pathlib.Path) -> pathlib.Path:
        """Write the packed image into `folder` as image-<digest>.atoll (once); its path."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"image-{self.short}.atoll"
        if not target.exists():
            _write_whole(target, self.data)
        return target


def _write_whole(target: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, target)


def materialise(ref: ImageRef) -> pathlib.Path:
    """The image as a file this process can boot (written once per digest)."""
    folder = pathlib.Path(tempfile.gettempdir()) / f"atoll-campaign-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / f"{ref.digest}.atoll"
    if not target.exists():
        _write_whole(target, ref.data)
    return target
