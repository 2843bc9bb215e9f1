"""Slack front end: answers mentions, DMs and `/papertrail` in threads with cited Block Kit replies (slack-bolt);
`/papertrail new` lists the papers of the latest sync, and a digest channel gets them once after each sync;
`/papertrail watch <topic>`, `watches` and `unwatch <id>` manage watches, whose matches the same poller sends.

Socket Mode when SLACK_APP_TOKEN is set, else an HTTP endpoint at /slack/events served by waitress, a
production WSGI server, whose requests are checked (401/400) before bolt sees them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from pydantic import SecretStr
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from waitress import create_server
from waitress.server import BaseWSGIServer

import rag

from .settings import SlackSettings
from .slack_blocks import (
    ASK_ABOUT_ACTION,
    FEEDBACK_ACTION,
    TEXT_LIMIT,
    answer_blocks,
    batch_blocks,
    batch_text,
    escape,
    fallback_text,
    match_blocks,
    match_text,
    mention,
    rated_blocks,
    trim,
    unescape,
    watches_text,
)

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HTTP_THREADS = 8
"""Requests waitress handles at once in HTTP mode; each takes milliseconds, as answering happens after the ack."""
LISTEN_BACKLOG = 1024
"""Connections the kernel queues for the HTTP server (wsgiref's 5 reset bursts of deliveries)."""
MAX_BODY_BYTES = 1_000_000
"""Largest request body HTTP mode accepts (Slack's payloads are a few kilobytes); waitress answers a larger one
413 as soon as its Content-Length (or, chunked, the bytes so far) says so, without reading the rest."""
MAX_AGE_S = 5 * 60
"""A request signed longer ago than this is refused (Slack's rule), so a captured request cannot be replayed later."""
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
PAYLOAD_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError)
"""What bolt raises on a body that is not JSON, or JSON of the wrong shape (a list, an event that is a string)."""
EDIT_INTERVAL_S = 1.0
"""Least time between two in-place edits of a streaming reply (Slack rate-limits chat.update)."""
REMEMBERED = 2000
"""How many event keys and answers the bot remembers, for de-duplication and the feedback buttons."""
ANSWER_EVENT = "papertrail_answer"
QUESTION_EVENT = "papertrail_question"
SEARCHING = ":mag: Searching the abstracts…"
TOO_OLD = "This answer is too old to rate, sorry."
APOLOGY = "Sorry, something went wrong while answering. Please try again later."
NEW_COMMAND = "new"
WATCH_COMMANDS = ("watch", "watches", "unwatch")
SLACK_OWNER = "slack:"
"""Prefix of the owner of a watch made in Slack (then the user id): the digest thread delivers their matches."""
NOTHING_NEW = "No sync has added papers yet: run `papertrail sync` (or press Update in the web UI)."
_MENTION = re.compile(r"<@[A-Z0-9]+>")


class Recent:
    """A bounded, thread-safe map of the latest keys; the oldest are forgotten first."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add_new(self, key: str, value: Any = None) -> bool:
        """Remember `key`; False when it was already remembered (a duplicate)."""
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
            return True

    def pop(self, key: str) -> Any:
        """The value stored under `key`, forgotten; None when unknown."""
        with self._lock:
            return self._items.pop(key, None)


class Bot:
    """The listeners: one answer per question, in its thread, with history, progress and feedback."""

    def __init__(self, settings: rag.Settings) -> None:
        self.settings = settings
        self.seen = Recent()
        self.answers = Recent()

    def register(self, app: App) -> None:
        """Attach the listeners to a bolt app."""
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command("/papertrail")(self.on_command)
        app.action(re.compile(f"^{FEEDBACK_ACTION}(up|down)$"))(self.on_feedback)
        app.action(ASK_ABOUT_ACTION)(self.on_ask_about)
        app.error(self.on_error)

    @staticmethod
    def on_error(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
        """bolt's error handler, one log line and no traceback: a signed payload that bolt's middleware cannot
        handle (a field of the wrong kind) gets 400; a listener failing after the acknowledgement is logged."""
        what = f"{type(error).__name__}: {' '.join(str(error).splitlines())}"
        if response is None:
            log.error("a Slack listener failed after acknowledging its request: %s", what)
            return None
        if isinstance(error, PAYLOAD_ERRORS):
            log.warning("refused a signed Slack request (400): bolt cannot handle its payload (%s)", what)
            return BoltResponse(status=400, body="")
        log.error("a Slack request failed (500): %s", what)
        return None

    def _first_delivery(self, body: dict, event: dict) -> bool:
        """False for a redelivery (same event id) or a twin event about the same message (mention inside a DM)."""
        fresh_event = self.seen.add_new(f"event:{body.get('event_id')}")
        fresh_message = self.seen.add_new(f"message:{event.get('channel')}:{event.get('ts')}")
        if not (fresh_event and fresh_message):
            log.info("skipping a repeated delivery of event %s", body.get("event_id"))
        return fresh_event and fresh_message

    def on_mention(self, body: dict, event: dict, client: WebClient, context: dict) -> None:
        """A mention in a channel: answer in the message's thread."""
        if self._first_delivery(body, event):
            self.answer(client, context, event)

    def on_message(self, body: dict, event: dict, client: WebClient, context: dict) -> None:
        """A direct message from a person (not edits, joins or bot posts): answer in its thread."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if self._first_delivery(body, event):
            self.answer(client, context, event)

    def on_command(self, ack: Any, command: dict, client: WebClient, context: dict, respond: Any) -> None:
        """`/papertrail <question>`: post the question to the channel, then answer in its thread. A command is
        answered once: a replay of the same request (its trigger id) is acknowledged and ignored."""
        ack()
        trigger = command.get("trigger_id")
        if trigger and not self.seen.add_new(f"command:{trigger}"):
            log.info("skipping a repeated delivery of a command from %s", command.get("user_id"))
            return
        question = unescape(command.get("text", "")).strip()
        if not question:
            respond(text="Ask a question: `/papertrail <question>`, or `/papertrail new`", response_type="ephemeral")
            return
        if question.casefold() == NEW_COMMAND:
            self.post_new(client, command["channel_id"], respond)
            return
        word, _, rest = question.partition(" ")
        if word.casefold() in WATCH_COMMANDS:
            respond(text=self.watch_command(word.casefold(), rest.strip(), command), response_type="ephemeral")
            return
        self.ask_in(client, context, command["channel_id"], command["user_id"], question, respond)

    def ask_in(self, client: WebClient, context: dict, channel: str, user: str, question: str, respond: Any) -> None:
        """Post `user`'s question to `channel`, then answer it in the question's thread."""
        try:
            root = client.chat_postMessage(
                channel=channel,
                text=f"{mention(user)} asked: {escape(question)}",
                metadata={"event_type": QUESTION_EVENT, "event_payload": {"question": question}},
            )
        except SlackApiError as err:
            log.warning("cannot post the question in %s: %s", channel, err.response.get("error"))
            respond(text="I can't post in this conversation; invite me to it first.", response_type="ephemeral")
            return
        event = {"channel": root.get("channel") or channel, "ts": root["ts"], "text": question}
        self.answer(client, context, event, react=False)

    def watch_command(self, word: str, rest: str, command: dict) -> str:
        """`/papertrail watch <topic>` (matches by DM, or to the channel it was typed in), `watches`, `unwatch <id>`:
        the ephemeral reply."""
        owner = SLACK_OWNER + command["user_id"]
        channel = command["channel_id"]
        in_dm = channel.startswith("D") or command.get("channel_name") == "directmessage"
        try:
            if word == "watches":
                return watches_text(rag.watches.list(owner, self.settings))
            if word == "unwatch":
                if not rest.isdigit():
                    return "Say which watch: `/papertrail unwatch <id>` (`/papertrail watches` lists them)."
                removed = rag.watches.remove(int(rest), owner, self.settings)
                return f"Watch {removed.id} removed: {escape(removed.question)}"
            watch = rag.watches.add(rest, owner, None if in_dm else channel, self.settings)
        except rag.PapertrailError as err:
            return f"Sorry: {escape(str(err))}."
        where = "to you by direct message" if watch.channel is None else f"to <#{escape(channel)}>"
        return f"Watch {watch.id} saved: new papers that answer “{escape(watch.question)}” will be posted {where}."

    def post_new(self, client: WebClient, channel: str, respond: Any) -> None:
        """`/papertrail new`: the papers the latest sync added, posted to the channel."""
        latest = rag.sync_status(self.settings).latest
        if latest is None or not latest.papers:
            respond(text=NOTHING_NEW, response_type="ephemeral")
            return
        try:
            client.chat_postMessage(channel=channel, text=batch_text(latest), blocks=batch_blocks(latest))
        except SlackApiError as err:
            log.warning("cannot post the new papers in %s: %s", channel, err.response.get("error"))
            respond(text="I can't post in this conversation; invite me to it first.", response_type="ephemeral")

    def answer(self, client: WebClient, context: dict, event: dict, react: bool = True) -> None:
        """Show progress, answer with the thread's history, and replace the progress message by the reply."""
        channel, ts = event["channel"], event["ts"]
        thread_ts = event.get("thread_ts") or ts
        if react:
            self._call(client.reactions_add, channel=channel, timestamp=ts, name="eyes")
        placeholder = self._call(client.chat_postMessage, channel=channel, thread_ts=thread_ts, text=SEARCHING)
        if placeholder is None:
            return
        reply_ts = placeholder["ts"]
        try:
            history = self.history(client, context, channel, thread_ts, ts) if thread_ts != ts else []
            question = unescape(_MENTION.sub("", event.get("text", ""))).strip()
            answer = self._stream(client, channel, reply_ts, question, history)
        except rag.PapertrailError as err:
            log.info("question refused in %s: %s", channel, err)
            self._call(client.chat_update, channel=channel, ts=reply_ts, text=f"Sorry, I can't answer that: {err}.")
            return
        except Exception as err:  # the edge of the bot: one log line and an apology, never a traceback in Slack
            log.error("answering failed in %s: %s: %s", channel, type(err).__name__, str(err).replace("\n", " "))
            self._call(client.chat_update, channel=channel, ts=reply_ts, text=APOLOGY)
            return
        self.answers.add_new(f"{channel}:{reply_ts}", answer)
        metadata = {"event_type": ANSWER_EVENT, "event_payload": {"backend": answer.backend}}
        reply = {"channel": channel, "ts": reply_ts, "text": fallback_text(answer), "metadata": metadata}
        if self._call(client.chat_update, blocks=answer_blocks(answer), **reply) is None:
            # blocks refused: the plain answer still replaces the progress message rather than leaving it stuck
            self._call(client.chat_update, **reply)

    def _stream(
        self, client: WebClient, channel: str, reply_ts: str, question: str, history: list[rag.Turn]
    ) -> rag.Answer:
        """Run `ask_stream`, editing the progress message with the text so far at most once per EDIT_INTERVAL_S."""
        text, last_edit = "", time.monotonic()
        for piece in rag.ask_stream(question, history, self.settings):
            if isinstance(piece, rag.Answer):
                return piece
            text += piece
            if time.monotonic() - last_edit >= EDIT_INTERVAL_S:
                partial = trim(escape(text), TEXT_LIMIT - 2) + " …"
                self._call(client.chat_update, channel=channel, ts=reply_ts, text=partial)
                last_edit = time.monotonic()
        raise rag.PapertrailError("the answer stream ended without an answer")

    def history(
        self, client: WebClient, context: dict, channel: str, thread_ts: str, before: str
    ) -> list[rag.Turn]:
        """Earlier turns of the thread: people's messages (and posted slash questions), each with the bot's reply."""
        replies = client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True, limit=200)
        turns: list[rag.Turn] = []
        for message in replies.get("messages", []):
            if float(message["ts"]) >= float(before):
                continue
            kind = (message.get("metadata") or {}).get("event_type")
            from_bot = bool(message.get("bot_id")) or message.get("user") == context.get("bot_user_id")
            if kind == QUESTION_EVENT:
                turns.append(rag.Turn(question=message["metadata"]["event_payload"]["question"]))
            elif not from_bot:
                turns.append(rag.Turn(question=unescape(_MENTION.sub("", message.get("text", ""))).strip()))
            elif kind == ANSWER_EVENT and turns and not turns[-1].answer:
                turns[-1] = rag.Turn(question=turns[-1].question, answer=unescape(message.get("text", "")))
        return turns

    def on_feedback(self, ack: Any, body: dict, action: dict, client: WebClient) -> None:
        """A thumbs button: record the rating in the shared feedback store and swap the buttons for a thank-you."""
        ack()
        rating = action["action_id"].removeprefix(FEEDBACK_ACTION)
        channel, ts, user = body["container"]["channel_id"], body["container"]["message_ts"], body["user"]["id"]
        answer = self.answers.pop(f"{channel}:{ts}")
        if answer is None:
            self._call(client.chat_postEphemeral, channel=channel, user=user, text=TOO_OLD)
            return
        rag.record_feedback(answer, rating, "slack", self.settings, user=user)
        blocks = rated_blocks(body["message"].get("blocks", []), rating, user)
        self._call(client.chat_update, channel=channel, ts=ts, text=body["message"].get("text", ""), blocks=blocks)

    def on_ask_about(self, ack: Any, body: dict, action: dict, client: WebClient, context: dict, respond: Any) -> None:
        """The "Ask about it" button under a watch match: ask its question where the match was posted."""
        ack()
        channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
        self.ask_in(client, context, channel, body["user"]["id"], action.get("value", ""), respond)

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> Any:
        """Call a Web API method; a refusal is logged (its error code only) rather than raised."""
        try:
            return method(**kwargs)
        except SlackApiError as err:
            log.warning("Slack refused %s: %s", method.__name__, err.response.get("error"))
            return None


class Digest:
    """The bot's one poller: posts the papers of each sync that added some to the digest channel (when there is
    one), once per sync, and each new watch match to its owner or channel, once, whichever process ran the sync."""

    def __init__(self, client: WebClient, channel: str | None, settings: rag.Settings) -> None:
        self.client = client
        self.channel = channel
        self.settings = settings

    def post_pending(self) -> int:
        """Post every batch of added papers the channel has not had yet, oldest first; returns how many were posted.
        A batch is marked posted only once Slack took it, so a refusal is tried again next time."""
        posted = 0
        if not self.channel:
            return posted
        for batch in rag.unannounced(self.channel, self.settings):
            if batch.papers:
                try:
                    self.client.chat_postMessage(channel=self.channel, text=batch_text(batch), blocks=batch_blocks(batch))
                except SlackApiError as err:
                    log.warning("cannot post the digest in %s: %s", self.channel, err.response.get("error"))
                    return posted
                posted += 1
            rag.mark_announced(self.channel, batch, self.settings)
        return posted

    def deliver_matches(self) -> int:
        """Send each watch match made in Slack not sent yet: by DM to its owner, or to the watch's channel. A match
        is marked sent once Slack took it; a refusal stops the round and is tried again next time."""
        return rag.watches.deliver(self._send_match, SLACK_OWNER, self.settings)

    def _send_match(self, match: rag.WatchMatch) -> None:
        where = match.watch.channel or match.watch.owner.removeprefix(SLACK_OWNER)
        self.client.chat_postMessage(channel=where, text=match_text(match), blocks=match_blocks(match))

    def poll(self) -> None:
        """One look: the digest, then the watch matches; a failure of one is one log line and the other still runs."""
        for name, step in (("digest", self.post_pending), ("watch matches", self.deliver_matches)):
            try:
                step()
            except SlackApiError as err:
                log.warning("cannot post the %s: %s", name, err.response.get("error"))
            except Exception as err:  # the edge of the poller thread: log and look again later
                log.error("%s failed: %s: %s", name, type(err).__name__, str(err).replace("\n", " "))

    @contextmanager
    def running(self, interval: float) -> Iterator[None]:
        """Post from a thread every `interval` seconds while the block runs; the post in flight ends before the
        block does (a thread cut off by the process's exit, mid-read of the store, crashed it)."""
        stop = threading.Event()
        poster = threading.Thread(target=self.run, args=(interval, stop), name="papertrail-digest")
        poster.start()
        try:
            yield
        finally:
            stop.set()
            poster.join()

    def run(self, interval: float, stop: threading.Event) -> None:
        """Look for new batches and matches now and every `interval` seconds until `stop` is set."""
        while True:
            self.poll()
            if stop.wait(interval):
                return


def build_app(
    settings: rag.Settings | None = None, slack: SlackSettings | None = None, *, bot_token: str, signing_secret: str = ""
) -> App:
    """A bolt app calling the Web API at `slack.api_url`; checks the token with auth.test."""
    settings = settings or rag.Settings()
    client = WebClient(token=bot_token, base_url=(slack or SlackSettings()).api_url)
    try:
        app = App(client=client, signing_secret=signing_secret, name="papertrail")
    except BoltError as err:
        raise rag.PapertrailError(f"Slack did not accept SLACK_BOT_TOKEN ({err})") from None
    Bot(settings).register(app)
    return app


class CheckedRequestHandler(SlackRequestHandler):
    """bolt's WSGI adapter, refusing first what bolt would answer with a 500 and a traceback: 401 for a missing
    or malformed signature or a timestamp that is stale or not a short number, all checked before the body is
    read, then for a wrong signature (or a body that is not UTF-8, which slack_sdk cannot verify); 413 for a body
    over MAX_BODY_BYTES; 400 for a signed body that does not parse into a Slack payload (bolt parses the body
    before it checks the signature). One log line each."""

    def __init__(self, app: App, signing_secret: str, path: str = EVENTS_PATH) -> None:
        super().__init__(app, path)
        self.verifier = SignatureVerifier(signing_secret)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        """The checks above, then bolt's own dispatch."""
        headers = request.get_headers()
        if not _signed_recently(headers):
            log.warning("refused a Slack request (401): missing or malformed signature, or a stale or malformed timestamp")
            return BoltResponse(status=401, body="")
        length = int(request.environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            log.warning("refused a Slack request (413): a body of %d bytes, over %d", length, MAX_BODY_BYTES)
            return BoltResponse(status=413, body="")
        raw = request.environ["wsgi.input"].read(length)
        try:
            signed = self.verifier.is_valid_request(raw, headers)
        except ValueError:  # from slack_sdk: a body that is not UTF-8 text
            signed = False
        if not signed:
            log.warning("refused a Slack request (401): wrong signature")
            return BoltResponse(status=401, body="")
        try:
            parsed = BoltRequest(body=raw.decode("utf-8"), query=request.query_string, headers=headers)
        except PAYLOAD_ERRORS as err:
            log.warning("refused a signed Slack request (400): its body is not a Slack payload (%s)", type(err).__name__)
            return BoltResponse(status=400, body="")
        return self.app.dispatch(parsed)


def _signed_recently(headers: dict[str, Any]) -> bool:
    """The request carries a signature of the right form and a timestamp of at most 12 digits within MAX_AGE_S of
    now: checked before its body is read (slack_sdk's own check turns a 400-digit timestamp into an OverflowError)."""
    found = {name.lower(): str(value) for name, value in headers.items()}
    timestamp = found.get("x-slack-request-timestamp", "")
    signature = found.get("x-slack-signature", "")
    if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
        return False
    return abs(time.time() - int(timestamp)) <= MAX_AGE_S


def http_server(app: App, signing_secret: str, host: str, port: int) -> BaseWSGIServer:
    """waitress serving the checked bolt adapter at /slack/events: a pool of HTTP_THREADS request threads (each
    only acknowledges; answers run in bolt's own workers) behind a listen backlog of LISTEN_BACKLOG, so a burst
    of deliveries is queued rather than reset; bodies over MAX_BODY_BYTES get 413 before they are read.
    `run()` serves, `close()` stops."""
    handler = CheckedRequestHandler(app, signing_secret)
    return create_server(
        handler,
        host=host,
        port=port,
        threads=HTTP_THREADS,
        backlog=LISTEN_BACKLOG,
        max_request_body_size=MAX_BODY_BYTES + 1,
        ident="papertrail",
    )


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value else ""


def credentials(slack: SlackSettings) -> tuple[str, str, str]:
    """(bot token, signing secret, app token); a missing required one is an error naming it (never its value)."""
    bot_token, app_token = _secret(slack.bot_token), _secret(slack.app_token)
    signing_secret = "" if app_token else _secret(slack.signing_secret)
    missing = "SLACK_BOT_TOKEN" if not bot_token else "SLACK_SIGNING_SECRET" if not (app_token or signing_secret) else ""
    if missing:
        raise rag.PapertrailError(f"{missing} is not set; see docs/slack.md")
    return bot_token, signing_secret, app_token


def run(
    settings: rag.Settings | None = None, slack: SlackSettings | None = None, *, port: int = 3000, host: str = "0.0.0.0"
) -> None:
    """`papertrail slack`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode on `host:port`."""
    settings = settings or rag.Settings()
    slack = slack or SlackSettings()
    bot_token, signing_secret, app_token = credentials(slack)
    app = build_app(settings, slack, bot_token=bot_token, signing_secret=signing_secret)
    with ExitStack() as running:
        running.enter_context(Digest(app.client, slack.digest_channel, settings).running(slack.digest_interval))
        if slack.digest_channel:
            print(f"Posting the papers of each sync to {slack.digest_channel}.")
        if app_token:
            print("Papertrail Slack bot connecting in Socket Mode. Ctrl-C to stop.")
            SocketModeHandler(app, app_token).start()
            return
        server = http_server(app, signing_secret, host, port)
        running.callback(server.close)
        print(f"Papertrail Slack bot listening on http://{host}:{server.effective_port}{EVENTS_PATH}. Ctrl-C to stop.")
        server.run()
