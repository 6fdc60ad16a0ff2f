"""Upgrading a running installation to the one path out (migrations/0010_outgoing.sql): what the
old relay and broadcast outbox had not delivered is delivered by the courier after the upgrade;
a broadcast row the old outbox left 'sending' (counted as sent, unknown in truth) is uncertain."""

from __future__ import annotations

from dataclasses import replace

from bot.app import SERVICES_KEY, running
from bot.core.db import Database, load_migrations
from bot.core.outgoing import Outgoing
from tests.conftest import make_application

STAFF_ID = 700_001


async def test_what_the_old_version_left_undelivered_is_delivered_after_the_upgrade(
    sandbox, settings, clock
):
    staff = sandbox.add_user(first_name="Anna", user_id=STAFF_ID)
    group = sandbox.add_group(
        "Team", kind="supergroup", is_forum=True, members={STAFF_ID: "administrator"}
    )
    amal, olga = sandbox.add_user(first_name="Amal"), sandbox.add_user(first_name="Olga")
    for user in (amal, olga):
        user.started = True
    thread = sandbox._new_topic(group, "🆕 #1 Schulden · ar · Rieth", 7322096, sandbox.bot_user)[
        "message_thread_id"
    ]
    question = await sandbox.send_message(amal, "سؤال لم يُنسخ بعد")
    answer = await sandbox.send_message(
        staff, "Antwort, noch nicht zugestellt", chat=group, message_thread_id=thread
    )
    sandbox._updates.clear()  # the old version had fetched and handled these already

    # The database as the version before the courier left it.
    db = await Database.open(settings.db_path)
    await db.migrate([m for m in load_migrations() if m.version < 10])
    now = clock.now().isoformat()
    async with db.transaction() as tx:
        for user in (amal, olga):
            await tx.execute(
                "INSERT INTO residents (user_id, chat_id, language, consent_at, consent_version,"
                " announcements_asked) VALUES (?, ?, 'ar', ?, 1, 1)",
                (user.id, user.id, now),
            )
        await tx.execute(
            "INSERT INTO cases (id, resident_id, status, topic, district, language, thread_id,"
            " topic_title, created_at, submitted_at) VALUES (1, ?, 'new', 'debt', 'Rieth', 'ar',"
            " ?, '🆕 #1 Schulden · ar · Rieth', ?, ?)",
            (amal.id, thread, now, now),
        )
        await tx.execute(
            "INSERT INTO case_messages (case_id, direction, sender_id, kind, text,"
            " source_chat_id, source_message_id, relay_status, created_at) VALUES"
            " (1, 'in', ?, 'text', 'سؤال لم يُنسخ بعد', ?, ?, 'pending', ?),"
            " (1, 'out', ?, 'text', 'Antwort, noch nicht zugestellt', ?, ?, 'pending', ?)",
            (
                *(amal.id, amal.id, question["message_id"], now),
                *(STAFF_ID, group.id, answer["message_id"], now),
            ),
        )
        await tx.execute(
            "INSERT INTO staff_notices (case_id, text, created_at) VALUES (1, ?, ?)",
            ("📅 Terminanfrage T1", now),
        )
        await tx.execute(
            "INSERT INTO broadcasts (id, kind, created_at) VALUES (1, 'notice', ?)", (now,)
        )
        await tx.execute(
            "INSERT INTO broadcast_texts (broadcast_id, language, text) VALUES (1, 'de', ?)",
            ("📢 Heute geschlossen.",),
        )
        await tx.execute(
            "INSERT INTO deliveries (broadcast_id, resident_id, chat_id, language, status)"
            " VALUES (1, ?, ?, 'de', 'sending'), (1, ?, ?, 'de', 'pending')",
            (amal.id, amal.id, olga.id, olga.id),
        )
    await db.close()

    application = make_application(replace(settings, staff_chat_id=group.id), clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        await sandbox.wait_for_idle()
        topic = [m.text for m in sandbox.messages_to(group.id) if m.message_thread_id == thread]
        assert "سؤال لم يُنسخ بعد" in topic
        assert "#1 · 📅 Terminanfrage T1" in topic
        assert [m.text for m in sandbox.messages_to(amal.id)] == ["Antwort, noch nicht zugestellt"]
        assert sandbox.reactions(group.id, answer["message_id"]) == ["👍"]
        # The old outbox's 'sending' row: not sent again, counted uncertain; the pending one sent.
        assert [m.text for m in sandbox.messages_to(olga.id)] == ["📢 Heute geschlossen."]
        progress = await Outgoing(services.db).progress(1)
        assert (progress.sent, progress.uncertain, progress.waiting) == (1, 1, 0)
        assert (
            await services.db.fetchone("SELECT name FROM sqlite_master WHERE name = 'deliveries'")
            is None
        )
