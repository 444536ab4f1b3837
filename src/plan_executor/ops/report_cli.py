"""`plan-executor report`: one plan's execution read back from the S3 ledger, as text and HTML.

    plan-executor report PLAN_ID [--date YYYY-MM-DD] [--bucket B] [--html FILE]
    plan-executor report --latest [--date YYYY-MM-DD] [--bucket B] [--html FILE]

The ledger is read with boto3 (moto when `AWS_ENDPOINT_URL` points at it); the latest attempt
of the plan is reported. Exit status: 0 reported, 1 no such ledger or an unreadable one, 2 a
usage error. matplotlib (the charts) is dev-only: imported when the command runs.
"""

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Final

from plan_executor.ops.report_source import (
    LedgerRecord,
    ReportSourceError,
    Selection,
    find_result_key,
    load_record,
)

COMMANDS: Final = ("report",)
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
BUCKET_VARIABLE: Final = "LEDGER_BUCKET"


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    report = commands.add_parser(
        "report", help="a plan's execution from the S3 ledger: the item table, --html a page"
    )
    add = report.add_argument
    add("plan_id", nargs="?", metavar="PLAN_ID", help="the plan (its latest attempt)")
    add("--latest", action="store_true", help="the latest attempt of any plan")
    add("--date", type=_day, metavar="YYYY-MM-DD", help="only attempts started that UTC day")
    add("--bucket", help=f"the ledger bucket (default: ${BUCKET_VARIABLE})")
    add("--html", type=Path, metavar="FILE", help="also write the HTML report there")


def run(args: argparse.Namespace) -> int:
    if (args.plan_id is None) == (not args.latest):
        sys.stderr.write("report: give a PLAN_ID or --latest (not both)\n")
        return EXIT_USAGE
    bucket = args.bucket or os.environ.get(BUCKET_VARIABLE)
    if not bucket:
        sys.stderr.write(f"report: give --bucket or set {BUCKET_VARIABLE}\n")
        return EXIT_USAGE
    import boto3  # noqa: PLC0415 (keeps `plan-executor check` light)
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    s3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION"))
    try:
        key = find_result_key(s3, bucket, Selection(args.plan_id, args.date))
        record = load_record(s3, bucket, key)
    except (ReportSourceError, BotoCoreError, ClientError) as error:
        sys.stderr.write(f"report: {error}\n")
        return EXIT_FAILED
    return _print_and_write(record, args.html)


def _print_and_write(record: LedgerRecord, html: Path | None) -> int:
    from plan_executor.ops.report_html import text_lines, write_report  # noqa: PLC0415

    lines = text_lines(record)
    if html is not None:
        lines.append(f"report: {write_report(record, html)}")
    sys.stdout.write("".join(line + "\n" for line in lines))
    return EXIT_OK


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
