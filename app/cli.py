"""The ``ragqa`` command: ingest, serve, ask."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from app.errors import RagqaError
from app.settings import Settings

if TYPE_CHECKING:
    from app.answer.types import Citation

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

cli = typer.Typer(
    help="Local, private question answering over your articles, with citations.",
    no_args_is_help=True,
    add_completion=False,
)

IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index folder (default RAGQA_INDEX_DIR).")
]


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or "": may resolve to a public interface


def public_bind_warning(host: str, api_key: str | None) -> str | None:
    """The loud warning ``ragqa serve`` prints when it would listen beyond this machine
    without an API key; ``None`` when the bind is safe."""
    if api_key or is_loopback(host):
        return None
    return (
        f"WARNING: binding {host or 'all interfaces'} without RAGQA_API_KEY: anyone who can "
        "reach this port can upload and delete documents. Set RAGQA_API_KEY, or bind "
        "127.0.0.1."
    )


def _settings(index: Path | None = None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if index is not None:
        values["index_dir"] = index
    return Settings(**values)  # type: ignore[arg-type]


def _fail(exc: RagqaError) -> NoReturn:
    typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound right now, or ``None`` when it can.

    Checked before the embedder and the model load, so a taken port fails in a moment
    rather than after them."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            return (
                f"cannot listen on {host}:{port} ({exc.strerror or exc}). Another program "
                "(perhaps another ragqa) holds the port: stop it, or choose another with "
                "--port or RAGQA_PORT"
            )
    return None


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@cli.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).")],
    index: IndexOpt = None,
    rebuild: Annotated[
        bool, typer.Option(help="Ignore the existing index; build from scratch.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="A bar of chunks embedded, with chunks per second (default: on a terminal).",
        ),
    ] = None,
) -> None:
    """Index documents. Re-running embeds only new or changed files and drops deleted ones."""
    _logging(verbose)
    logging.getLogger("app.ingest").setLevel(logging.INFO)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        typer.secho(
            f"error: no such file or folder: {', '.join(missing)} (nothing was ingested)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    from app.answer.service import RagService

    settings = _settings(index)
    try:
        service = RagService(settings)
        show = sys.stderr.isatty() if progress is None else progress
        report = service.ingest(paths, rebuild=rebuild, progress=show)
    except RagqaError as exc:
        _fail(exc)
        return
    for path, reason in report.skipped:
        typer.secho(f"skipped {path}: {reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(report.summary())


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default RAGQA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default RAGQA_PORT).")] = None,
    index: IndexOpt = None,
    corpus: Annotated[
        Path | None, typer.Option(help="Ingest this folder first if no index exists.")
    ] = None,
) -> None:
    """Serve the HTTP API and the chat page. Ingests the corpus first if there is no index."""
    import uvicorn

    from app.answer.service import RagService
    from app.api.app import build_service, create_app
    from app.vectorstore.store import IndexStore

    _logging(True)
    settings = _settings(index, host=host, port=port)
    busy = port_problem(settings.host, settings.port)
    if busy:
        typer.secho(f"error: {busy}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    warning = public_bind_warning(settings.host, settings.api_key)
    if warning:
        typer.secho(warning, fg=typer.colors.RED, bold=True, err=True)
    problems: list[str] = []
    try:
        if not IndexStore(settings.index_dir).exists():  # cheap: no embedder loaded yet
            source = corpus or settings.corpus_dir
            typer.echo(f"no index in {settings.index_dir}: ingesting {source} first")
            report = RagService(settings).ingest([source])
            typer.echo(report.summary())
    except RagqaError as exc:
        _fail(exc)
    service = build_service(settings, problems)
    for p in problems:
        typer.secho(f"WARNING: {p}", fg=typer.colors.YELLOW, err=True)
    app = create_app(settings, service)
    app.state.problems = problems
    typer.echo(f"ragqa serving on http://{settings.host}:{settings.port}  (API docs at /docs)")
    from app.memory import cap_malloc_arenas

    cap_malloc_arenas()  # before the worker threads exist: see app/memory.py
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_keep_alive=settings.keep_alive,
    )


@cli.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOpt = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full answer as JSON.")] = False,
) -> None:
    """Answer one question in-process and print it with its numbered sources."""
    from app.answer.service import RagService
    from app.llm import load_llm

    _logging(False)
    settings = _settings(index)
    try:
        service = RagService(settings, llm=load_llm(settings))
        service.open_index()
        answer = service.ask(question, top_k)
    except RagqaError as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(answer.model_dump(), indent=2, ensure_ascii=False))
        return
    typer.echo(answer.answer)
    typer.echo("")
    if answer.citations:
        typer.echo("\n".join(source_lines(answer.citations)))
    t = answer.timings
    typer.echo(
        f"\n[{answer.model}] retrieval {t.retrieval_ms:.0f} ms, {t.prompt_tokens} prompt tokens, "
        f"first token {t.ttft_ms or 0:.0f} ms, total {t.total_ms:.0f} ms"
    )


def source_lines(citations: Sequence[Citation]) -> list[str]:
    """The ``Sources:`` block of ``ragqa ask``: title, heading, page ("p. 12"), where."""
    lines = ["Sources:"]
    for c in citations:
        mark = " (attached by similarity)" if c.inferred else ""
        where = f"{c.title}" + (f" — {c.heading}" if c.heading and c.heading != c.title else "")
        page = f", p. {c.page}" if c.page is not None else ""
        lines.append(f"  [{c.number}] {where}{page}{mark}")
        lines.append(f"      {c.source} chars {c.start}-{c.end}, score {c.score:.2f}")
        snippet = " ".join(c.text.split())
        lines.append(f'      "{snippet[:240]}{"…" if len(snippet) > 240 else ""}"')
    return lines


@cli.command("eval", context_settings={"allow_extra_args": False})
def evaluate(
    args: Annotated[
        list[str],
        typer.Argument(
            help="QUESTIONS.jsonl to run a set, or: compare RUN_A RUN_B",
            metavar="QUESTIONS.jsonl | compare A B",
        ),
    ],
    index: IndexOpt = None,
    url: Annotated[str | None, typer.Option(help="Evaluate a running server instead.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results, report and plots.")] = Path(
        "runs/latest"
    ),
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    resume: Annotated[
        bool,
        typer.Option(help="Keep the answers an interrupted run in --out already saved."),
    ] = False,
    min_accuracy: Annotated[
        float | None, typer.Option(help="Fail below this answer accuracy.")
    ] = None,
    min_refusal: Annotated[
        float | None, typer.Option(help="Fail below this refusal accuracy.")
    ] = None,
    max_false_refusal: Annotated[
        float | None, typer.Option(help="Fail above this false-refusal rate.")
    ] = None,
    min_hit5: Annotated[
        float | None, typer.Option("--min-hit5", help="Fail below this hit@5.")
    ] = None,
    min_citation_precision: Annotated[float | None, typer.Option(help="Fail below this.")] = None,
) -> None:
    """Measure answer accuracy, refusals, retrieval and citations over a question set."""
    from app.evaluation import report

    _logging(False)
    if args[0] == "compare":
        if len(args) != 3:
            typer.secho("usage: ragqa eval compare RUN_A RUN_B", err=True)
            raise typer.Exit(2)
        typer.echo(report.compare(Path(args[1]), Path(args[2])))
        return
    if len(args) != 1:
        typer.secho("usage: ragqa eval QUESTIONS.jsonl [options]", err=True)
        raise typer.Exit(2)
    summary = _run_eval(args[0], _settings(index), url, out, limit, resume)
    failed = report.check_thresholds(
        summary,
        {
            "min_accuracy": min_accuracy,
            "min_refusal_correct": min_refusal,
            "max_false_refusal": max_false_refusal,
            "min_hit@5": min_hit5,
            "min_citation_precision": min_citation_precision,
        },
    )
    if failed:
        typer.secho("thresholds not met: " + "; ".join(failed), fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


# the settings an evaluation run records with its results
EVAL_SETTINGS = {
    "top_k",
    "hybrid",
    "min_score",
    "chunk_tokens",
    "chunk_overlap",
    "max_tokens",
    "n_ctx",
    "embed_model",
    "embed_backend",
    "chat_format",
    "passage_sentences",
    "passage_budget",
    "verify_claims",
    "refusal_doubt",
    "claim_min_subject",
    "prompt_examples",
    "temperature",
    "repeat_penalty",
}


def _run_eval(
    questions: str, settings: Settings, url: str | None, out: Path, limit: int | None, resume: bool
) -> dict[str, Any]:
    """Answer the question set (in process, or through the server at ``url``), write the
    results, report and plots into ``out`` and print the report; returns the summary."""
    from app.evaluation import report, runner
    from app.evaluation.dataset import load_questions
    from app.provenance import machine

    measured_on = machine()  # the code that runs is the checkout as it is now, at the start
    try:
        items = load_questions(Path(questions))[:limit]
        backend: runner.Backend
        if url:
            backend = runner.HttpBackend(url, settings.api_key)
        else:
            from app.answer.service import RagService
            from app.llm import load_llm

            service = RagService(settings, llm=load_llm(settings))
            service.open_index()
            backend = runner.InProcessBackend(service)
        rows = runner.run_saving(items, backend, out / "results.partial.jsonl", resume)
    except RagqaError as exc:
        _fail(exc)
    summary = runner.summarise(rows)
    meta = {
        # commit, dirty, date, cpu, cores…: what a document quoting these numbers cites
        **measured_on,
        "backend": backend.name,
        "questions": questions,
        "settings": settings.model_dump(mode="json", include=EVAL_SETTINGS),
    }
    report.write_run(out, rows, summary, meta)
    typer.echo((out / "report.md").read_text("utf-8").split("\n\n![")[0])
    typer.echo(f"\nwrote {out}/results.jsonl, summary.json, report.md and plots")
    return summary


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
