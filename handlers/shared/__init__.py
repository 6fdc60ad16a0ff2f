"""Helpers every handler uses: the per-update context, answering in place, keyboards, texts, parsing
what people type, the last-resort answers."""
