"""tracuu: semantic search over Vietnamese report articles."""

__version__ = "0.1.0"
