"""Searching an index: the typed search contract, hybrid ranking, fusion and highlighting."""
