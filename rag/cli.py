"""The `papertrail` command: ingest, ask, chat, stats, eval; errors end as one line and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from . import offline

offline.apply()

EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    from .errors import PapertrailError

    try:
        return args.handler(args) or 0
    except PapertrailError as err:
        print(f"papertrail: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("papertrail: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the edge of the program: one line, never a traceback
        print(f"papertrail: unexpected error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_ERROR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="papertrail", description="Cited answers over research-paper abstracts.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int | None], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("ingest", cmd_ingest, "Add paper lists (Daily Papers .txt or JSONL) to the store.")
    sub.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the seeds folder)")

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

    sub = command("bench", cmd_bench, "Measure ingest, warm ask stages, memory and cold start at several corpus sizes.")
    sub.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="synthetic corpus sizes after the seeds")
    sub.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder for the JSON results")

    # Web UI and its feedback (ui/web.py)
    sub = command("serve", cmd_serve, "Start the chat web UI (open http://127.0.0.1:7860).")
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1 only)")
    sub.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    feedback = commands.add_parser("feedback", help="Work with the thumbs up/down given in the front ends.")
    actions = feedback.add_subparsers(title="actions", metavar="ACTION")
    sub = actions.add_parser("export", help="Write the rated answers as eval JSONL lines for review.")
    sub.set_defaults(handler=cmd_feedback_export)
    sub.add_argument("--out", type=Path, default=Path("feedback-review.jsonl"), help="JSONL file to write")
    sub.add_argument("--rating", choices=["down", "up"], default="down", help="which ratings (default: down)")

    # Slack bot (ui/slack.py)
    sub = command("slack", cmd_slack, "Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP at /slack/events.")
    sub.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default: all)")
    sub.add_argument("--port", type=int, default=3000, help="HTTP mode: port to listen on (default: 3000)")
    return parser


def _answer_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--top-k", type=int, help="how many papers to draw on")
    sub.add_argument("--date", action="append", dest="dates", help="only papers listed on this date (repeatable)")
    sub.add_argument("--backend", help="answering backend (default: PAPERTRAIL_LLM)")


def _ensure_seeded(settings) -> None:
    """Ingest the seeds first when the store is empty, and say so."""
    from .store import Store

    if Store(settings).count() == 0:
        print(f"The store is empty: ingesting {settings.seeds_dir} first.", file=sys.stderr)
        _run_ingest(None, settings)


def _run_ingest(paths: list[Path] | None, settings) -> None:
    from tqdm import tqdm

    from .api import ingest

    with tqdm(total=0, unit="paper", desc="Embedding", file=sys.stderr, mininterval=0) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = ingest(paths, settings, progress=progress)
    print(
        f"{report.files} file(s), {report.papers} papers: {report.added} added, "
        f"{report.relabelled} updated, {report.unchanged} already stored ({report.chunks_added} chunks added)."
    )


def cmd_ingest(args: argparse.Namespace) -> None:
    from .settings import Settings

    _run_ingest(args.paths or None, Settings())


def cmd_ask(args: argparse.Namespace) -> None:
    from .answering import ask, ask_stream
    from .settings import Settings

    settings = Settings()
    _ensure_seeded(settings)
    if args.json:
        answer = ask(args.question, settings=settings, top_k=args.top_k, dates=args.dates, backend=args.backend)
        print(answer.model_dump_json(indent=2))
        return
    pieces = ask_stream(args.question, settings=settings, top_k=args.top_k, dates=args.dates, backend=args.backend)
    print(render(_print_stream(pieces), text=False))


def cmd_chat(args: argparse.Namespace) -> None:
    from .answering import ask_stream
    from .errors import BadInputError
    from .settings import Settings
    from .types import Turn

    settings = Settings()
    _ensure_seeded(settings)
    history: list[Turn] = []
    print("Ask about the indexed papers. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            return
        if not question:
            return
        try:
            pieces = ask_stream(question, history, settings, top_k=args.top_k, dates=args.dates, backend=args.backend)
            answer = _print_stream(pieces)
        except BadInputError as err:
            print(f"papertrail: {err}")
            continue
        print(render(answer, text=False))
        history.append(Turn(question=question, answer=answer.text))


def cmd_stats(args: argparse.Namespace) -> None:
    from .api import stats
    from .settings import Settings

    counts = stats(Settings())
    print(json.dumps(counts) if args.json else f"{counts['papers']} papers, {counts['chunks']} chunks")


def cmd_eval(args: argparse.Namespace) -> None:
    from .evaluation import evaluate, format_summary
    from .settings import Settings

    settings = Settings()
    _ensure_seeded(settings)
    summary = evaluate(args.file, args.out, settings, backend=args.backend)
    print(format_summary(summary))


def cmd_bench(args: argparse.Namespace) -> None:
    from .bench import run

    run(args.sizes, args.out)


def cmd_serve(args: argparse.Namespace) -> None:
    from .settings import Settings
    from ui.web import serve

    settings = Settings()
    _ensure_seeded(settings)
    serve(args.host, args.port, settings)


def cmd_feedback_export(args: argparse.Namespace) -> None:
    from .feedback import export_feedback
    from .settings import Settings

    count = export_feedback(args.out, Settings(), rating=args.rating)
    print(f"{count} {'thumbs-down' if args.rating == 'down' else 'thumbs-up'} answer(s) written to {args.out}")


def cmd_slack(args: argparse.Namespace) -> None:
    from .settings import Settings
    from ui.slack import credentials, run

    credentials()  # a missing token fails here, before any slow ingest
    settings = Settings()
    _ensure_seeded(settings)
    run(settings, port=args.port, host=args.host)


def _print_stream(pieces) -> object:
    """Print streamed text as it arrives; reprint the answer when the checks changed it. Returns the Answer."""
    streamed = []
    for piece in pieces:
        if isinstance(piece, str):
            streamed.append(piece)
            print(piece, end="", flush=True)
            continue
        if piece.text != "".join(streamed):
            print(f"\n\nChecked answer: {piece.text}", end="")
        print()
        return piece
    raise RuntimeError("the answer stream ended without an answer")


def render(answer, text: bool = True) -> str:
    """The answer (unless already streamed), its flags, then its numbered sources with dates and quoted sentences."""
    lines = [answer.text, ""] if text else [""]
    lines += [f"Note: {note}" for note in answer.notes]
    lines += [f'Not found verbatim in the cited abstract: "{quote}"' for quote in answer.unverified_quotes]
    lines += [f"Cites no source: {sentence}" for sentence in answer.uncited_sentences]
    quotes: dict[int, list[str]] = {}
    for citation in answer.citations:
        quotes.setdefault(citation.n, []).append(citation.quote)
    for source in answer.sources:
        if source.n not in quotes and not answer.abstained:
            continue
        dates = ", ".join(source.dates) or "no listing date"
        lines.append(f"[{source.n}] {source.title} ({dates})")
        lines.extend(f'    "{quote}"' for quote in quotes.get(source.n, []))
    lines.append(f"\n(answered by {answer.backend} in {answer.timings_ms.get('total', 0):.0f} ms)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
