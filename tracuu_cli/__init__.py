"""The command line on top of every other layer, with evaluation and benchmarks."""
