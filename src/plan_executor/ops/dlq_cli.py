"""`plan-executor dlq` and `plan-executor redrive-ledger`: the DLQ for an operator.

    plan-executor dlq [--queue-url URL | --stack NAME] [--max N]
    plan-executor redrive-ledger [--queue-url URL | --stack NAME] [--max N]

`dlq` lists and decodes every message (kind, plan, error) and leaves them all in the queue.
`redrive-ledger` writes each dead-lettered ledger to the S3 keys it belongs to and deletes its
messages once both objects are confirmed there; run twice, the second run changes nothing.
The queue is `--queue-url`, else the `DeadLetterQueueUrl` output of `--stack`, else
`$FAILURE_QUEUE_URL`. Exit status: 0 done, 1 a ledger could not be redriven, 2 no queue or
the queue could not be read.
"""

import argparse
import sys
from typing import Any, Final

COMMANDS: Final = ("dlq", "redrive-ledger")
EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE = 0, 1, 2
QUEUE_OUTPUT: Final = "DeadLetterQueueUrl"


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    listing = commands.add_parser("dlq", help="list and decode the DLQ's messages (kept)")
    redrive = commands.add_parser(
        "redrive-ledger", help="write dead-lettered ledgers to S3, then delete their messages"
    )
    for parser in (listing, redrive):
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--queue-url", metavar="URL")
        where.add_argument("--stack", metavar="NAME", help="read the queue from its outputs")
        parser.add_argument("--max", type=int, default=1000, metavar="N", help="messages to read")


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from plan_executor.ops import dlq_queue  # noqa: PLC0415

    try:
        queue_url = _queue_url(args)
        sqs = dlq_queue.sqs_client()
        if args.command == "dlq":
            return _list(sqs, queue_url, args.max)
        return _redrive(sqs, queue_url, args.max)
    except (BotoCoreError, ClientError, LookupError) as error:
        sys.stderr.write(f"plan-executor {args.command}: {error}\n")
        return EXIT_UNUSABLE


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _queue_url(args: argparse.Namespace) -> str:
    from plan_executor.ops import stack_outputs  # noqa: PLC0415

    return stack_outputs.resolve(
        args.queue_url,
        args.stack,
        key=QUEUE_OUTPUT,
        env="FAILURE_QUEUE_URL",
        flag="--queue-url",
        what="queue",
    )


def _list(sqs: Any, queue_url: str, limit: int) -> int:
    from plan_executor.ops import dlq_messages, dlq_queue  # noqa: PLC0415

    messages = dlq_queue.read_all(sqs, queue_url, limit=limit)
    try:
        for message in messages:
            described = dlq_messages.describe(message)
            _say(f"[{described.kind.value}]")
            for name, value in described.fields:
                _say(f"  {name}: {value}")
        for group in dlq_messages.ledger_groups(messages):
            state = "complete: redrive-ledger writes it" if group.ledger else group.problem
            _say(f"ledger of {len(group.messages)} message(s): {state}")
    finally:
        dlq_queue.release(sqs, queue_url, messages)
    _say(f"{len(messages)} message(s) in {queue_url}; none deleted")
    return EXIT_OK


def _redrive(sqs: Any, queue_url: str, limit: int) -> int:
    from plan_executor.ops import dlq_queue  # noqa: PLC0415

    report = dlq_queue.redrive(sqs, queue_url, limit=limit)
    for key in report.written:
        _say(f"in place: {key}")
    for problem in report.problems:
        _say(f"left in the DLQ: {problem}")
    _say(f"{len(report.written)} object(s) in place, {len(report.problems)} ledger(s) left")
    return EXIT_PROBLEM if report.problems else EXIT_OK
