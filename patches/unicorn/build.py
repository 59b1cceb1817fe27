"""Build Unicorn from its source release with the project's patches, and install it.

Atoll runs on Unicorn 2.1.4 (pyproject.toml pins it) rebuilt from its source release with
the patches in this folder (docs/performance.md, "The Unicorn build", says why). This script
is what `make` runs after installing the project into the virtual environment:

1. the key of a build is the release, the sha256 of its source archive, the patches' bytes
   and the targets built; a wheel built for that key is kept in the cache directory
   (`$XDG_CACHE_HOME/atoll/unicorn/<key>/`, as the native hooks are), so a second `make`,
   or a fresh virtual environment on the same machine, installs it in seconds;
2. otherwise: the source archive from the package index (`pip download`), checked against
   the sha256 below; the patches applied with `patch`; only the ARM and RISC-V targets
   compiled with CMake and the host C compiler; the library put where the binding's own
   setup.py takes a prebuilt one from, and a wheel made of it with `pip wheel`;
3. the wheel installed over the one pip took from the pin (`--force-reinstall --no-deps`).

Invariants: the installed binding is the pinned release's own Python code; only its native
library differs, by exactly the patches here. A missing tool or a download that does not
match ends the script with one message naming it and nothing installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
VERSION = "2.1.4"
#: sha256 of unicorn-2.1.4.tar.gz as the package index serves it
SOURCE_SHA256 = "00567a70e323f749b419cd86bee4f9115beab7ebba32194581c090cbb7c59cff"
#: the Unicorn targets the boards need (CMake's UNICORN_ARCH; "riscv" is RV32 and RV64)
TARGETS = "arm;riscv"
LIBRARY = "libunicorn.so.2"


class BuildError(RuntimeError):
    """A step of the build failed; the message says which and why."""


def patches() -> list[pathlib.Path]:
    return sorted(HERE.glob("*.patch"))


def build_key() -> str:
    digest = hashlib.sha256(f"{VERSION}\n{SOURCE_SHA256}\n{TARGETS}\n".encode())
    for patch in patches():
        digest.update(patch.name.encode() + b"\n" + patch.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "atoll" / "unicorn" / build_key()


def run(cmd: list[str], what: str, cwd: pathlib.Path | None = None, log: pathlib.Path | None = None) -> None:
    """Run one build step; on failure, raise with the step's name and its output's tail."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        out.seek(0)
        text = out.read()
    if log is not None:
        with log.open("a") as f:
            f.write(f"$ {' '.join(cmd)}\n{text}\n")
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-25:])
        raise BuildError(f"unicorn {VERSION}: {what} failed (exit {proc.returncode}):\n{tail}")


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BuildError(f"unicorn {VERSION}: building it needs `{name}` (Debian package {package}; "
                         "`make system-packages` installs it)")
    return found


def fetch_source(into: pathlib.Path, log: pathlib.Path) -> pathlib.Path:
    """The release's source archive, unpacked into `into`; returns its top directory."""
    run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         f"unicorn=={VERSION}", "-d", str(into)],
        "downloading the source archive", log=log)
    archive = into / f"unicorn-{VERSION}.tar.gz"
    if not archive.is_file():
        raise BuildError(f"unicorn {VERSION}: the download left no {archive.name} in {into}")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise BuildError(f"unicorn {VERSION}: {archive.name} has sha256 {digest}, expected {SOURCE_SHA256}")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):     # Python 3.11.4 and newer
            tar.extractall(into, filter="data")
        else:
            tar.extractall(into)
    return into / f"unicorn-{VERSION}"


def build_wheel(work: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    """Download, patch and compile; returns the wheel, written into `out`."""
    log = work / "build.log"
    patch_tool, cmake = tool("patch", "patch"), tool("cmake", "cmake")
    tool("cc", "gcc")
    source = fetch_source(work, log)
    for patch in patches():
        run([patch_tool, "-p1", "--batch", "--forward", "-d", str(source), "-i", str(patch)],
            f"applying {patch.name}", log=log)
    objects = work / "objects"
    run([cmake, "-S", str(source / "src"), "-B", str(objects), "-DCMAKE_BUILD_TYPE=Release",
         "-DUNICORN_BUILD_TESTS=off", f"-DUNICORN_ARCH={TARGETS}"], "configuring with CMake", log=log)
    run([cmake, "--build", str(objects), f"-j{os.cpu_count() or 2}"], "compiling", log=log)
    prebuilt = source / "prebuilt"       # the binding's setup.py takes a library from here
    prebuilt.mkdir(exist_ok=True)
    shutil.copy2(objects / LIBRARY, prebuilt / LIBRARY)
    shutil.copy2(objects / "libunicorn.a", prebuilt / "libunicorn.a")
    out.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
        "making the wheel", log=log)
    wheels = sorted(out.glob(f"unicorn-{VERSION}-*.whl"))
    if not wheels:
        raise BuildError(f"unicorn {VERSION}: pip wheel left no wheel in {out}")
    return wheels[0]


def cached_wheel() -> pathlib.Path | None:
    wheels = sorted(cache_dir().glob(f"unicorn-{VERSION}-*.whl"))
    return wheels[0] if wheels else None


def installed_library() -> pathlib.Path | None:
    """The native library of the unicorn package installed in this interpreter, if any."""
    proc = subprocess.run([sys.executable, "-c", "import unicorn, pathlib; "
                           "print(pathlib.Path(unicorn.__file__).parent / 'lib' / 'libunicorn.so.2')"],
                          capture_output=True, text=True)
    path = pathlib.Path(proc.stdout.strip()) if proc.returncode == 0 else None
    return path if path is not None and path.is_file() else None


def wheel_library_digest(wheel: pathlib.Path) -> str:
    import zipfile
    with zipfile.ZipFile(wheel) as z:
        return hashlib.sha256(z.read(f"unicorn/lib/{LIBRARY}")).hexdigest()


def ensure(rebuild: bool = False) -> str:
    """Install the patched build (building it first if the cache has none); returns what it did."""
    wheel = None if rebuild else cached_wheel()
    did = "cached"
    if wheel is None:
        with tempfile.TemporaryDirectory(prefix="unicorn-build-") as tmp:
            staging = pathlib.Path(tmp) / "wheel"
            built = build_wheel(pathlib.Path(tmp), staging)
            target = cache_dir()
            target.mkdir(parents=True, exist_ok=True)
            wheel = target / built.name
            shutil.copy2(built, wheel)
        did = "built"
    library = installed_library()
    if library is not None and hashlib.sha256(library.read_bytes()).hexdigest() == wheel_library_digest(wheel):
        return f"unicorn {VERSION} with {len(patches())} patch(es): already installed ({did})"
    run([sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", str(wheel)],
        "installing the wheel")
    return f"unicorn {VERSION} with {len(patches())} patch(es): installed ({did}, {wheel})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build again even if the cache has this build")
    args = parser.parse_args(argv)
    try:
        print(ensure(args.rebuild))
    except BuildError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
