# Atoll: every target sets itself up (virtual environment, packages, QEMU and
# gdb-multiarch where tests need them) on a fresh clone.

PYTHON_HOST ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
FIRMWARE    := build/firmware
# Debian packages the tests drive: QEMU for the differential tests, gdb-multiarch
# for the GDB stub tests.
APT_PACKAGES := qemu-system-arm qemu-system-misc gdb-multiarch

.PHONY: all demo test firmware bench system-packages clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON_HOST) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Installs what the tests need from Debian's packages, if missing (needs root or sudo).
system-packages:
	@missing=""; \
	command -v qemu-system-arm >/dev/null || missing="$$missing qemu-system-arm"; \
	command -v qemu-system-riscv32 >/dev/null || missing="$$missing qemu-system-misc"; \
	command -v gdb-multiarch >/dev/null || missing="$$missing gdb-multiarch"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

firmware: $(STAMP)
	$(PY) firmware/build.py --out $(FIRMWARE)

demo: $(STAMP) firmware
	$(PY) -m atoll.cli boot $(FIRMWARE)/mps2-an385/hello.elf --board mps2-an385 --for 0.05
	$(PY) -m atoll.cli boot $(FIRMWARE)/hifive1/hello.elf --board hifive1 --for 0.05

test: $(STAMP) system-packages
	$(PY) -m pytest -n 2 --dist loadfile \
	  --cov=machine --cov=kernel --cov-branch --cov-report=term:skip-covered tests

bench: $(STAMP) system-packages firmware
	$(PY) bench/run.py

clean:
	rm -rf build .pytest_cache .coverage
