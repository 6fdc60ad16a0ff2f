"""Local, faithful emulator of the Telegram Bot API for tests and the terminal demo.

    async with BotApiSandbox() as sb:
        app = ApplicationBuilder().token(sb.token).base_url(sb.base_url) \
            .base_file_url(sb.base_file_url).build()
"""

from .models import ApiError, SandboxChat, SandboxEvent, SandboxUser, SentMessage
from .server import BotApiSandbox

__all__ = ["ApiError", "BotApiSandbox", "SandboxChat", "SandboxEvent", "SandboxUser", "SentMessage"]
