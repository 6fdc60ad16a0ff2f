"""Residents: who they are, their language, district, consent and blocked flag."""
