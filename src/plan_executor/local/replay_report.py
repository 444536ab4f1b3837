"""The end of `plan-executor replay`: the HTML report of the plan run 1 executed, read back
from the ledger bucket as `plan-executor report` reads it, written to a file."""

from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from plan_executor.cli_format import INDENT
from plan_executor.domain.ledger_keys import RESULT_OBJECT
from plan_executor.domain.results import ExecutionResult
from plan_executor.local.aws_stack import AwsStack


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    lines: list[str]
    problems: list[str] = field(default_factory=list)


def write_run_report(aws: AwsStack, result: ExecutionResult | None, path: Path) -> ReportOutcome:
    """Write the report of `result`'s attempt to `path`; None or no ledger: nothing to report
    (the run's own checks already failed the replay)."""
    keys = [] if result is None or result.ledger is None else result.ledger.keys
    result_key = next((key for key in keys if key.endswith("/" + RESULT_OBJECT)), None)
    if result is None or result.ledger is None or result_key is None:
        return ReportOutcome([f"{INDENT}report: none (run 1 left no ledger to report on)"])
    from plan_executor.ops.report_html import write_report  # noqa: PLC0415 (matplotlib)
    from plan_executor.ops.report_source import ReportSourceError, load_record  # noqa: PLC0415

    try:
        record = load_record(aws.client("s3"), result.ledger.bucket, result_key)
    except (ReportSourceError, BotoCoreError, ClientError) as error:
        return ReportOutcome([f"{INDENT}report: not written"], [f"report not written: {error}"])
    written = write_report(record, path)
    return ReportOutcome([f"{INDENT}report of plan {result.plan_id} (HTML): {written}"])
