"""Getting updates in and out: long polling, the webhook receiver, the durable inbox, the per-chat
processor, retries, command menus and callback data."""
