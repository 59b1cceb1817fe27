# Atoll: every target sets itself up (virtual environment, packages, QEMU and
# gdb-multiarch where tests need them) on a fresh clone.

PYTHON_HOST ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
FIRMWARE    := build/firmware
# Debian packages the tests drive: QEMU for the differential tests, gdb-multiarch
# for the GDB stub tests, picolibc (with the GNU cross compilers' libgcc it depends on)
# for the components' C library (docs/components.md); cmake, gcc and patch to build Unicorn.
APT_PACKAGES := qemu-system-arm qemu-system-misc gdb-multiarch picolibc-arm-none-eabi picolibc-riscv64-unknown-elf cmake gcc patch

BOARD       ?= hifive1
COMPONENTS  := build/components

.PHONY: all demo test firmware components bench system-packages clean

all: test

# Unicorn is the pinned release rebuilt with the project's patches (patches/unicorn/build.py;
# docs/performance.md, "The Unicorn build"): a few minutes the first time on a machine, then
# taken from the cache in seconds. It needs cmake, a C compiler and patch (system-packages).
$(STAMP): pyproject.toml $(wildcard patches/unicorn/*) | system-packages
	$(PYTHON_HOST) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,ray]'
	$(PY) patches/unicorn/build.py
	touch $(STAMP)

# Installs what the tests need from Debian's packages, if missing (needs root or sudo).
system-packages:
	@missing=""; \
	command -v qemu-system-arm >/dev/null || missing="$$missing qemu-system-arm"; \
	command -v qemu-system-riscv32 >/dev/null || missing="$$missing qemu-system-misc"; \
	command -v gdb-multiarch >/dev/null || missing="$$missing gdb-multiarch"; \
	command -v cmake >/dev/null || missing="$$missing cmake"; \
	command -v cc >/dev/null || missing="$$missing gcc"; \
	command -v patch >/dev/null || missing="$$missing patch"; \
	[ -f /usr/lib/picolibc/arm-none-eabi/include/stdio.h ] || missing="$$missing picolibc-arm-none-eabi"; \
	[ -f /usr/lib/picolibc/riscv64-unknown-elf/include/stdio.h ] || missing="$$missing picolibc-riscv64-unknown-elf"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

firmware: $(STAMP)
	$(PY) firmware/build.py --out $(FIRMWARE)

components: $(STAMP) system-packages
	$(PY) firmware/components.py --out $(COMPONENTS)

# The demo system with the shell on this terminal (Ctrl-C ends it); BOARD=mps2-an385
# for the ARM board. Without a terminal (piped, CI) it runs two virtual seconds.
demo: $(STAMP) components
	@if [ -t 0 ]; then \
	  $(PY) -m atoll.cli boot firmware/images/demo-$(BOARD).toml; \
	else \
	  $(PY) -m atoll.cli boot firmware/images/demo-$(BOARD).toml --for 2s; \
	fi

test: $(STAMP) system-packages
	$(PY) -m pytest -n 2 --dist loadfile \
	  --cov=machine --cov=kernel --cov=sysdesc --cov-branch --cov-report=term:skip-covered tests

bench: $(STAMP) system-packages firmware
	$(PY) bench/run.py

clean:
	rm -rf build .pytest_cache .coverage
