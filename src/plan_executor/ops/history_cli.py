"""`plan-executor history`: the named Athena queries of the ledger, run on this machine.

The ledger objects are read from S3 with boto3 (moto when `AWS_ENDPOINT_URL` points at it) and
queried with DuckDB; `--replay` first runs saved events through the real handler on a local
stack of its own, so the queries have a ledger to answer from. DuckDB and the local stack are
dev-only: imported when the command runs.
"""

import argparse
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from plan_executor.ops.history_queries import (
    NamedQuery,
    UnknownQueryError,
    named_queries,
    named_query,
)

if TYPE_CHECKING:
    from plan_executor.local.local_stack import LocalStack

COMMANDS: Final = ("history",)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
BUCKET_VARIABLE: Final = "LEDGER_BUCKET"


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    history = commands.add_parser(
        "history", help="run the named Athena queries on a ledger in S3 (or moto) with DuckDB"
    )
    add = history.add_argument
    add("--query", metavar="NAME", help="run this named query only (default: all)")
    add("--list", action="store_true", help="list the named queries and exit")
    add("--limit", type=_positive_int, metavar="N", help="the queries' LIMIT (default: theirs)")
    add("--bucket", help=f"the ledger bucket (default: ${BUCKET_VARIABLE})")
    add(
        "--replay",
        nargs="+",
        type=Path,
        default=[],
        metavar="EVENT.json",
        help="first replay these events on a local stack, then query its ledger",
    )


def run(args: argparse.Namespace) -> int:
    try:
        queries = (named_query(args.query),) if args.query else named_queries()
    except UnknownQueryError as error:
        sys.stderr.write(f"history: {error}\n")
        return EXIT_USAGE
    if args.list:
        from plan_executor.ops.history_format import query_list_lines  # noqa: PLC0415

        _write(sys.stdout, query_list_lines(queries))
        return EXIT_OK
    if args.replay:
        return _replay_then_answer(args.replay, queries, args.limit, sys.stdout)
    bucket = args.bucket or os.environ.get(BUCKET_VARIABLE)
    if not bucket:
        sys.stderr.write(f"history: give --bucket or set {BUCKET_VARIABLE}\n")
        return EXIT_USAGE
    import boto3  # noqa: PLC0415 (keeps `plan-executor check` light)

    s3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION"))
    return answer(s3, bucket, queries, args.limit, sys.stdout)


def answer(
    s3: Any, bucket: str, queries: Sequence[NamedQuery], limit: int | None, out: TextIO
) -> int:
    """Copy the ledger of `bucket`, run `queries` on it, print a table per query."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
    from duckdb import Error as DuckDBError  # noqa: PLC0415 (dev-only engine)

    from plan_executor.ops.history_format import answer_lines  # noqa: PLC0415
    from plan_executor.ops.history_local import (  # noqa: PLC0415
        LedgerCopyError,
        copy_ledger,
        history_database,
        run_query,
    )

    with tempfile.TemporaryDirectory(prefix="plan-executor-history-") as directory:
        try:
            copied = copy_ledger(s3, bucket, Path(directory))
        except (BotoCoreError, ClientError, LedgerCopyError) as error:
            sys.stderr.write(f"history: cannot read the ledger in s3://{bucket}: {error}\n")
            return EXIT_FAILED
        if copied == 0:
            sys.stderr.write(f"history: no ledger objects in s3://{bucket}/executions/\n")
            return EXIT_FAILED
        out.write(f"ledger s3://{bucket}: {copied} objects, queried with DuckDB\n")
        try:
            with history_database(Path(directory)) as database:
                for query in queries:
                    _write(out, answer_lines(query, run_query(database, query, limit)))
        except DuckDBError as error:
            sys.stderr.write(f"history: query failed: {error}\n")
            return EXIT_FAILED
    return EXIT_OK


def _replay_then_answer(
    events: Sequence[Path], queries: Sequence[NamedQuery], limit: int | None, out: TextIO
) -> int:
    from plan_executor.local.errors import StackStartError  # noqa: PLC0415
    from plan_executor.local.local_stack import StackOptions, local_stack  # noqa: PLC0415
    from plan_executor.local.replay import EventFileError, load_event  # noqa: PLC0415 (moto)

    try:
        for event in events:
            load_event(event)  # every file readable before any server starts
    except EventFileError as error:
        sys.stderr.write(f"history: {error}\n")
        return EXIT_USAGE
    try:
        with local_stack(StackOptions()) as stack:
            failed = [event for event in events if not _replayed(stack, event, out)]
            answered = answer(stack.aws.client("s3"), stack.aws.ledger_bucket, queries, limit, out)
    except StackStartError as error:
        sys.stderr.write(f"history: {error}\n")
        return EXIT_FAILED
    if failed:
        sys.stderr.write(f"history: replay failed for {', '.join(map(str, failed))}\n")
        return EXIT_FAILED
    return answered


def _replayed(stack: "LocalStack", event: Path, out: TextIO) -> bool:
    """Replay `event` once on `stack`; its full report is printed only when it failed."""
    from plan_executor.local.replay import ReplayOptions, prepare, replay_on  # noqa: PLC0415

    options = ReplayOptions(event_path=event)
    prepared = prepare(options, os.environ, datetime.now(UTC))
    captured = io.StringIO()
    status = replay_on(stack, prepared, options, out=captured, environ=os.environ)
    out.write(f"replayed {event}: {'ok' if status == 0 else 'FAILED'}\n")
    if status != 0:
        out.write(captured.getvalue())
    return status == 0


def _write(out: TextIO, lines: Sequence[str]) -> None:
    out.write("".join(line + "\n" for line in lines))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
