"""The letter corpus, rendered once per test session into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .corpus import case
from .render import render


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[Path]]:
    """rendered(key) -> the files of that letter, made on first use and kept for the session."""
    directory = tmp_path_factory.mktemp("letters")
    cache: dict[str, list[Path]] = {}

    def files(key: str) -> list[Path]:
        if key not in cache:
            cache[key] = render(case(key).letter, directory)
        return cache[key]

    return files
