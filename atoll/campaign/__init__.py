"""Campaigns: many seeded runs of one image, spread over a process pool or Ray.

Three kinds, one runner (`runner.run`): the fault-injection campaign against the demo's
drivers (`faults`, `fault_model`), a coverage-guided fuzzer of one server's IPC interface
(`fuzz_inputs`, `fuzz_target`, `fuzz`), and the bench matrix (`matrix`: every image, board
and seed booted and run). Every task builds its own machine from plain data in the worker
that runs it (`executor`); every finding carries what replays it (`findings`,
`atoll replay FINDING.json`).
"""
