"""firmware: the guest side — bare-metal programs, the component library, apps and system images.

The Python modules here (`build`, `components`) build the C code; they are run as scripts
(`python firmware/components.py`) and imported by the tests and benchmarks.
"""
