"""Where the project's files are: found from one place, so that moving a module never breaks them.

The catalogs, migrations and content live beside the packages at the top of the repository (the
Dockerfile installs the project editable for the same reason)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = PROJECT_ROOT / "locales"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
CONTENT_DIR = PROJECT_ROOT / "content"
# Organisation files shipped inside the package (package data, found wherever it is installed).
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@cache
def dejavu_sans() -> tuple[Path, Path]:
    """DejaVu Sans, regular and bold (Latin, Cyrillic and Arabic in one face), from matplotlib's
    package data: the posters and the PDF report use it, so nothing is installed for fonts."""
    import matplotlib  # only where a PDF is made: importing it costs a third of a second

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise RuntimeError(f"DejaVu Sans is missing from matplotlib's data in {folder}")
    return regular, bold
