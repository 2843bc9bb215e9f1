"""The Gradio chat web UI: streamed cited answers, a sources panel, feedback and adding papers (`papertrail serve`)."""

from __future__ import annotations

import html
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

import rag

from . import web_render as render
from . import web_watches as watching
from .login_throttle import LoginThrottle
from .present import client_message, date_label, sync_summary
from .settings import WebSettings

HERE = Path(__file__).resolve().parent
EXTRACTIVE_LABEL = "Offline (quotes only)"
LLM_LABELS = {"openai": "LLM (OpenAI API)", "llamacpp": "Local LLM (llama.cpp)"}
EXAMPLE_COUNT = 4
MAX_EXAMPLE_TITLE = 90
MAX_TOP_K = 15
"""Most papers the page lets one answer draw on."""
LLM_HINT = (
    "Offline: the answer quotes the abstracts. For a language model's answers, start Papertrail with OPENAI_API_KEY "
    "(or OPENAI_BASE_URL for Ollama, vLLM, LM Studio) set; see docs/backends.md."
)
"""Said under "Answered by" when offline answers are the only choice."""


def backend_choices(settings: rag.Settings) -> list[tuple[str, str]]:
    """Backends offered in the page, the configured one first; offline extractive answers are always offered."""
    configured = rag.backend_name(settings)
    choices = [(EXTRACTIVE_LABEL, "extractive")]
    return choices if configured == "extractive" else [(LLM_LABELS.get(configured, configured), configured), *choices]


def example_questions(papers: list[rag.Paper]) -> list[str]:
    """A few questions about papers spread over the corpus, phrased from their titles."""
    short = [p for p in papers if len(p.title) <= MAX_EXAMPLE_TITLE] or papers
    step = max(1, len(short) // EXAMPLE_COUNT)
    return [f"What does “{p.title}” propose?" for p in short[::step][:EXAMPLE_COUNT]]


def listing_dates(papers: list[rag.Paper]) -> list[tuple[str, str]]:
    """Every listing date in the store, in calendar order, as (label, date): "Sep 12 (year not given)"."""
    return [(date_label(d), d) for d in sorted({d for p in papers for d in p.dates}, key=rag.listing_date_key)]



def header(settings: rag.Settings) -> str:
    """The page heading with the size of the corpus and when the last sync with Daily Papers ran."""
    counts = rag.stats(settings)
    return (
        "# Papertrail\nCited answers over "
        f"**{counts['papers']:,}** research-paper abstracts. Every [n] links to the paper and the sentence behind it."
        f"\n\n<span id='pt-synced'>{html.escape(last_sync(settings))}</span>"
    )


def last_sync(settings: rag.Settings) -> str:
    """When the last sync with Daily Papers ran and what the latest one that added papers brought."""
    try:
        status = rag.sync_status(settings)
    except rag.PapertrailError as err:
        return f"Sync state: {err}"
    if not status.last_sync:
        return "Not synced with Hugging Face Daily Papers yet."
    synced = f"Last sync with Hugging Face Daily Papers: {status.last_sync:%Y-%m-%d %H:%M} UTC"
    if status.latest:
        count = len(status.latest.papers)
        added = f"{count} paper{'' if count == 1 else 's'}"
        synced += f" · latest additions: {added} ({status.latest.finished:%Y-%m-%d %H:%M} UTC)"
    return synced


class Handlers:
    """The page's event handlers, bound to one `Settings` and the UI's own settings."""

    def __init__(self, settings: rag.Settings, web: WebSettings | None = None) -> None:
        self.settings = settings
        self.web = web or WebSettings()

    def respond(
        self,
        question: str,
        turns: list[rag.Turn],
        answers: dict[int, rag.Answer],
        backend: str,
        top_k: float,
        dates: list[str] | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to `question` into the chat, then fill the sources panel and notes."""
        messages = chat_messages(turns, answers)
        try:
            stream = rag.ask_stream(
                question, turns, self.settings, top_k=top_k, dates=dates or None, backend=backend or None
            )
            messages += [{"role": "user", "content": render.plain(question)}, {"role": "assistant", "content": ""}]
            text, answer = "", None
            for piece in stream:
                if isinstance(piece, str):
                    text += piece
                    messages[-1]["content"] = render.link_citations(text)
                    yield messages, gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
                else:
                    answer = piece
        except Exception as err:  # the edge of the page: see client_message
            note = render.note_html([client_message(err, "answering")], "error")
            yield chat_messages(turns, answers), gr.skip(), note, turns, answers, question
            return
        turns = [*turns, rag.Turn(question=question, answer=answer.text)]
        answers = {**answers, len(messages) - 1: answer}
        yield chat_messages(turns, answers), render.sources_panel(answer), render.notes(answer), turns, answers, ""

    def feedback(self, data: gr.LikeData, answers: dict[int, rag.Answer], request: gr.Request) -> str:
        """Store a thumbs up/down on the answer it was given to: one rating per answer and user (the logged-in
        user, else the browser session), the last one given."""
        answer = answers.get(data.index if isinstance(data.index, int) else data.index[0])
        if answer is None or data.liked not in (True, False):
            return gr.skip()
        user = request.username or f"session {request.session_hash}"
        try:
            rag.record_feedback(answer, "up" if data.liked else "down", "web", self.settings, user=user)
        except Exception as err:  # the edge of the page: see client_message
            return render.note_html([f"Your rating was not saved: {client_message(err, 'saving a rating')}"], "error")
        return render.note_html(["Thanks: your rating of this answer was saved."], "ok")

    def add_papers(self, path: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Ingest an uploaded paper list with progress, then empty the upload box.

        A bad file changes nothing and the page says why."""
        if not path:
            return render.note_html(["Choose a .txt or .jsonl file first."], "error"), gr.skip(), gr.skip(), None
        name = Path(path).name

        def report(done: int, total: int) -> None:
            progress((done, total), desc=f"Embedding {name}", unit="papers")

        try:
            result = rag.ingest([path], self.settings, progress=report)
        except Exception as err:  # the edge of the page: see client_message
            message = client_message(err, "adding papers").replace(str(Path(path).parent) + os.sep, "")
            return render.note_html([f"{name} was not added: {message}"], "error"), gr.skip(), gr.skip(), None
        summary = (
            f"{name}: {result.papers} papers read, {result.added} added, {result.updated + result.relabelled} updated, "
            f"{result.unchanged} already stored. They are searchable now."
        )
        return render.note_html([summary], "ok"), *self.refresh(), None

    def update(self, request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Sync with Daily Papers (today and the days missed since the last sync) with progress; only a logged-in
        user may when the UI has a login (read-only mode never offers it)."""
        if self.web.auth and not request.username:
            return render.note_html(["Updating the library needs a logged-in user."], "error"), gr.skip(), gr.skip()

        def report(done: int, total: int) -> None:
            progress((done, total), desc="Fetching Daily Papers", unit="days")

        try:
            result = rag.sync(settings=self.settings, progress=report)
        except rag.SyncError as err:
            stored = f" Stored before it: {sync_summary(err.report)}" if err.report and err.report.files else ""
            return render.note_html([f"The update stopped: {err}.{stored}"], "error"), *self.refresh()
        except rag.PapertrailError as err:
            return render.note_html([f"The update failed: {err}"], "error"), gr.skip(), gr.skip()
        lines = [f"Updated: {sync_summary(result)}"] + [f"Skipped {line}" for line in result.skipped]
        lines += [f"Kept {line}" for line in result.kept]
        return render.note_html(lines, "ok"), *self.refresh()

    def refresh(self) -> tuple[str, Any]:
        """The heading and the listing-date choices as the store holds them now (on page load and after adding)."""
        return header(self.settings), gr.update(choices=listing_dates(rag.catalog(self.settings)))

    def api_ask(self, question: str, backend: str = "", top_k: int = 0) -> dict[str, Any]:
        """Answer one question with cited sources (the `/ask` endpoint for gradio_client); `top_k` 0 and `backend` ""
        are the settings' own. A refusal is its one-line message, any other failure a fixed apology."""
        try:
            answer = rag.ask(question, settings=self.settings, top_k=top_k or None, backend=backend or None)
        except Exception as err:  # the edge of the API: see client_message
            raise gr.Error(client_message(err, "answering through /ask"), print_exception=False) from None
        return answer.model_dump(mode="json")


def chat_messages(turns: list[rag.Turn], answers: dict[int, rag.Answer]) -> list[dict[str, str]]:
    """The chat as Gradio messages, answers with their [n] markers linked to the source cards, their links and
    unverified sentences shown as `render.answer_markdown` decides (`answers` by message index)."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": render.plain(turn.question)})
        answer = answers.get(len(messages))
        shown = render.answer_markdown(answer) if answer else render.link_citations(turn.answer)
        messages.append({"role": "assistant", "content": shown})
    return messages


def build_app(settings: rag.Settings | None = None, web: WebSettings | None = None) -> gr.Blocks:
    """The Blocks app over `settings` (default: the environment's); `web.read_only` hides what changes the library."""
    settings = settings or rag.Settings()
    web = web or WebSettings()
    handlers = Handlers(settings, web)
    papers = rag.catalog(settings)
    choices = backend_choices(settings)
    with gr.Blocks(title="Papertrail", analytics_enabled=False) as app:
        turns = gr.State([])
        answers = gr.State({})
        with gr.Row(equal_height=True, elem_id="pt-top"):
            heading = gr.Markdown(elem_id="pt-header")
            update = gr.Button(
                "Update from Daily Papers", size="sm", scale=0, min_width=190, elem_id="pt-update", visible=not web.read_only
            )
        updated = gr.HTML("", elem_id="pt-updated")
        watch_count = gr.HTML("", elem_id="pt-watch-count")
        # On a phone (web.css) this column's parts and the sources column become one column: the chat, the question
        # box, then the sources, then the examples and controls.
        with gr.Row(equal_height=False, elem_id="pt-main"):
            with gr.Column(scale=3, min_width=340, elem_id="pt-ask-column"):
                chatbot = gr.Chatbot(
                    show_label=False,
                    elem_id="pt-chat",
                    height="min(520px, calc(100vh - 330px))",  # leaves the question box on a laptop's first screen
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder="Ask about the indexed papers. Follow-up questions use the conversation so far.",
                )
                notice = gr.HTML("", elem_id="pt-notice")
                with gr.Row(equal_height=True, elem_id="pt-ask"):
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question about the papers…",
                        scale=5,
                        lines=1,
                        max_lines=6,
                        elem_id="pt-question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="pt-send")
                with gr.Column(elem_id="pt-examples"):
                    gr.Markdown("Try one of these:", elem_classes=["pt-examples-label"])
                    examples = [
                        (gr.Button(text, size="sm", elem_classes=["pt-example"]), text) for text in example_questions(papers)
                    ]
                with gr.Row(elem_id="pt-controls"):
                    backend = gr.Dropdown(
                        choices,
                        value=choices[0][1],
                        label="Answered by",
                        info=None if len(choices) > 1 else LLM_HINT,
                        min_width=160,
                        elem_id="pt-answered-by",
                    )
                    top_k = gr.Slider(
                        1, MAX_TOP_K, value=settings.retrieval.top_k, step=1, label="Papers to draw on", min_width=160,
                        elem_id="pt-top-k",
                    )
                    dates = gr.Dropdown(
                        [], multiselect=True, label="Listing dates (all when empty)", min_width=160, elem_id="pt-dates"
                    )
                with gr.Row():
                    clear = gr.Button("Clear chat", variant="secondary", size="sm", elem_id="pt-clear")
                    watch_this = watching.button()
                with gr.Accordion("Add papers", open=False, elem_id="pt-add", visible=not web.read_only):
                    gr.Markdown("A Daily Papers page saved as .txt, or a JSONL file with title and abstract fields.")
                    upload = gr.File(label="Paper list", file_types=[".txt", ".jsonl", ".json"], elem_id="pt-upload")
                    add = gr.Button("Add to the library", elem_id="pt-add-button")
                    added = gr.HTML("", elem_id="pt-added")
                watches = watching.section(watch_count, watch_this)
            with gr.Column(scale=2, min_width=320, elem_id="pt-sources-column"):
                gr.Markdown("### Sources")
                sources = gr.HTML(render.EMPTY_PANEL, elem_id="pt-sources")

        ask_outputs = [chatbot, sources, notice, turns, answers, question]
        ask_inputs = [question, turns, answers, backend, top_k, dates]
        asking = {"api_visibility": "private", "show_progress_on": [chatbot]}
        for trigger in (question.submit, send.click):
            trigger(handlers.respond, ask_inputs, ask_outputs, **asking)
        for button, text in examples:
            button.click(lambda text=text: text, None, [question], queue=False, api_visibility="private").then(
                handlers.respond, ask_inputs, ask_outputs, **asking
            )
        chatbot.like(handlers.feedback, [answers], [notice], api_visibility="private")
        clear.click(
            lambda: ([], render.EMPTY_PANEL, "", [], {}, ""), None, ask_outputs, api_visibility="private", queue=False
        )
        writes = []
        if not web.read_only:  # progress shows in the panel that asked for the work, nowhere else
            writes.append(
                add.click(
                    handlers.add_papers, [upload], [added, heading, dates, upload], api_visibility="private",
                    show_progress_on=[added],
                )
            )
            writes.append(
                update.click(handlers.update, None, [updated, heading, dates], api_visibility="private", show_progress_on=[updated])
            )
        app.load(handlers.refresh, None, [heading, dates], api_visibility="private", show_progress="hidden")
        watching.wire(app, watches, turns, settings, writes)
        gr.api(handlers.api_ask, api_name="ask")
    return app


def serve(
    host: str = "127.0.0.1", port: int = 7860, settings: rag.Settings | None = None, web: WebSettings | None = None
) -> None:
    """Start the web UI and block; `web.auth` (user:password) turns on the login, throttled per client address."""
    settings = settings or rag.Settings()
    web = web or WebSettings()
    auth = tuple(web.auth.split(":", 1)) if web.auth else None
    if web.auth and auth and len(auth) != 2:
        raise rag.BadInputError("PAPERTRAIL_UI_AUTH must look like user:password")
    if host not in ("127.0.0.1", "localhost") and not auth:
        warning = f"serving on {host} without a login; set PAPERTRAIL_UI_AUTH=user:password"
        print(f"papertrail: warning: {warning}", file=sys.stderr)
    _check_free(host, port)
    app = build_app(settings, web)
    app.queue(default_concurrency_limit=web.concurrency, max_size=200)
    app.launch(
        server_name=host,
        server_port=port,
        auth=[auth] if auth else None,
        app_kwargs={"middleware": [Middleware(LoginThrottle)]} if auth else None,
        show_error=False,
        ssr_mode=False,
        max_file_size="50mb",
        footer_links=["api"],
        theme=gr.themes.Soft(primary_hue="indigo", neutral_hue="slate"),
        css_paths=[HERE / "web.css"],
        head=f"<script>{(HERE / 'web.js').read_text(encoding='utf-8')}</script>",
        quiet=True,  # Gradio's own lines (its URL, a share=True hint) are not for Papertrail's users: ours follows
        prevent_thread_lock=True,
    )
    print(f"Papertrail is running at http://{host}:{port} (Ctrl-C to stop).", flush=True)
    try:  # Gradio's own `block_thread` prints its own line on Ctrl-C
        while app.is_running:
            time.sleep(0.5)
    finally:
        app.close(verbose=False)


def _check_free(host: str, port: int) -> None:
    """Refuse at once, in one line saying what to do, a host and port this process cannot listen on."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise rag.PapertrailError(
                f"cannot listen on {host}:{port} ({err.strerror}): choose another port with "
                "`papertrail serve --port 8080` (or `make run PORT=8080`)"
            ) from None
