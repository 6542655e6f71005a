"""Vietnamese text: normalisation, tokens, stop words, tone-mark restoration, language."""
