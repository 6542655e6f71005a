"""From raw articles to an index directory: read, clean, chunk, embed, store, publish."""
