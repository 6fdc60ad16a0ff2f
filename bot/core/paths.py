"""Where the project's files are: found from one place, so that moving a module never breaks them.

The catalogs, migrations and content live beside the packages at the top of the repository (the
Dockerfile installs the project editable for the same reason)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = PROJECT_ROOT / "locales"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
CONTENT_DIR = PROJECT_ROOT / "content"
# Organisation files shipped inside the package (package data, found wherever it is installed).
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
