"""bench: the speed benchmarks `make bench` runs (machine, kernel, tools), side by side as ratios."""
