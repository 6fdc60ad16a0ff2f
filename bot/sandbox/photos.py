"""Photos the way Telegram stores them: a photo (not a file) is re-encoded as JPEG with at most
1280 px on its long side, and its PhotoSize says the real width and height. A bot that reads
photos (bot/letters) must cope with exactly that, so the sandbox does the same; a document keeps
its bytes, as Telegram's does."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 1280  # Telegram's standard photo size (the largest PhotoSize of a normal upload)
QUALITY = 87


def telegram_photo(content: bytes) -> tuple[bytes, tuple[int, int] | None]:
    """(stored bytes, (width, height)); bytes that are no image (the stand-ins many tests send)
    are kept as they are, without a size."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return content, None
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=QUALITY)
    return buffer.getvalue(), image.size
