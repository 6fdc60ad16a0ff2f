"""Figures for the funder: counts by topic, language and district, never a name or a text."""
