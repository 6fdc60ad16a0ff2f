"""Handlers that run before all others: load the resident, crisis signs, consent, membership changes
and the error handler."""
