"""The index format: write and read one version directory (see docs/format.md)."""
