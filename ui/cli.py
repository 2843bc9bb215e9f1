"""The `papertrail` command: ingest, sync, add, ask, chat, stats, eval, serve, slack, mcp, api, watch; errors end as
one line and exit 1.

Imports only `rag`'s public API (cheap: heavy libraries load inside its functions) and, per command,
the front end or dev tool it runs, so `papertrail --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import rag

from .present import byline, dates_label, flags, listed_sources, quotes_to_show, sources_heading, sync_summary

EXIT_ERROR = 1
EXIT_USAGE = 2
Report = TypeVar("Report")
STEP_LOGGERS = ("rag.embed",)
"""Loggers whose INFO lines are steps a user waits for (the embedding model's one-time preparation): shown as they are."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_steps()
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args) or 0
    except rag.PapertrailError as err:
        say(one_line(f"papertrail: error: {err}"), err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        say("papertrail: interrupted", err=True)
        return 130
    except Exception as err:  # the edge of the program: one line, never a traceback
        say(one_line(f"papertrail: unexpected error: {type(err).__name__}: {err}"), err=True)
        return EXIT_ERROR


def say(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Print `text` (to stderr when `err`) without control characters, so no title, answer or file name
    can move the cursor, ring the bell or retitle the terminal. Everything the CLI prints goes through here."""
    print(rag.strip_controls(text), end=end, file=sys.stderr if err else sys.stdout, flush=True)


def one_line(text: str) -> str:
    """`text` with its line breaks made spaces: an error is one line."""
    return " ".join(text.splitlines())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="papertrail", description="Cited answers over research-paper abstracts.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int | None], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("ingest", cmd_ingest, "Add paper lists (Daily Papers .txt or JSONL) to the store.")
    sub.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the seeds folder)")
    sub.add_argument("--check", action="store_true", help="find and re-embed chunks whose vectors are missing instead")

    # Hugging Face Daily Papers (rag/daily_papers.py): the only commands that reach the network
    sub = command("sync", cmd_sync, "Add Hugging Face Daily Papers (default: today and any day missed since the last sync).")
    when = sub.add_mutually_exclusive_group()
    when.add_argument("--date", help="one listing day, e.g. 2024-03-11")
    when.add_argument("--week", help="the listing days of an ISO week, e.g. 2024-W11")
    when.add_argument("--month", help="the listing days of a month, e.g. 2024-03")
    when.add_argument("--since", help="every listing day from this one (e.g. 2024-03-01) to today; resumable")
    sub = command("add", cmd_add, "Add papers by arXiv id or arxiv.org / huggingface.co/papers link.")
    sub.add_argument("ids", nargs="+", metavar="ID|URL", help="e.g. 2403.04706 or https://arxiv.org/abs/2403.04706")

    sub = command("ask", cmd_ask, "Answer one question with cited sources.")
    sub.add_argument("question")
    sub.add_argument("--json", action="store_true", help="print the Answer as JSON")
    _answer_options(sub)

    sub = command("chat", cmd_chat, "Ask questions in a terminal conversation (follow-ups use the history).")
    _answer_options(sub)

    sub = command("stats", cmd_stats, "Count the papers and chunks in the store.")
    sub.add_argument("--json", action="store_true", help="print as JSON")

    sub = command("eval", cmd_eval, "Run a question set and print retrieval and answer figures.")
    sub.add_argument("file", type=Path, help="JSONL questions (the format of eval/dev.jsonl)")
    sub.add_argument("--out", type=Path, help="write one result line per question here")
    sub.add_argument("--backend", help="answering backend (default: PAPERTRAIL_LLM)")

    sub = command("bench", cmd_bench, "Measure ingest, warm ask stages, search updates, memory and cold start at several corpus sizes.")
    sub.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 300_000], help="synthetic corpus sizes after the seeds")
    sub.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder for the JSON results")
    sub.add_argument("--work", type=Path, help="keep the synthetic stores in this folder, and reuse those filled by an earlier run")

    # Web UI and its feedback (ui/web.py)
    sub = command("serve", cmd_serve, "Start the chat web UI (open http://127.0.0.1:7860).")
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1 only)")
    sub.add_argument("--port", type=port, default=7860, help="port to listen on (default: 7860)")
    sub.add_argument("--read-only", action="store_true", help="hide the controls that change the library (Update, Add papers)")
    feedback = commands.add_parser("feedback", help="Work with the thumbs up/down given in the front ends.")
    actions = feedback.add_subparsers(title="actions", metavar="ACTION")
    sub = actions.add_parser("export", help="Write the rated answers as eval JSONL lines for review.")
    sub.set_defaults(handler=cmd_feedback_export)
    sub.add_argument("--out", type=Path, default=Path("feedback-review.jsonl"), help="JSONL file to write")
    sub.add_argument("--rating", choices=["down", "up"], default="down", help="which ratings (default: down)")

    # Watches (rag.watches, rag/watching.py): saved questions run on each write's new papers
    watch = commands.add_parser("watch", help="Follow a topic: each new paper that answers a saved question is shown once.")
    actions = watch.add_subparsers(title="actions", metavar="ACTION")
    sub = actions.add_parser("add", help="Save a question or topic to watch.")
    sub.set_defaults(handler=cmd_watch_add)
    sub.add_argument("question", help='e.g. "linear attention conversion of pretrained LLMs"')
    actions.add_parser("list", help="List your watches.").set_defaults(handler=cmd_watch_list)
    sub = actions.add_parser("remove", help="Delete a watch and its matches.")
    sub.set_defaults(handler=cmd_watch_remove)
    sub.add_argument("id", type=int, help="the watch's number, as `watch list` shows it")
    sub = actions.add_parser("check", help="Print the matches not shown before (running the watches on new papers first).")
    sub.set_defaults(handler=cmd_watch_check)
    sub.add_argument("--since", metavar="DATE", help="also run the watches on every paper listed since this day (2024-03-11)")

    # Slack bot (ui/slack.py)
    sub = command("slack", cmd_slack, "Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP at /slack/events.")
    sub.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default: all)")
    sub.add_argument("--port", type=port, default=3000, help="HTTP mode: port to listen on (default: 3000)")
    sub.add_argument("--digest-channel", metavar="CHANNEL", help="post the papers of each sync that added some to this channel id")

    # For other programs: agents and editors (ui/mcp_server.py), chat front ends (ui/openai_api.py)
    sub = command("mcp", cmd_mcp, "Run the MCP server for agents and editors: stdio, or streamable HTTP with --http.")
    sub.add_argument("--http", action="store_true", help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    sub.add_argument("--host", default="127.0.0.1", help="--http: address to listen on (default: 127.0.0.1 only)")
    sub.add_argument("--port", type=int, default=7862, help="--http: port to listen on (default: 7862)")
    sub = command("api", cmd_api, "Serve an OpenAI-compatible chat endpoint at http://HOST:PORT/v1 (model: papertrail).")
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1 only)")
    sub.add_argument("--port", type=int, default=7861, help="port to listen on (default: 7861)")
    return parser


def port(text: str) -> int:
    """A TCP port number, checked when the command line is read (not after seeding the store)."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def _answer_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--top-k", type=int, help="how many papers to draw on")
    sub.add_argument(
        "--date",
        action="append",
        dest="dates",
        help="only papers listed on this date: 2024-03-11, or Mar 11 for any year (repeatable)",
    )
    sub.add_argument("--backend", help="answering backend (default: PAPERTRAIL_LLM)")


def _ensure_seeded(settings: rag.Settings) -> None:
    """Ingest the seeds first when the store is empty, and say so, with a progress bar."""
    if rag.stats(settings)["chunks"] == 0:
        say(f"The store is empty: ingesting {settings.store.seeds_dir} first.", err=True)
        _report(_with_progress(lambda progress: rag.ensure_corpus(settings, progress)), err=True)


def _with_progress(
    work: Callable[[Callable[[int, int], None]], Report], doing: str = "Embedding", unit: str = "paper"
) -> Report:
    """Run `work` with a progress bar on stderr that it moves by calling (done, total). It appears at the first call
    with something to do ("Embedding 339 papers"), so work with nothing to do shows none; where stderr is not a
    terminal (a log), that one line is all it writes."""
    from tqdm import tqdm

    bar: tqdm | None = None
    started = False

    def progress(done: int, total: int) -> None:
        nonlocal bar, started
        if not started and total:
            started = True
            what = f"{doing} {total:,} {unit if total == 1 else unit + 's'}"
            if not sys.stderr.isatty():
                say(f"{what}…", err=True)
                return
            bar = tqdm(total=total, unit=f" {unit}", desc=what, file=sys.stderr, mininterval=0)
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    try:
        return work(progress)
    finally:
        if bar is not None:
            bar.close()


def _report(report: rag.IngestReport | None, err: bool = False) -> None:
    """What an ingest did, in one line (on stderr when it is a side note, as seeding before a command is: a command's
    stdout stays its own, `ask --json` JSON and `mcp` the protocol)."""
    if report:
        say(
            f"{report.files} file(s), {report.papers} papers: {report.added} added, "
            f"{report.updated + report.relabelled} updated ({report.updated} with a new abstract), "
            f"{report.unchanged} already stored ({report.chunks_added} chunks added).",
            err=err,
        )


def _synced(work: Callable[[Callable[[int, int], None]], rag.SyncReport], desc: str, unit: str, noun: str) -> None:
    """Run a sync or add with a progress bar, then print what it skipped and its summary (also when it failed)."""
    try:
        report = _with_progress(work, desc, unit)
    except rag.SyncError as err:
        if err.report:
            _sync_summary(err.report, noun)
        raise
    _sync_summary(report, noun)


def _sync_summary(report: rag.SyncReport, noun: str) -> None:
    for line in report.skipped:
        say(one_line(f"papertrail: skipped {line}"), err=True)
    for line in report.kept:
        say(one_line(f"papertrail: kept {line}"), err=True)
    say(sync_summary(report, noun))


def _options(args: argparse.Namespace) -> rag.AskOptions:
    return {"top_k": args.top_k, "dates": args.dates, "backend": args.backend}


def cmd_ingest(args: argparse.Namespace) -> None:
    settings = rag.Settings()
    if args.check:
        if args.paths:
            raise rag.BadInputError("--check takes no paths: it checks the whole store")
        report = rag.check_store(settings)
        for note in report.notes:
            say(note)
        say(f"{report.papers} papers checked: {report.repaired} chunks had lost their vectors and were re-embedded.")
        for damage in report.index_repaired:
            say(f"The search index was damaged ({damage}): rebuilt from the store.")
        return
    _report(_with_progress(lambda progress: rag.ingest(args.paths or None, settings, progress)))
    _watch_note(settings)


def cmd_sync(args: argparse.Namespace) -> None:
    settings = rag.Settings()
    _synced(
        lambda progress: rag.sync(
            args.date, week=args.week, month=args.month, since=args.since, settings=settings, progress=progress
        ),
        "Syncing",
        "day",
        "listing day",
    )
    _watch_note(settings)


def cmd_add(args: argparse.Namespace) -> None:
    settings = rag.Settings()
    _synced(lambda progress: rag.add_arxiv(args.ids, settings, progress), "Fetching", "paper", "arXiv id")
    _watch_note(settings)


def cmd_ask(args: argparse.Namespace) -> None:
    settings = rag.Settings()
    _ensure_seeded(settings)
    if args.json:
        say(rag.ask(args.question, settings=settings, **_options(args)).model_dump_json(indent=2))
        return
    say(render(_print_stream(rag.ask_stream(args.question, settings=settings, **_options(args)))))


def cmd_chat(args: argparse.Namespace) -> None:
    settings = rag.Settings()
    _ensure_seeded(settings)
    history: list[rag.Turn] = []
    say("Ask about the indexed papers. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            return
        if not question:
            return
        try:
            answer = _print_stream(rag.ask_stream(question, history, settings, **_options(args)))
        except rag.BadInputError as err:
            say(one_line(f"papertrail: {err}"))
            continue
        say(render(answer))
        history.append(rag.Turn(question=question, answer=answer.text))


def cmd_stats(args: argparse.Namespace) -> None:
    counts = rag.stats(rag.Settings())
    say(json.dumps(counts) if args.json else f"{counts['papers']} papers, {counts['chunks']} chunks")


def cmd_eval(args: argparse.Namespace) -> None:
    from rag.devtools.evaluation import evaluate, format_summary

    settings = rag.Settings()
    _ensure_seeded(settings)
    say(format_summary(evaluate(args.file, args.out, settings, backend=args.backend)))


def cmd_bench(args: argparse.Namespace) -> None:
    from rag.devtools.bench import run

    run(args.sizes, args.out, args.work)


def cmd_serve(args: argparse.Namespace) -> None:
    say("Starting the web UI…")  # before the seconds Gradio takes to import and start
    from .settings import WebSettings
    from .web import serve

    settings = rag.Settings()
    web = WebSettings()
    _ensure_seeded(settings)
    _log_to_stderr()
    serve(args.host, args.port, settings, web.model_copy(update={"read_only": True}) if args.read_only else web)


def cmd_feedback_export(args: argparse.Namespace) -> None:
    count = rag.export_feedback(args.out, rag.Settings(), rating=args.rating)
    say(f"{count} {'thumbs-down' if args.rating == 'down' else 'thumbs-up'} answer(s) written to {args.out}")


def cmd_watch_add(args: argparse.Namespace) -> None:
    watch = rag.watches.add(args.question, settings=rag.Settings())
    say(f"Watch {watch.id} saved: new papers that answer “{watch.question}” will show in `papertrail watch check`.")


def cmd_watch_list(args: argparse.Namespace) -> None:
    watches = rag.watches.list(rag.watches.LOCAL, rag.Settings())
    for watch in watches:
        say(f"{watch.id}  {watch.question}  (since {watch.created:%Y-%m-%d})")
    if not watches:
        say('No watches yet: papertrail watch add "a question or topic"')


def cmd_watch_remove(args: argparse.Namespace) -> None:
    watch = rag.watches.remove(args.id, rag.watches.LOCAL, rag.Settings())
    say(f"Watch {watch.id} removed: {watch.question}")


def cmd_watch_check(args: argparse.Namespace) -> None:
    matches = rag.watches.check(args.since, settings=rag.Settings())
    for match in matches:
        paper = match.paper
        say(f"\n[watch {match.watch.id}] {match.watch.question}")
        say(f"  {paper.title} (listed {', '.join(paper.dates) or 'no listing date'})")
        if link := rag.web_link(paper.arxiv_url) or rag.web_link(paper.url):
            say(f"  {link}")
        say(f'  "{match.sentence}"')
        say(f"  Ask about it: papertrail ask {json.dumps(match.ask, ensure_ascii=False)}")
    say(f"\n{len(matches)} new match{'' if len(matches) == 1 else 'es'}." if matches else "No new matches.")


def _watch_note(settings: rag.Settings) -> None:
    """After a write: say how many matches wait in `papertrail watch check`."""
    if waiting := rag.watches.waiting(rag.watches.LOCAL, settings):
        say(f"{waiting} new match{'' if waiting == 1 else 'es'} for your watches: `papertrail watch check` shows them.")


def cmd_slack(args: argparse.Namespace) -> None:
    from .settings import SlackSettings
    from .slack import credentials, run

    slack = SlackSettings()
    if args.digest_channel:
        slack = slack.model_copy(update={"digest_channel": args.digest_channel})
    credentials(slack)  # a missing token fails here, before any slow ingest
    settings = rag.Settings()
    _ensure_seeded(settings)
    _log_to_stderr()
    run(settings, slack, port=args.port, host=args.host)


def cmd_mcp(args: argparse.Namespace) -> None:
    from .asgi import check_host
    from .mcp_server import run
    from .settings import ApiSettings

    api = ApiSettings()
    if args.http:
        check_host(args.host, api)  # before any slow ingest
    settings = rag.Settings()
    _ensure_seeded(settings)
    run(settings, http=args.http, host=args.host, port=args.port, api=api)


def cmd_api(args: argparse.Namespace) -> None:
    from .asgi import check_host
    from .openai_api import run
    from .settings import ApiSettings

    api = ApiSettings()
    check_host(args.host, api)  # before any slow ingest
    settings = rag.Settings()
    _ensure_seeded(settings)
    _log_to_stderr()
    run(settings, args.host, args.port, api)


def _show_steps() -> None:
    """Print the library's notes of slow one-time steps on stderr as they start, so a wait never looks hung."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in STEP_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False


def _log_to_stderr() -> None:
    """A server's log: what Papertrail refuses or fails at (the `rag` and `ui` loggers, INFO and up), one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("rag", "ui"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def _print_stream(pieces: Iterator[str | rag.Answer]) -> rag.Answer:
    """Print streamed text as it arrives; reprint the answer when the checks changed it, and after the abstention
    phrase say why it declined. Returns the Answer."""
    streamed = []
    for piece in pieces:
        if isinstance(piece, str):
            streamed.append(piece)
            say(piece, end="")
            continue
        if piece.text != "".join(streamed):
            say(f"\n\nChecked answer: {piece.text}", end="")
        say(f" {piece.reason}" if piece.abstained and piece.reason else "")
        return piece
    raise RuntimeError("the answer stream ended without an answer")


def render(answer: rag.Answer) -> str:
    """What follows the streamed answer: its notes and flags, then its sources (numbered when cited, under a heading
    saying which they are) with dates, link and only the quoted sentences the answer does not already say."""
    blocks = ["\n".join([f"Note: {note}" for note in answer.notes] + flags(answer))]
    if listed := listed_sources(answer):
        quotes = quotes_to_show(answer)
        lines = [f"{sources_heading(answer)}:"]
        for source in listed:
            marker = "-" if answer.abstained else f"[{source.n}]"
            lines.append(f"{marker} {source.title} · listed {dates_label(source.dates)}")
            if source.authors or source.arxiv_url:
                lines.append("    " + " · ".join(filter(None, [byline(source), source.arxiv_url])))
            lines.extend(f'    "{quote}"' for quote in quotes.get(source.n, []))
        blocks.append("\n".join(lines))
    blocks.append(f"(answered by {answer.backend} in {answer.timings_ms.get('total', 0):.0f} ms)")
    return "\n" + "\n\n".join(block for block in blocks if block)


if __name__ == "__main__":
    sys.exit(main())
