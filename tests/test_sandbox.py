"""The Bot API sandbox, driven by the real python-telegram-bot and by raw HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import BotApiSandbox, SandboxUser, SentMessage

TOKEN = "123456789:SANDBOX-token-abcdefghijklmnop"


@pytest.fixture
async def sb() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox(token=TOKEN) as sandbox:
        yield sandbox


@pytest.fixture
async def api(sb: BotApiSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sb.base_url}{sb.token}/") as client:
        yield client


async def call(client: httpx.AsyncClient, method: str, **params: object) -> dict:
    """POST form-encoded like PTB does: non-strings JSON-encoded."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    r = await client.post(method, data=data)
    body = r.json()
    assert (r.status_code == 200) == body["ok"]
    if not body["ok"]:
        assert body["error_code"] == r.status_code
    return body


def build_app(sb: BotApiSandbox) -> Application:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        kb = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Ja", callback_data="yes"),
                    InlineKeyboardButton("Nein", callback_data="no"),
                ]
            ]
        )
        lang = update.effective_user.language_code
        await update.effective_message.reply_html(
            f"<b>Hallo</b> ({lang})", reply_markup=kb, do_quote=True
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        await q.answer(f"got {q.data}")
        await q.edit_message_text(f"chosen: {q.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    async def doc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        f = await update.effective_message.document.get_file()
        data = await f.download_as_bytearray()
        await update.effective_message.reply_document(
            bytes(data), filename="back.pdf", caption=f"{len(data)} bytes"
        )

    app = (
        ApplicationBuilder()
        .token(sb.token)
        .base_url(sb.base_url)
        .base_file_url(sb.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(filters.Document.ALL, doc))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
async def running(sb: BotApiSandbox) -> AsyncIterator[Application]:
    app = build_app(sb)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# ---------------------------------------------------------------- end to end with PTB
async def test_start_button_edit_roundtrip(sb: BotApiSandbox, running: Application) -> None:
    amal = sb.add_user("Amal", language_code="ar")
    msg = await sb.send_message(amal, "/start")
    assert msg["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert msg["from"]["language_code"] == "ar" and msg["from"]["is_bot"] is False
    reply = await sb.wait_for_message(amal.id)
    assert reply.text == "Hallo (ar)"
    assert reply.entities == [{"offset": 0, "length": 5, "type": "bold"}]
    assert reply.parse_mode == "HTML" and reply.kind == "text"
    assert reply.button_texts == ["Ja", "Nein"]
    assert reply.callback_data("Nein") == "no"
    assert reply.raw["reply_to_message"]["message_id"] == msg["message_id"]
    assert reply.message_id == msg["message_id"] + 1

    await sb.press_button(amal, reply, "yes")
    await sb.wait_for_idle()
    assert sb.callback_answers[-1]["text"] == "got yes"
    current = sb.messages_to(amal.id)[-1]
    assert current is reply and current.text == "chosen: yes" and current.edits == 1
    assert current.reply_markup is None  # editMessageText without markup drops the keyboard
    with pytest.raises(ValueError):
        await sb.press_button(amal, reply, "yes")  # keyboard is gone
    names = [name for name, _ in sb.calls]
    assert {
        "getMe",
        "deleteWebhook",
        "getUpdates",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    } <= set(names)


async def test_echo_waits_and_edited_message(sb: BotApiSandbox, running: Application) -> None:
    u = sb.add_user("Olena", language_code="uk")
    for word in ("eins", "zwei"):
        await sb.send_message(u, word)
    first = await sb.wait_for_message(u.id)
    second = await sb.wait_for_message(u.id)
    assert (first.text, second.text) == ("eins", "zwei")
    with pytest.raises(TimeoutError):
        await sb.wait_for_message(u.id, timeout=0.2)
    assert (await sb.wait_for_message(u.id, after=0)).text == "eins"
    assert (await sb.wait_for_message(u.id, after=first)).text == "zwei"
    sent = await sb.send_message(u, "drei")
    await sb.wait_for_message(u.id, predicate=lambda m: m.text == "drei")
    edited = await sb.edit_message(u, sent, "vier")
    assert edited["edit_date"] >= edited["date"]
    assert (await sb.wait_for_message(u.id)).text == "vier"  # PTB echoes edited messages too


async def test_document_upload_getfile_download(sb: BotApiSandbox, running: Application) -> None:
    u = sb.add_user("Kemal", language_code="tr")
    payload = b"%PDF-1.4 hello sandbox"
    m = await sb.send_document(u, file_name="brief.pdf", content=payload)
    assert m["document"]["file_id"] and m["document"]["file_unique_id"]
    assert m["document"]["file_size"] == len(payload)
    back = await sb.wait_for_message(u.id)
    assert back.kind == "document" and back.text == f"{len(payload)} bytes"
    doc = back.raw["document"]
    assert doc["file_name"] == "back.pdf"
    assert sb.file_content(doc["file_id"]) == payload


async def test_block_bot_gives_403_and_my_chat_member(sb: BotApiSandbox) -> None:
    u = sb.add_user("Lena")
    seen: list[Update] = []
    app = build_app(sb)
    app.add_handler(MessageHandler(filters.ALL, lambda u_, c: None), group=1)

    async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)

    from telegram.ext import ChatMemberHandler

    app.add_handler(ChatMemberHandler(on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await app.bot.send_message(u.id, "hi")
        await sb.send_message(u, "hallo")
        await sb.wait_for_message(u.id)
        await sb.block_bot(u)
        await sb.wait_for_idle()
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(u.id, "hi")
        await sb.unblock_bot(u)
        await sb.wait_for_idle()
        assert (await app.bot.send_message(u.id, "wieder da")).text == "wieder da"
        await app.updater.stop()
        await app.stop()
    statuses = [
        (x.my_chat_member.old_chat_member.status, x.my_chat_member.new_chat_member.status)
        for x in seen
    ]
    assert statuses == [("member", "kicked"), ("kicked", "member")]


async def test_ptb_errors_map_to_exceptions(sb: BotApiSandbox) -> None:
    u = sb.add_user("Ali")
    await sb.send_message(u, "/start")
    app = build_app(sb)
    async with app:
        bot = app.bot
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(424242, "x")
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(
                u.id,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("a", callback_data="x" * 65)]]
                ),
            )
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(u.id, "<b>open", parse_mode="HTML")
        m = await bot.send_message(u.id, "same")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("same", chat_id=u.id, message_id=m.message_id)
        await bot.set_my_commands(
            [BotCommand("start", "Beginnen"), BotCommand("hilfe", "Hilfe")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="de",
        )
        assert [
            c.command
            for c in await bot.get_my_commands(
                scope=BotCommandScopeAllPrivateChats(), language_code="de"
            )
        ] == ["start", "hilfe"]
        assert await bot.get_my_commands() == ()
        assert sb.commands({"type": "all_private_chats"}, "de")[1] == {
            "command": "hilfe",
            "description": "Hilfe",
        }
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(-999))
        me = await bot.get_me()
        assert me.username == "thinka_sandbox_bot" and me.id == 123456789
        member = await bot.get_chat_member(u.id, u.id)
        assert member.status == "member" and member.user.language_code == "de"
        chat = await bot.get_chat(u.id)
        assert chat.type == "private" and chat.first_name == "Ali"
        assert await bot.send_chat_action(u.id, "typing")
        assert await bot.set_message_reaction(u.id, m.message_id, "👍")


async def test_rate_limit_429(sb: BotApiSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as timedelta, no warning
    sb.rate_limit = 3
    u = sb.add_user("Zed")
    await sb.send_message(u, "hi")
    app = build_app(sb)
    async with app:
        for i in range(3):
            await app.bot.send_message(u.id, f"m{i}")
        with pytest.raises(RetryAfter) as exc:
            await app.bot.send_message(u.id, "too much")
        assert exc.value.retry_after.total_seconds() == 1
    body = sb.calls[-1]
    assert body[0] == "sendMessage" and body[1]["text"] == "too much"
    assert len(sb.messages_to(u.id)) == 3


async def test_forum_topics_with_ptb(sb: BotApiSandbox) -> None:
    staff = sb.add_user("Sozialarbeiterin")
    forum = sb.add_group(
        "Team", kind="supergroup", is_forum=True, members={staff.id: "administrator"}
    )
    plain = sb.add_group("Nachbarn", kind="supergroup")
    assert forum.id < -1000000000000
    app = build_app(sb)
    async with app:
        bot = app.bot
        topic = await bot.create_forum_topic(forum.id, "Fall 17")
        tid = topic.message_thread_id
        m = await bot.send_message(forum.id, "neu", message_thread_id=tid)
        assert m.message_thread_id == tid and m.is_topic_message
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(forum.id, "x", message_thread_id=tid + 1000)
        with pytest.raises(BadRequest, match="chat is not a forum"):
            await bot.create_forum_topic(plain.id, "nope")
        assert await bot.close_forum_topic(forum.id, tid)
        assert await bot.reopen_forum_topic(forum.id, tid)
        assert await bot.edit_forum_topic(forum.id, tid, name="Fall 17b")
        assert sb.topics(forum)[tid]["name"] == "Fall 17b"
        injected = await sb.send_message(staff, "Antwort", chat=forum, message_thread_id=tid)
        assert injected["is_topic_message"] and injected["message_thread_id"] == tid
        copied = await bot.copy_message(
            u_id := forum.id, forum.id, injected["message_id"], message_thread_id=tid
        )
        assert sb.messages_to(u_id)[-1].message_id == copied.message_id
        assert await bot.delete_forum_topic(forum.id, tid)
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(forum.id, "x", message_thread_id=tid)


# ---------------------------------------------------------------- raw HTTP
async def test_wire_basics(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{sb.base_url}999:wrong/getMe")
        assert r.status_code == 401 and r.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    r = await api.get("noSuchMethod")
    assert r.status_code == 404 and r.json()["description"] == "Not Found"
    assert (await api.get("GETME")).json()["result"]["is_bot"] is True
    r = await api.post("getMe", json={})
    assert r.json()["ok"] is True
    assert (await call(api, "logOut"))["result"] is True
    assert (await call(api, "close"))["result"] is True


async def test_send_message_validation(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    u = sb.add_user("Mira")
    never = sb.add_user("Silent")
    await sb.send_message(u, "hi")

    async def err(**params: object) -> str:
        body = await call(api, "sendMessage", **params)
        assert body["ok"] is False
        return body["description"]

    assert (
        await err(chat_id=never.id, text="x")
        == "Forbidden: bot can't initiate conversation with a user"
    )
    assert await err(chat_id=777, text="x") == "Bad Request: chat not found"
    assert await err(chat_id=u.id, text="   ") == "Bad Request: message text is empty"
    assert await err(chat_id=u.id, text="x" * 4097) == "Bad Request: message is too long"
    assert (await call(api, "sendMessage", chat_id=u.id, text="ü" * 4096))["ok"]
    assert (await err(chat_id=u.id, text="<foo>x</foo>", parse_mode="HTML")).startswith(
        'Bad Request: can\'t parse entities: Unsupported start tag "foo"'
    )
    assert "Unmatched end tag" in await err(chat_id=u.id, text="<b>x</i>", parse_mode="HTML")
    assert "reserved and must be escaped" in await err(
        chat_id=u.id, text="Hallo.", parse_mode="MarkdownV2"
    )
    ok = await call(
        api, "sendMessage", chat_id=str(u.id), text="  <i>a</i> &amp; b  ", parse_mode="HTML"
    )
    assert ok["result"]["text"] == "a & b"
    assert ok["result"]["entities"] == [{"offset": 0, "length": 1, "type": "italic"}]
    # reply markup shapes
    assert await err(
        chat_id=u.id,
        text="x",
        reply_markup={"inline_keyboard": [{"text": "a", "callback_data": "b"}]},
    ) == (
        'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
        "of Arrays"
    )
    assert "Text buttons are unallowed" in await err(
        chat_id=u.id, text="x", reply_markup={"inline_keyboard": [[{"text": "a"}]]}
    )
    assert "exactly one" in await err(
        chat_id=u.id,
        text="x",
        reply_markup={
            "inline_keyboard": [[{"text": "a", "callback_data": "b", "url": "https://x.de"}]]
        },
    )
    assert (
        await err(
            chat_id=u.id,
            text="x",
            reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "ä" * 33}]]},
        )
        == "Bad Request: BUTTON_DATA_INVALID"
    )
    assert (
        await call(
            api,
            "sendMessage",
            chat_id=u.id,
            text="x",
            reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "ä" * 32}]]},
        )
    )["ok"]
    assert (
        await err(
            chat_id=u.id,
            text="x",
            reply_markup={
                "inline_keyboard": [[{"text": str(i), "callback_data": str(i)}] for i in range(101)]
            },
        )
        == "Bad Request: reply markup is too long"
    )
    assert "Array of Arrays" in await err(chat_id=u.id, text="x", reply_markup={"keyboard": ["a"]})
    assert "remove_keyboard" in await err(
        chat_id=u.id, text="x", reply_markup={"remove_keyboard": False}
    )
    for good in (
        {"keyboard": [["Ja", {"text": "Nein"}]], "resize_keyboard": True},
        {"remove_keyboard": True},
        {"force_reply": True},
    ):
        assert (await call(api, "sendMessage", chat_id=u.id, text="k", reply_markup=good))["ok"]
    assert sb.messages_to(u.id)[-3].button_texts == ["Ja", "Nein"]
    assert "reply_markup" not in sb.messages_to(u.id)[-3].raw  # reply keyboards not echoed
    assert (
        await err(chat_id=u.id, text="x", reply_parameters={"message_id": 9999})
        == "Bad Request: message to be replied not found"
    )
    assert (
        await err(chat_id=u.id, text="x", parse_mode="Fancy")
        == "Bad Request: unsupported parse_mode"
    )


async def test_edit_delete_and_callback_errors(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    u = sb.add_user("Nora")
    user_msg = await sb.send_message(u, "hi")
    kb = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    res = (await call(api, "sendMessage", chat_id=u.id, text="t", reply_markup=kb))["result"]
    mid = res["message_id"]
    assert res["reply_markup"] == kb
    body = await call(
        api, "editMessageText", chat_id=u.id, message_id=mid, text="t", reply_markup=kb
    )
    assert body["description"].startswith("Bad Request: message is not modified: specified new")
    body = await call(api, "editMessageReplyMarkup", chat_id=u.id, message_id=mid, reply_markup=kb)
    assert "message is not modified" in body["description"]
    assert (await call(api, "editMessageReplyMarkup", chat_id=u.id, message_id=mid))["ok"]
    assert sb.messages_to(u.id)[-1].reply_markup is None
    assert sb.messages_to(u.id)[-1].edits == 1
    body = await call(api, "editMessageText", chat_id=u.id, message_id=999, text="x")
    assert body["description"] == "Bad Request: message to edit not found"
    body = await call(
        api, "editMessageText", chat_id=u.id, message_id=user_msg["message_id"], text="x"
    )
    assert body["description"] == "Bad Request: message can't be edited"
    # callback queries
    await call(api, "editMessageReplyMarkup", chat_id=u.id, message_id=mid, reply_markup=kb)
    q = await sb.press_button(u, sb.messages_to(u.id)[-1], "a")
    with pytest.raises(ValueError):
        await sb.press_button(u, sb.messages_to(u.id)[-1], "zzz")
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert (await call(api, "answerCallbackQuery", callback_query_id="nope"))[
        "description"
    ] == too_old
    assert (await call(api, "answerCallbackQuery", callback_query_id=q["id"], text="x" * 201))[
        "ok"
    ] is False
    assert (await call(api, "answerCallbackQuery", callback_query_id=q["id"], text="ok"))["ok"]
    assert (await call(api, "answerCallbackQuery", callback_query_id=q["id"]))[
        "description"
    ] == too_old
    # delete
    assert (await call(api, "deleteMessage", chat_id=u.id, message_id=mid))["result"] is True
    assert (await call(api, "deleteMessage", chat_id=u.id, message_id=mid))[
        "description"
    ] == "Bad Request: message to delete not found"
    assert sb.messages_to(u.id) == [] and sb.messages_to(u.id, include_deleted=True)[0].deleted


async def test_get_updates_semantics(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    u = sb.add_user("Poll")
    for t in ("1", "2", "3"):
        await sb.send_message(u, t)
    ups = (await call(api, "getUpdates"))["result"]
    assert [x["message"]["text"] for x in ups] == ["1", "2", "3"]
    first = ups[0]["update_id"]
    assert len((await call(api, "getUpdates", limit=2))["result"]) == 2
    assert len((await call(api, "getUpdates", offset=first + 1))["result"]) == 2
    assert len((await call(api, "getUpdates"))["result"]) == 2  # confirmed one is gone
    last = (await call(api, "getUpdates", offset=-1))["result"]
    assert [x["message"]["text"] for x in last] == ["3"]
    assert (await call(api, "getUpdates", offset=last[0]["update_id"] + 1))["result"] == []
    # long polling wakes on injection
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    task = asyncio.create_task(call(api, "getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    await sb.send_message(u, "wake")
    res = await task
    assert res["result"][0]["message"]["text"] == "wake" and loop.time() - t0 < 1
    # two concurrent long polls: the older one is terminated with 409
    older = asyncio.create_task(
        call(api, "getUpdates", offset=res["result"][0]["update_id"] + 1, timeout=5)
    )
    await asyncio.sleep(0.05)
    newer = asyncio.create_task(call(api, "getUpdates", timeout=0))
    body = await older
    assert body["error_code"] == 409 and body["description"].startswith(
        "Conflict: terminated by other getUpdates request"
    )
    assert (await newer)["ok"]
    # allowed_updates persists and filters
    await call(api, "getUpdates", allowed_updates=["callback_query"])
    await sb.send_message(u, "filtered")
    assert (await call(api, "getUpdates"))["result"] == []
    await call(api, "getUpdates", allowed_updates=[])
    await sb.send_message(u, "back")
    assert (await call(api, "getUpdates"))["result"][0]["message"]["text"] == "back"
    # webhook blocks getUpdates
    assert (await call(api, "setWebhook", url="https://example.org/hook"))["ok"]
    info = (await call(api, "getWebhookInfo"))["result"]
    assert info["url"] == "https://example.org/hook" and info["pending_update_count"] == 1
    body = await call(api, "getUpdates")
    assert body["error_code"] == 409 and "webhook is active" in body["description"]
    assert (await call(api, "deleteWebhook", drop_pending_updates=True))["ok"]
    assert (await call(api, "getUpdates"))["result"] == []


async def test_ptb_conflict_error(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    app = build_app(sb)
    async with app:
        poll = asyncio.create_task(app.bot.get_updates(timeout=3))
        await asyncio.sleep(0.1)
        assert (await call(api, "getUpdates", timeout=0))["ok"]  # a second bot instance
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await poll


async def test_commands_validation(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    u = sb.add_user("Cmd")

    async def desc(**params: object) -> str:
        return (await call(api, "setMyCommands", **params))["description"]

    assert (
        await desc(commands=[{"command": "Start", "description": "x"}])
        == "Bad Request: BOT_COMMAND_INVALID"
    )
    assert (
        await desc(commands=[{"command": "x" * 33, "description": "x"}])
        == "Bad Request: BOT_COMMAND_INVALID"
    )
    assert (
        await desc(commands=[{"command": "ok", "description": " "}])
        == "Bad Request: command description must be non-empty"
    )
    assert "too long" in await desc(commands=[{"command": "ok", "description": "x" * 257}])
    assert (
        await desc(commands=[{"command": "ok"}])
        == "Bad Request: can't parse BotCommand: Can't find field \"description\""
    )
    assert "too many" in await desc(
        commands=[{"command": f"c{i}", "description": "d"} for i in range(101)]
    )
    cmds = [{"command": "hilfe", "description": "Hilfe"}]
    assert (
        await desc(commands=cmds, language_code="deu")
        == "Bad Request: invalid language code specified"
    )
    assert (
        await desc(commands=cmds, scope={"type": "chat", "chat_id": -5})
        == "Bad Request: chat not found"
    )
    assert (
        await desc(commands=cmds, scope={"type": "chat_member", "chat_id": u.id, "user_id": 5})
        == "Bad Request: user not found"
    )
    assert (
        await call(api, "setMyCommands", commands=cmds, scope={"type": "chat", "chat_id": u.id})
    )["ok"]
    assert sb.commands({"type": "chat", "chat_id": u.id}) == cmds
    assert sb.commands() == []
    assert (await call(api, "getMyCommands", scope={"type": "chat", "chat_id": u.id}))[
        "result"
    ] == cmds
    assert (await call(api, "deleteMyCommands", scope={"type": "chat", "chat_id": u.id}))["ok"]
    assert sb.commands({"type": "chat", "chat_id": u.id}) == []


async def test_chat_member_and_groups(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    a, b, c = sb.add_user("A"), sb.add_user("B"), sb.add_user("C", user_id=42)
    grp = sb.add_group("Nachbarn", members={a.id: "creator", b.id: "member"})
    assert grp.id < 0 and grp.type == "group"

    async def status(chat_id: int, user_id: int) -> str:
        body = await call(api, "getChatMember", chat_id=chat_id, user_id=user_id)
        return body["result"]["status"] if body["ok"] else body["description"]

    assert await status(grp.id, a.id) == "creator"
    assert await status(grp.id, c.id) == "left"
    sb.set_member_status(grp.id, b.id, "kicked")
    assert await status(grp.id, b.id) == "kicked"
    sb.set_member_status(grp, b, "restricted")
    assert await status(grp.id, b.id) == "restricted"
    assert await status(grp.id, 31337) == "Bad Request: user not found"
    assert await status(a.id, b.id) == "Bad Request: user not found"
    assert await status(grp.id, 123456789) == "administrator"
    # Kicking B showed in the group (chat_member updates only come when asked for, below).
    service = (await call(api, "getUpdates"))["result"]
    assert [u["message"]["left_chat_member"]["id"] for u in service] == [b.id]
    await call(api, "getUpdates", offset=service[-1]["update_id"] + 1)
    # privacy mode: a member bot sees commands and replies only
    sb.set_member_status(grp, 123456789, "member")
    await sb.send_message(a, "plauder", chat=grp)
    await sb.send_message(a, "/start@thinka_sandbox_bot", chat=grp)
    await sb.send_message(a, "/start@other_bot", chat=grp)
    texts = [x["message"]["text"] for x in (await call(api, "getUpdates"))["result"]]
    assert texts == ["/start@thinka_sandbox_bot"]
    # bot kicked -> 403
    sb.set_member_status(grp, 123456789, "kicked")
    assert (await call(api, "sendMessage", chat_id=grp.id, text="x"))[
        "description"
    ] == "Forbidden: bot was kicked from the group chat"
    await sb.add_bot_to_group(a, grp)
    ups = (await call(api, "getUpdates", offset=-2))["result"]
    assert ups[0]["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert ups[1]["message"]["new_chat_members"][0]["id"] == 123456789
    assert (await call(api, "sendMessage", chat_id=grp.id, text="hallo"))["ok"]


async def test_leaving_a_group_is_the_last_update_from_it(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    a = sb.add_user("A")
    grp = sb.add_group("Hausgemeinschaft", kind="supergroup", members={a.id: "member"})
    sb.set_member_status(grp, sb.bot_id, "left")
    await sb.add_bot_to_group(a, grp)
    await call(api, "getUpdates", offset=-1)  # the join, read
    assert (await call(api, "leaveChat", chat_id=grp.id))["ok"]
    assert grp.bot_status == "left"
    left = (await call(api, "getUpdates", offset=-1))["result"][0]["my_chat_member"]
    assert left["from"]["id"] == sb.bot_id and left["chat"]["id"] == grp.id
    assert left["old_chat_member"]["status"] == "member"
    assert left["new_chat_member"]["status"] == "left"
    # Nothing more from the group: no commands, no messages, no edits.
    offset = (await call(api, "getUpdates", offset=-1))["result"][0]["update_id"] + 1
    sent = await sb.send_message(a, "/start@thinka_sandbox_bot", chat=grp)
    await sb.send_message(a, "Hallo?", chat=grp)
    await sb.edit_message(a, sent, "/help@thinka_sandbox_bot")
    assert (await call(api, "getUpdates", offset=offset))["result"] == []
    assert (await call(api, "sendMessage", chat_id=grp.id, text="x"))[
        "description"
    ] == "Forbidden: bot is not a member of the supergroup chat"
    assert (await call(api, "leaveChat", chat_id=grp.id))[
        "description"
    ] == "Forbidden: bot is not a member of the supergroup chat"


async def test_an_uploaded_photo_must_be_an_image_within_telegrams_limits(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    import io

    from PIL import Image

    u = sb.add_user("Photo")
    await sb.send_message(u, "/start")

    def png(width: int, height: int) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(out, format="PNG")
        return out.getvalue()

    async def upload(content: bytes) -> dict:
        r = await api.post("sendPhoto", data={"chat_id": str(u.id)}, files={"photo": content})
        return r.json()

    sent = await upload(png(1200, 2000))
    assert sent["ok"], sent
    largest = sent["result"]["photo"][-1]
    assert (largest["width"], largest["height"]) == (768, 1280)
    assert sb.uploaded_content(largest["file_id"]) == png(1200, 2000)
    assert sb.file_content(largest["file_id"]).startswith(b"\xff\xd8")  # kept as JPEG
    assert (await upload(b"not an image"))["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    assert (await upload(png(2100, 100)))["description"] == (
        "Bad Request: PHOTO_INVALID_DIMENSIONS"
    )


async def test_media_files_copy_forward(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    u = sb.add_user("Media")
    v = await sb.send_voice(u, duration=7, content=b"OggS-voice")
    assert v["voice"]["duration"] == 7
    p = await sb.send_photo(u, caption="Foto")
    s = await sb.send_sticker(u, emoji="👍")
    assert s["sticker"]["emoji"] == "👍" and p["caption"] == "Foto"
    f = (await call(api, "getFile", file_id=v["voice"]["file_id"]))["result"]
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{sb.base_file_url}{sb.token}/{f['file_path']}")
        assert r.content == b"OggS-voice"
        assert (await c.get(f"{sb.base_file_url}{sb.token}/nope/x")).status_code == 404
    assert (await call(api, "getFile", file_id="bogus"))[
        "description"
    ] == "Bad Request: invalid file_id"
    # resend by file_id, upload via multipart
    sent = await call(api, "sendVoice", chat_id=u.id, voice=v["voice"]["file_id"])
    assert sent["result"]["voice"]["file_id"] == v["voice"]["file_id"]
    assert (
        "wrong file identifier"
        in (await call(api, "sendPhoto", chat_id=u.id, photo="AgACnope"))["description"]
    )
    assert (
        "type of file mismatch"
        in (await call(api, "sendPhoto", chat_id=u.id, photo=v["voice"]["file_id"]))["description"]
    )
    assert (await call(api, "sendDocument", chat_id=u.id))[
        "description"
    ] == "Bad Request: there is no document in the request"
    r = await api.post(
        "sendDocument",
        data={"chat_id": str(u.id), "caption": "Anhang"},
        files={"document": ("info.txt", b"hello", "text/plain")},
    )
    doc = r.json()["result"]
    assert doc["document"]["file_name"] == "info.txt" and doc["caption"] == "Anhang"
    assert sb.file_content(doc["document"]["file_id"]) == b"hello"
    assert sb.messages_to(u.id)[-1].kind == "document"
    r = await api.post(
        "sendMediaGroup",
        data={
            "chat_id": str(u.id),
            "media": json.dumps(
                [
                    {"type": "photo", "media": "attach://a"},
                    {"type": "photo", "media": p["photo"][-1]["file_id"], "caption": "zwei"},
                ]
            ),
        },
        files={"a": ("a.jpg", b"jpg", "image/jpeg")},
    )
    album = r.json()["result"]
    assert len(album) == 2 and album[0]["media_group_id"] == album[1]["media_group_id"]
    assert (
        await call(
            api,
            "sendMediaGroup",
            chat_id=u.id,
            media=[{"type": "photo", "media": p["photo"][-1]["file_id"]}],
        )
    )["ok"] is False
    # copy / forward
    other = sb.add_user("Other")
    await sb.send_message(other, "hi")
    cp = await call(
        api,
        "copyMessage",
        chat_id=other.id,
        from_chat_id=u.id,
        message_id=p["message_id"],
        caption="kopiert",
    )
    assert set(cp["result"]) == {"message_id"}
    copied = sb.messages_to(other.id)[-1]
    assert copied.kind == "photo" and copied.text == "kopiert"
    assert (await call(api, "copyMessage", chat_id=other.id, from_chat_id=u.id, message_id=9999))[
        "description"
    ] == "Bad Request: message to copy not found"
    assert (await call(api, "copyMessage", chat_id=other.id, from_chat_id=-1, message_id=1))[
        "description"
    ] == "Bad Request: chat not found"
    await sb.block_bot(other)
    assert (
        await call(
            api, "copyMessage", chat_id=other.id, from_chat_id=u.id, message_id=p["message_id"]
        )
    )["error_code"] == 403
    fw = await call(
        api, "forwardMessage", chat_id=u.id, from_chat_id=u.id, message_id=v["message_id"]
    )
    assert fw["result"]["forward_origin"]["sender_user"]["id"] == u.id


async def test_json_body_and_chat_actions(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    u = sb.add_user("Json")
    await sb.send_message(u, "hi")
    events = []
    unsubscribe = sb.subscribe(events.append)
    r = await api.post(
        "sendMessage",
        json={
            "chat_id": u.id,
            "text": "*fett*",
            "parse_mode": "MarkdownV2",
            "reply_markup": {"inline_keyboard": [[{"text": "x", "url": "https://a.de"}]]},
        },
    )
    res = r.json()["result"]
    assert res["text"] == "fett" and res["entities"][0]["type"] == "bold"
    assert (await call(api, "sendChatAction", chat_id=u.id, action="dancing"))[
        "description"
    ] == "Bad Request: wrong parameter action in request"
    assert (await call(api, "sendChatAction", chat_id=u.id, action="typing"))["ok"]
    assert [e.kind for e in events] == ["sent", "chat_action"]
    unsubscribe()
    assert sb.calls[-1] == ("sendChatAction", {"chat_id": u.id, "action": "typing"})
    assert (
        await call(
            api,
            "setMessageReaction",
            chat_id=u.id,
            message_id=res["message_id"],
            reaction=[{"type": "emoji", "emoji": "🦖"}],
        )
    )["description"] == "Bad Request: REACTION_INVALID"


async def test_public_types() -> None:
    sm = SentMessage(
        message_id=1,
        chat_id=2,
        text="t",
        reply_markup={"inline_keyboard": [[{"text": "Ja", "callback_data": "y"}]]},
        parse_mode=None,
        kind="text",
        message_thread_id=None,
        raw={},
    )
    assert sm.buttons[0][0]["callback_data"] == "y" and sm.callback_data("Ja") == "y"
    with pytest.raises(KeyError):
        sm.callback_data("Nein")
    assert SandboxUser(id=5, first_name="X", language_code="fa").to_dict() == {
        "id": 5,
        "is_bot": False,
        "first_name": "X",
        "language_code": "fa",
    }


async def test_rate_limit_wire_format_and_window(api: httpx.AsyncClient, sb: BotApiSandbox) -> None:
    sb.rate_limit = 2
    u = sb.add_user("Rate")
    await sb.send_message(u, "hi")
    assert (await call(api, "sendMessage", chat_id=u.id, text="1"))["ok"]
    assert (await call(api, "editMessageText", chat_id=u.id, message_id=2, text="1b"))["ok"]
    body = await call(api, "sendMessage", chat_id=u.id, text="2")
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert (await call(api, "getMe"))["ok"]  # non-sending methods are not limited
    await asyncio.sleep(1.0)
    assert (await call(api, "sendMessage", chat_id=u.id, text="3"))["ok"]


async def test_webhook_delivery_and_idle(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    from aiohttp import web

    got: list[tuple[dict, str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        u = sb.add_user("Hook")
        assert (
            await call(
                api, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cret"
            )
        )["ok"]
        await sb.send_message(u, "via webhook")
        await sb.wait_for_idle(timeout=2)
        assert got[0][0]["message"]["text"] == "via webhook" and got[0][1] == "s3cret"
        assert (await call(api, "getWebhookInfo"))["result"]["pending_update_count"] == 0
    finally:
        await runner.cleanup()


async def test_wait_for_idle_without_bot_times_out(sb: BotApiSandbox) -> None:
    u = sb.add_user("Idle")
    await sb.wait_for_idle(timeout=0.5)  # nothing pending: idle
    await sb.send_message(u, "nobody polls")
    with pytest.raises(TimeoutError, match="1 unfetched"):
        await sb.wait_for_idle(timeout=0.2)


async def test_thread_and_topic_errors_raw(sb: BotApiSandbox, api: httpx.AsyncClient) -> None:
    staff = sb.add_user("Staff")
    forum = sb.add_group("Team", kind="supergroup", is_forum=True, members={staff.id: "member"})
    await sb.send_message(staff, "hi")
    src = (await call(api, "sendMessage", chat_id=staff.id, text="orig"))["result"]
    body = await call(
        api,
        "copyMessage",
        chat_id=forum.id,
        from_chat_id=staff.id,
        message_id=src["message_id"],
        message_thread_id=77,
    )
    assert body["description"] == "Bad Request: message thread not found"
    tid = await sb.create_forum_topic(staff, forum, "Von Nutzerin")
    up = (await call(api, "getUpdates"))["result"][-1]["message"]
    assert up["forum_topic_created"]["name"] == "Von Nutzerin" and up["message_thread_id"] == tid
    sb.set_member_status(forum, 123456789, "member")
    assert (await call(api, "createForumTopic", chat_id=forum.id, name="x"))[
        "description"
    ] == "Bad Request: not enough rights to manage topics"
    assert (await call(api, "sendMessage", chat_id=staff.id, text="x", message_thread_id=5))[
        "description"
    ] == "Bad Request: message thread not found"


async def test_members_leaving_or_removed_are_reported_as_chat_member_updates(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    """As Telegram does: only to a bot that is an administrator and asked for chat_member."""
    admin, boris, clara, dora = (sb.add_user(n) for n in ("Admin", "Boris", "Clara", "Dora"))
    members = {admin.id: "creator", boris.id: "member", clara.id: "member", dora.id: "member"}
    team = sb.add_group("Team", kind="supergroup", is_forum=True, members=members)
    await call(api, "getUpdates", allowed_updates=["message", "chat_member"])
    await sb.leave_group(boris, team)
    await sb.remove_from_group(admin, team, clara)
    sb.set_member_status(team, dora, "restricted", by=admin, is_member=False)
    updates = (await call(api, "getUpdates"))["result"]
    changes = [u["chat_member"] for u in updates if "chat_member" in u]
    assert [(c["from"]["id"], c["new_chat_member"]["user"]["id"]) for c in changes] == [
        (boris.id, boris.id),
        (admin.id, clara.id),
        (admin.id, dora.id),
    ]
    assert [c["old_chat_member"]["status"] for c in changes] == ["member"] * 3
    assert [c["new_chat_member"]["status"] for c in changes] == ["left", "kicked", "restricted"]
    assert changes[2]["new_chat_member"]["is_member"] is False
    left = [u["message"]["left_chat_member"]["id"] for u in updates if "message" in u]
    assert left == [boris.id, clara.id, dora.id]
    body = await call(api, "getChatMember", chat_id=team.id, user_id=dora.id)
    assert body["result"]["status"] == "restricted" and body["result"]["is_member"] is False
    with pytest.raises(ValueError, match="not in chat"):
        await sb.send_message(boris, "noch da?", chat=team)  # who left cannot write there
    # A bot that is no administrator is not told, and one that did not ask is not either.
    await call(api, "getUpdates", offset=updates[-1]["update_id"] + 1)
    sb.set_member_status(team, sb.bot_id, "member")
    sb.set_member_status(team, admin, "administrator", by=admin)
    sb.set_member_status(team, sb.bot_id, "administrator")
    await call(api, "getUpdates", allowed_updates=["message"])
    sb.set_member_status(team, admin, "creator", by=admin)
    assert (await call(api, "getUpdates"))["result"] == []


async def test_fail_next_answers_like_a_bad_day_at_telegram(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    u = sb.add_user("Rana")
    await sb.send_message(u, "hi")
    sb.fail_next("sendMessage", status=500, times=2)
    sb.fail_next(
        "SENDMESSAGE", status=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    first = await call(api, "sendMessage", chat_id=u.id, text="a")
    assert (first["error_code"], first["description"]) == (500, "Internal Server Error")
    assert (await call(api, "sendMessage", chat_id=u.id, text="a"))["error_code"] == 500
    limited = await call(api, "sendMessage", chat_id=u.id, text="a")
    assert limited["error_code"] == 429 and limited["parameters"] == {"retry_after": 3}
    assert (await call(api, "sendMessage", chat_id=u.id, text="a"))["ok"] is True
    assert [m.text for m in sb.messages_to(u.id)] == ["a"]  # failed calls sent nothing


async def test_a_photo_is_stored_as_telegram_does_and_big_files_are_not_served(
    sb: BotApiSandbox,
) -> None:
    """A photo is re-encoded as JPEG of at most 1280 px and says its real size; a file over
    20 MB is refused by getFile ("file is too big"), as the Bot API does; an expandable quote
    parses as Telegram's entity."""
    import io

    from PIL import Image
    from telegram import Bot

    u = sb.add_user("Dmitri", language_code="ru")
    original = io.BytesIO()
    Image.new("RGB", (2480, 3508), "white").save(original, "PNG")
    sent = await sb.send_photo(u, content=original.getvalue())
    small, large = sent["photo"]
    assert (large["width"], large["height"]) == (905, 1280)
    assert (small["width"], small["height"]) == (64, 90)
    async with Bot(TOKEN, base_url=sb.base_url, base_file_url=sb.base_file_url) as bot:
        file = await bot.get_file(large["file_id"])
        photo = Image.open(io.BytesIO(bytes(await file.download_as_bytearray())))
        assert photo.format == "JPEG" and photo.size == (905, 1280)
        big = await sb.send_document(u, file_name="scan.pdf", content=b"%PDF" + b"0" * 20_971_520)
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(big["document"]["file_id"])
        quote = await bot.send_message(
            u.id,
            "Brief:\n<blockquote expandable>Sehr geehrter Herr</blockquote>",
            parse_mode="HTML",
        )
        assert [(e.type, e.offset, e.length) for e in quote.entities] == [
            ("expandable_blockquote", 7, 18)
        ]


# -- faults of the network and of other Bot API versions (bot/sandbox/faults_incoming.py) ----------


async def test_reset_next_closes_the_connection_without_an_answer(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    u = sb.add_user("Rana")
    await sb.send_message(u, "hi")
    sb.reset_next("sendMessage")
    with pytest.raises(httpx.RemoteProtocolError):
        await api.post("sendMessage", data={"chat_id": str(u.id), "text": "a"})
    assert sb.messages_to(u.id) == []  # not carried out
    sb.reset_next("sendMessage", carried_out=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.post("sendMessage", data={"chat_id": str(u.id), "text": "b"})
    assert [m.text for m in sb.messages_to(u.id)] == ["b"]  # sent, only the answer was lost
    assert (await call(api, "sendMessage", chat_id=u.id, text="c"))["ok"] is True


async def test_a_reset_getupdates_that_was_carried_out_confirms_its_offset(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    u = sb.add_user("Rana")
    await sb.send_message(u, "one")
    first = (await call(api, "getUpdates"))["result"][0]["update_id"]
    await sb.send_message(u, "two")
    sb.reset_next("getUpdates", carried_out=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.post("getUpdates", data={"offset": str(first + 1)})
    assert first in sb.confirmed_update_ids  # Telegram saw the offset
    again = (await call(api, "getUpdates", offset=first + 1))["result"]
    assert [x["message"]["text"] for x in again] == ["two"]  # the lost answer, once more


async def test_stall_next_outlasts_the_clients_timeout_and_only_matching_calls(
    sb: BotApiSandbox,
) -> None:
    from telegram import Bot
    from telegram.error import TimedOut

    a, b = sb.add_user("A"), sb.add_user("B")
    await sb.send_message(a, "hi")
    await sb.send_message(b, "hi")
    sb.stall_next("sendMessage", 5, where={"chat_id": b.id})
    async with Bot(sb.token, base_url=sb.base_url) as bot:
        await bot.send_message(a.id, "not stalled", read_timeout=1)
        with pytest.raises(TimedOut):
            await bot.send_message(b.id, "stalled", read_timeout=0.3)
        await bot.send_message(b.id, "once only", read_timeout=1)
    assert [m.text for m in sb.messages_to(b.id)] == ["once only"]


async def test_flood_next_and_latency_as_python_telegram_bot_sees_them(sb: BotApiSandbox) -> None:
    from telegram import Bot

    from bot.core.retry import retry_after_seconds

    u = sb.add_user("Rana")
    await sb.send_message(u, "hi")
    sb.flood_next("getUpdates", retry_after=3)
    async with Bot(sb.token, base_url=sb.base_url) as bot:
        with pytest.raises(RetryAfter) as flood:
            await bot.get_updates()
        assert retry_after_seconds(flood.value) == 3
        sb.set_latency(0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await bot.send_message(u.id, "slow")
        assert loop.time() - started >= 0.2


async def test_a_poll_answer_of_an_older_bot_api_is_what_python_telegram_bot_cannot_read(
    sb: BotApiSandbox, api: httpx.AsyncClient
) -> None:
    u = sb.add_user("Rana")
    sb.send_poll_answer(u, "p1", [0])
    sb.send_poll_answer(u, "p2", [1], api_9_6=False)
    current, older = (await call(api, "getUpdates"))["result"]
    assert Update.de_json(current, None).poll_answer.option_persistent_ids == ("0",)
    assert "option_persistent_ids" not in older["poll_answer"]
    with pytest.raises(TypeError, match="option_persistent_ids"):
        Update.de_json(older, None)
