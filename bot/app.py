"""The composition root: builds the Application, registers every handler in one visible order,
and owns start-up and shutdown (database, services, command menus)."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from telegram import Bot, ChatMember, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import jobs
from bot.appointments.notices import AppointmentNotifier
from bot.appointments.reminders import Reminders
from bot.appointments.repository import AppointmentRepository
from bot.appointments.service import AppointmentService
from bot.cases import envelopes
from bot.cases.repository import CaseRepository
from bot.cases.service import CaseService
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.crypto import open_cipher
from bot.core.db import Database
from bot.core.i18n import STAFF_LANGUAGE, I18n
from bot.core.outgoing import Outgoing
from bot.core.recent import Recent
from bot.events.broadcasts import Broadcasts
from bot.events.repository import BROADCAST_RENDERER, EventRepository
from bot.events.service import EventService
from bot.letters.envelopes import LetterEnvelopes
from bot.letters.reader import LetterReader
from bot.letters.repository import LetterRepository
from bot.letters.service import LetterService
from bot.org.orgdata import load_organisation
from bot.outreach.deeplinks import district_slugs
from bot.outreach.repository import OutreachRepository
from bot.outreach.service import OutreachService
from bot.privacy.erasure import Erasure
from bot.privacy.repository import PersonalDataRepository
from bot.reporting.service import ReportService
from bot.residents.repository import ResidentRepository
from bot.residents.service import ResidentService
from bot.selfhelp.content import placeholders as content_placeholders
from bot.selfhelp.repository import ContentStore, SelfHelpRepository
from bot.services import Services
from bot.staff.directory import LookupRefused, StaffDirectory
from bot.text.crisis import CrisisDetector
from bot.translation import providers as translation_providers
from bot.translation.repository import TranslationRepository
from bot.translation.service import TranslationService
from bot.transport import command_menu
from bot.transport.alerts import AdminAlerts
from bot.transport.courier import Courier, Limits
from bot.transport.inbox import Inbox, InboxRepository
from bot.transport.intake import Intake
from bot.transport.letter_notices import TelegramPages
from bot.transport.outage import StorageOutage
from bot.transport.parked import ParkedNotices
from bot.transport.polling import Poller
from bot.transport.relay import Relay
from bot.transport.update_processor import ChatOrderedProcessor
from handlers import router
from handlers.gates import crisis, errors, gate, membership
from handlers.resident import appointments, events, menu, onboarding, privacy, requests, selfhelp
from handlers.shared import fallback, keyboards
from handlers.shared.context import SERVICES_KEY, BotContext
from handlers.staff import appointments as appointment_staff
from handlers.staff import commands as staff
from handlers.staff import delivery, queue
from handlers.staff import events as event_staff
from handlers.staff import group as staff_group
from handlers.staff import letters as letter_staff

if TYPE_CHECKING:
    from bot.transport.webhook import WebhookReceiver

logger = logging.getLogger(__name__)

SETTINGS_KEY = "settings"
CLOCK_KEY = "clock"
RECEIVER_KEY = "receiver"
INTAKE_KEY = "intake"
ALERTS_KEY = "alerts"
LIMITS_KEY = "limits"
# SIGTERM: how long the updates under way may take to finish; what waits stays in the inbox.
DRAIN_TIMEOUT = 5.0


# Idle connections the handlers' HTTP client keeps open. httpcore looks at every open connection
# on every request (is it idle? has the server closed it? a poll(2) and a dict of socket details
# each), so a pool grown to 30 in a burst made every later request pay for 30: with 8 the bot
# needs 4.0–4.3 ms of CPU per update instead of 4.9–5.3, and answers 15–30 % more updates a
# second (bench/throughput.py, docs/performance.md; 4 was the same as 8, 16 in between). More
# connections than that are still opened when needed, and closed after.
KEEP_ALIVE_CONNECTIONS = 8


def _handlers_request() -> HTTPXRequest:
    """python-telegram-bot's default client (256 connections at most), keeping fewer idle."""
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=KEEP_ALIVE_CONNECTIONS)
    return HTTPXRequest(connection_pool_size=256, httpx_kwargs={"limits": limits})


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rate_limiter: AIORateLimiter | None = None,
    limits: Limits | None = None,
) -> Application:
    """An Application for `settings`; services are created in `on_startup`.

    The default rate limiter keeps the handlers' direct answers to Telegram's flood limits (30
    messages a second, 20 a minute per group) and retries a 429 up to three times after the wait
    Telegram names. What carries state goes through the courier, with its own `limits`
    (bot/transport/courier.py; the default is Telegram's, at THINKA_BROADCAST_RATE).

    There is no python-telegram-bot Updater: it confirms updates to Telegram before they are
    handled. Updates arrive through bot/transport/polling.py or bot/transport/webhook.py, which
    store them in the durable inbox first (bot/transport/intake.py), and are handled by chat, in
    order, chats in turn (bot/transport/update_processor.py).
    """
    application = (
        ApplicationBuilder()
        .token(settings.require_token())
        .updater(None)
        .concurrent_updates(ChatOrderedProcessor())
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .context_types(ContextTypes(context=BotContext))
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .request(_handlers_request())
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data[SETTINGS_KEY] = settings
    application.bot_data[CLOCK_KEY] = clock or Clock()
    application.bot_data[LIMITS_KEY] = limits or Limits(
        rate=settings.broadcast_rate, group_per_minute=settings.staff_group_rate
    )
    register_handlers(application)
    return application


def _command(name: str, callback) -> CommandHandler:
    # New messages only: an edited "/delete" must not run the command a second time.
    return CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE)


def _button(pattern: str, callback) -> CallbackQueryHandler:
    return CallbackQueryHandler(callback, pattern=pattern)


# Messages that belong in a case: what residents send and staff answer with.
CASE_CONTENT = (
    filters.TEXT
    | filters.PHOTO
    | filters.Document.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
)


def register_handlers(application: Application) -> None:
    settings: Settings = application.bot_data[SETTINGS_KEY]
    # Group -4: somebody left or was removed from the staff group: access ends before anything
    # else is handled (no gate may stop this, whoever made the change).
    application.add_handler(
        ChatMemberHandler(membership.staff_membership_changed, ChatMemberHandler.CHAT_MEMBER),
        group=-4,
    )
    # Group -3: who is this, which language, do we serve this chat at all.
    application.add_handler(TypeHandler(Update, gate.load_resident), group=-3)
    # Group -2: signs of acute danger get the emergency numbers first, consent or not.
    application.add_handler(TypeHandler(Update, crisis.check), group=-2)
    # Group -1: without consent only onboarding, help, privacy and contact information.
    application.add_handler(TypeHandler(Update, gate.require_consent), group=-1)

    # Group 0, first match wins, so the catch-alls come last.
    # Staff commands that work in the staff group and in a private chat alike.
    application.add_handler(_command("closed", appointment_staff.closed_day))
    application.add_handler(_command("frist", letter_staff.deadline))
    if settings.staff_chat_id is not None:
        # Case topics in the staff group; everything else said there is left alone.
        application.add_handlers(staff_group.handlers(settings.staff_chat_id))
    application.add_handlers(
        [
            ChatMemberHandler(membership.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
            # Commands
            _command("start", onboarding.start),
            _command("menu", menu.menu),
            _command("help", menu.help_command),
            _command("language", menu.language),
            _command("privacy", privacy.privacy),
            _command("delete", privacy.ask_to_delete),
            _command("mydata", privacy.my_data),
            _command("audit", staff.audit),
            _command("mycases", requests.my_cases),
            _command("appointments", appointments.my_appointments),
            _command("events", events.events_command),
            _command("unsubscribe", events.unsubscribe),
            _command("newevent", event_staff.new_event),
            _command("broadcast", event_staff.new_notice),
            _command("cancel", event_staff.cancel_draft),
            _command("stats", staff.stats),
            _command("queue", queue.show_queue),
            _command("reload", selfhelp.reload),
            # Buttons
            _button(rf"^{keyboards.LANGUAGE_PREFIX}", onboarding.choose_language),
            # ":<n>" on the notice's buttons: the poster's link the resident came through.
            _button(rf"^{keyboards.CONSENT_AGREE}(:\d+)?$", onboarding.agree),
            _button(rf"^{keyboards.CONSENT_SHOW}(:\d+)?$", onboarding.show_consent),
            _button(rf"^{keyboards.MENU}$", menu.menu),
            _button(rf"^{keyboards.MENU_CONTACT}(:\d+)?$", menu.contact),
            _button(rf"^{keyboards.MENU_HELP}$", menu.help_command),
            _button(rf"^{keyboards.MENU_LANGUAGE}$", menu.language),
            _button(rf"^{keyboards.MENU_PRIVACY}$", privacy.privacy),
            _button(rf"^({keyboards.MENU_ASK}|{keyboards.REQUEST_NEW})$", requests.ask),
            _button(rf"^{keyboards.MENU_INFO}$", selfhelp.info),
            # "I still want to ask" and "back" go on with the request; the rest browses answers.
            _button(
                rf"^({selfhelp.ASK}$|{selfhelp.ASK}:|{selfhelp.BACK})", requests.quick_answer_button
            ),
            _button(rf"^{selfhelp.PREFIX}", selfhelp.button),
            _button(rf"^{keyboards.REQUEST_TOPIC_PREFIX}", requests.choose_topic),
            _button(rf"^{keyboards.REQUEST_DISTRICT_PREFIX}", requests.choose_district),
            _button(rf"^{keyboards.MY_CASES}$", requests.my_cases),
            _button(rf"^{keyboards.REQUEST_LANGUAGE_PREFIX}", requests.switch_language),
            _button(rf"^{keyboards.MENU_APPOINTMENT}$", appointments.start),
            _button(rf"^{appointments.PREFIX}", appointments.step),
            _button(rf"^{keyboards.MENU_EVENTS}$", events.show_events),
            _button(rf"^{events.PREFIX}", events.button),
            _button(rf"^({event_staff.NEW}|{event_staff.MANAGE})", event_staff.button),
            _button(rf"^{keyboards.DELETE_ASK}$", privacy.ask_to_delete),
            _button(rf"^{keyboards.DELETE_CONFIRM}$", privacy.delete),
            _button(rf"^{keyboards.DELETE_CANCEL}$", privacy.keep),
            _button(rf"^{keyboards.TRANSLATION_PREFIX}", privacy.toggle_translation),
            # Staff buttons check staff status themselves: their data can be forged anywhere.
            _button(rf"^{queue.QUEUE_PREFIX}", queue.queue_button),
            # "Send again" and "copy the files here" under the courier's reports.
            _button(delivery.PATTERN, delivery.button),
            staff_group.card_button_handler(),
            _button(rf"^{appointment_staff.PREFIX}", appointment_staff.button),
            _button(rf"^{letter_staff.PREFIX}", letter_staff.button),
            # Every other private message: handlers/router.py says who is waiting for it.
            MessageHandler(
                filters.ChatType.PRIVATE
                & filters.UpdateType.MESSAGE
                & ~filters.COMMAND
                & CASE_CONTENT,
                router.private_message,
            ),
            # Catch-alls: never silence in a private chat.
            MessageHandler(filters.UpdateType.EDITED, fallback.edited_message),
            MessageHandler(filters.ALL, fallback.unknown_message),
            CallbackQueryHandler(fallback.unknown_button),
        ]
    )
    application.add_error_handler(errors.on_error)


async def on_startup(application: Application) -> None:
    """post_init: open and migrate the database, build the services, install command menus."""
    settings: Settings = application.bot_data[SETTINGS_KEY]
    clock: Clock = application.bot_data[CLOCK_KEY]
    org = load_organisation(settings.config_path)
    i18n = I18n(settings.timezone)
    db = await Database.open(settings.db_path)
    try:
        await db.migrate()
        cipher = await open_cipher(db, settings.encryption_keys, settings.keys_path)
    except Exception:
        await db.close()
        raise
    # The one durable path out: features queue what they send in `outgoing`, in the
    # transaction of the change that causes it; the courier sends it (docs/architecture.md).
    outgoing = Outgoing(db, cipher)
    repository = ResidentRepository(db)
    content = ContentStore(settings.content_path)
    case_repository = CaseRepository(
        db, cipher, outgoing, today=lambda: clock.now().astimezone(settings.timezone).date()
    )
    appointment_repository = AppointmentRepository(db, cipher, outgoing)
    # The courier sends through a Bot of its own, without AIORateLimiter: a 429 must pause only
    # that chat (or the pacing), never the handlers' direct answers, and never make the courier
    # sleep inside a call.
    limits: Limits = application.bot_data[LIMITS_KEY]
    courier = Courier(
        Bot(
            settings.require_token(),
            base_url=settings.api_base_url,
            base_file_url=settings.api_file_url,
            request=HTTPXRequest(
                connection_pool_size=limits.in_flight + limits.in_flight_broadcast
            ),
        ),
        outgoing,
        db,
        clock,
        i18n,
        staff_chat_id=settings.staff_chat_id,
        admin_ids=settings.admin_ids,
        limits=limits,
    )
    # The relay edits topics in place through the courier's Bot: its edits must not wait in
    # (nor use up) AIORateLimiter's group budget that the handlers' direct answers need.
    relay = Relay(
        courier.bot,
        case_repository,
        outgoing,
        clock,
        i18n,
        settings.staff_chat_id,
        notices=appointment_repository,
    )
    relay.register(courier)
    selfhelp_counts = SelfHelpRepository(db)
    cases = CaseService(
        case_repository,
        clock,
        staff_chat_enabled=settings.staff_chat_id is not None,
        staff_tr=i18n.translator(STAFF_LANGUAGE),
        on_change=relay.kick,
        on_queue=courier.kick,
        suggest=lambda case, text: [
            answer.id for answer in content.current.match(text, case.language, case.topic)
        ],
        asked=lambda case: selfhelp_counts.record(
            case.suggested, "asked", case.language, clock.now(), case.id
        ),
    )
    if settings.ocr and importlib.util.find_spec("tesserocr") is None:
        logger.warning("THINKA_OCR is on, but tesserocr is missing: letters will not be read")
    letters = LetterService(
        LetterRepository(db, cipher, outgoing),
        cases,
        LetterReader() if settings.ocr else None,
        TelegramPages(application.bot),
        LetterEnvelopes(staff_group=settings.staff_chat_id is not None),
        content,
        i18n,
        clock,
        settings.timezone,
        on_change=relay.kick,
        on_queue=courier.kick,
    )
    notifier = AppointmentNotifier(i18n, org)
    event_repository = EventRepository(db, outgoing)
    provider = translation_providers.build(settings)
    translation_info = provider[1] if provider else None
    translation = TranslationService(
        provider[0] if provider else None,
        translation_info,
        TranslationRepository(db, cipher),
        i18n,
        clock,
        timeout=settings.translate_timeout,
    )
    relay.translate_with(translation)  # copies and answers translated when they are sent
    # With translation on, the privacy notice names the provider: a notice of its own.
    residents = ResidentService(
        repository,
        clock,
        translation_notice=translation_info.notice_number if translation_info else 0,
    )
    broadcasts = Broadcasts(
        application.bot, event_repository, outgoing, clock, i18n, on_queue=courier.kick
    )
    courier.renderer(BROADCAST_RENDERER, broadcasts.render)
    courier.watch_batches(broadcasts.moved)
    personal_data = PersonalDataRepository(db, cipher)
    erasure = Erasure(personal_data, db, cipher.store, clock, settings.backup_days)
    # A restored backup may hold residents erased after it was made: erased again first.
    await erasure.erase_again()
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        clock=clock,
        db=db,
        org=org,
        i18n=i18n,
        residents=residents,
        staff=StaffDirectory(
            settings.admin_ids,
            settings.staff_chat_id,
            partial(_member_status, application.bot),
            clock,
        ),
        cases=cases,
        relay=relay,
        courier=courier,
        appointments=AppointmentService(
            appointment_repository,
            cases,
            org,
            clock,
            settings.timezone,
            i18n.translator(STAFF_LANGUAGE),
            on_notice=courier.kick,
            notifier=notifier,
        ),
        events=EventService(event_repository, clock, i18n, on_broadcast=courier.kick),
        broadcasts=broadcasts,
        crisis=CrisisDetector(i18n),
        # Telegram lets people edit a message for 48 hours.
        crisis_answered=Recent(clock, timedelta(hours=48)),
        personal_data=personal_data,
        erasure=erasure,
        reports=ReportService(db, settings.timezone),
        inbox=Inbox(InboxRepository(db, cipher), clock),
        content=content,
        selfhelp=selfhelp_counts,
        translation=translation,
        letters=letters,
        outreach=OutreachService(OutreachRepository(db), district_slugs(org.locations)),
        reminders=Reminders(
            appointment_repository,
            notifier,
            org,
            clock,
            i18n,
            settings.timezone,
            settings.staff_chat_id,
            settings.admin_ids,
            on_queue=courier.kick,
        ),
    )
    services: Services = application.bot_data[SERVICES_KEY]
    # What residents read is rendered by their handlers, in their language, when it is sent.
    courier.renderer(envelopes.CONFIRMATION, partial(requests.render_confirmation, services))
    courier.renderer(envelopes.CLOSED, partial(requests.render_closed, services))
    courier.renderer(envelopes.OFFER, partial(selfhelp.render_offer, services))
    courier.hook(envelopes.OFFERED, partial(selfhelp.offered, services))
    # Intake: stored updates to the handlers; what the bot says about itself goes out directly.
    alerts = AdminAlerts(application.bot, settings.admin_ids)
    intake = Intake(
        application.bot,
        services.inbox,
        application.update_queue,
        outage=StorageOutage(alerts, i18n),
        alerts=alerts,
        staff_tr=i18n.translator(STAFF_LANGUAGE),
    )
    processor = application.update_processor
    assert isinstance(processor, ChatOrderedProcessor)
    intake.put_back = processor.put_back
    intake.starts_at_once = processor.max_in_flight  # stored as started when they run at once
    processor.bind(
        application,
        intake,
        ParkedNotices(
            application.bot,
            i18n,
            alerts,
            residents,
            cases,
            relay,
            courier,
            settings.staff_chat_id,
            forget_content=services.inbox.repository.forget_payload,
        ),
    )
    application.bot_data[INTAKE_KEY] = intake
    application.bot_data[ALERTS_KEY] = alerts
    assert application.job_queue is not None
    jobs.schedule(application.job_queue, services)
    # Sends what is due, including what a previous run could not deliver; what a killed run
    # left under way is marked uncertain and shown to staff.
    await courier.start()
    await relay.start()
    await broadcasts.catch_up()
    # Reads the letters still pending, also those a previous run stored but did not read.
    letters.start()
    if org.placeholders:
        logger.warning(
            "organisation data still has %d placeholders to fill in: %s",
            len(org.placeholders),
            ", ".join(org.placeholders),
        )
    unfilled = list(content_placeholders(content.current))
    if unfilled:
        logger.warning(
            "the Wegweiser (content/wegweiser.toml) has %d details to fill in, e.g. %s",
            len(unfilled),
            ", ".join(unfilled[:5]),
        )
    if translation_info is not None:
        logger.info(
            "machine translation: %s at %s%s",
            translation_info.name,
            translation_info.host,
            f" ({translation_info.model})" if translation_info.model else "",
        )
        await translation.check()
    else:
        logger.info("machine translation: off (THINKA_TRANSLATE not set)")
    if settings.staff_chat_id is not None:
        await check_staff_group(application.bot, settings.staff_chat_id)
    await command_menu.install_command_menus(
        application.bot, i18n, settings.admin_ids, settings.staff_chat_id
    )
    logger.info("bot @%s ready", application.bot.username)


async def check_staff_group(bot: Bot, chat_id: int) -> bool:
    """Say plainly at start-up what is wrong with the staff group, instead of failing later at
    the first case. The bot keeps running: /queue works without the group."""
    try:
        chat = await bot.get_chat(chat_id)
        me = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as error:
        logger.error(
            "THINKA_STAFF_CHAT_ID %s cannot be reached (%s): add the bot to the group",
            chat_id,
            error.message,
        )
        return False
    problems = []
    if not chat.is_forum:
        problems.append("the group has no topics (enable Topics in the group settings)")
    if me.status != ChatMember.ADMINISTRATOR or not getattr(me, "can_manage_topics", False):
        problems.append("the bot must be an administrator allowed to manage topics")
    if problems:
        logger.error(
            "staff group %s: %s; cases stay in /queue until then", chat_id, "; ".join(problems)
        )
        return False
    return True


async def on_shutdown(application: Application) -> None:
    """post_shutdown: close the database (an open aiosqlite thread keeps the process alive)."""
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    application.bot_data.pop(INTAKE_KEY, None)
    alerts: AdminAlerts | None = application.bot_data.pop(ALERTS_KEY, None)
    if alerts is not None:
        await alerts.close()
    if services is not None:
        await services.courier.stop()
        await services.letters.stop()
        await services.relay.stop()
        await services.inbox.flush()
        await services.translation.close()
        await services.db.close()


# What Telegram answers for somebody it does not know as a participant of the chat: a "no".
NOT_A_MEMBER = ("user not found", "member not found", "participant_id_invalid", "user_id_invalid")


async def _member_status(bot: Bot, chat_id: int, user_id: int) -> str | None:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except BadRequest as exc:
        if any(answer in exc.message.lower() for answer in NOT_A_MEMBER):
            return None
        # "chat not found", CHAT_ADMIN_REQUIRED …: the bot cannot see the staff group's members.
        raise LookupRefused(exc.message) from exc
    except Forbidden as exc:
        raise LookupRefused(exc.message) from exc
    if member.status == ChatMember.RESTRICTED:
        return ChatMember.MEMBER if getattr(member, "is_member", False) else None
    return member.status


@asynccontextmanager
async def running(
    application: Application, *, poll_timeout: int = 1, webhook: bool = False
) -> AsyncIterator[Application]:
    """Run the bot inside the current event loop: start-up, what the previous run left in the
    inbox, then the receiver (long polling, or the webhook with `webhook=True`); on leaving,
    the reverse: stop receiving, finish the updates under way (DRAIN_TIMEOUT at most; the rest
    stays pending in the inbox), flush, close the database."""
    settings: Settings = application.bot_data[SETTINGS_KEY]
    receiver: Poller | WebhookReceiver | None = None
    intake: Intake | None = None
    await application.initialize()
    try:
        await on_startup(application)
        await application.start()
        intake = application.bot_data[INTAKE_KEY]
        await intake.open()
        receiver = _receiver(application, settings, intake, poll_timeout, webhook)
        application.bot_data[RECEIVER_KEY] = receiver
        await receiver.start()
        yield application
    finally:
        if receiver is not None:
            await receiver.stop()
            application.bot_data.pop(RECEIVER_KEY, None)
        if intake is not None:
            await intake.stop()
        processor = application.update_processor
        if isinstance(processor, ChatOrderedProcessor):
            await processor.drain(DRAIN_TIMEOUT)
        if application.running:
            await application.stop()
        await on_shutdown(application)
        await application.shutdown()


def _receiver(
    application: Application, settings: Settings, intake: Intake, poll_timeout: int, webhook: bool
) -> Poller | WebhookReceiver:
    if not webhook:
        return Poller(application.bot, intake, timeout=poll_timeout)
    if not settings.webhook_url or not settings.webhook_secret:
        raise ValueError("webhook mode needs THINKA_WEBHOOK_URL and THINKA_WEBHOOK_SECRET")
    # Imported here: aiohttp's server takes a tenth of a second to import, which a bot in
    # polling mode (the usual case) need not pay at every start (bench/coldstart.py).
    from bot.transport.webhook import WebhookReceiver

    return WebhookReceiver(
        application.bot,
        intake,
        url=settings.webhook_url,
        path=urlsplit(settings.webhook_url).path,
        secret=settings.webhook_secret,
        listen=settings.webhook_listen,
    )


async def settled(application: Application) -> None:
    """Return once nothing is under way: every fetched update stored and handled, and nothing
    being sent or read. Quiet HTTP alone is not idle: a handler may be writing to the database
    between two requests (the demo and the tests wait with this)."""
    receiver = application.bot_data.get(RECEIVER_KEY)
    if receiver is not None:
        await receiver.settled()
    intake = application.bot_data.get(INTAKE_KEY)
    if intake is not None:
        await intake.settled()
    await application.update_queue.join()
    services = application.bot_data.get(SERVICES_KEY)
    if services is not None and application.running:
        await services.relay.settled()
        await services.courier.settled()
        await services.letters.settled()


def run(application: Application, settings: Settings) -> None:
    """Block until SIGINT/SIGTERM: webhook when THINKA_WEBHOOK_URL is set, else long polling."""
    asyncio.run(serve(application, settings))


async def serve(application: Application, settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, or until receiving or feeding updates dies: then the error is
    raised after an orderly stop (a refused token, or IntakeFailed), and the command line
    exits non-zero so that the supervisor (docker, systemd) starts the bot again."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running(application, poll_timeout=50, webhook=bool(settings.webhook_url)):
        receiver: Poller | WebhookReceiver = application.bot_data[RECEIVER_KEY]
        intake: Intake = application.bot_data[INTAKE_KEY]
        logger.info("running; SIGTERM or Ctrl-C stops")
        waiting = [
            asyncio.create_task(stop.wait()),
            asyncio.create_task(receiver.failed.wait()),
            asyncio.create_task(intake.failed.wait()),
        ]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for task in waiting:
            task.cancel()
        logger.info("stopping: finishing the updates under way")
    logger.info("stopped")
    fatal = receiver.fatal or intake.fatal
    if fatal is not None:
        raise fatal  # the command line turns it into one line and a non-zero exit status
