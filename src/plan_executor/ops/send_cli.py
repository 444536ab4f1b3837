"""`plan-executor send`: put a saved plan event on a bus, made current, as the rule expects.

    plan-executor send EVENT.json [--stack NAME] [--bus B] [--source S] [--detail-type T]
                      [--as-is]

The event's timestamps move as `replay` moves them (its envelope `time` becomes now, every
other timestamp by the same offset), so the plan is not refused as stale. Source, detail-type
and bus come from the flags, else from the stack's parameters (`PlanSource`,
`PlanDetailType`, `EventBusName`) with `--stack`, else from the event itself (bus `default`).
Exit status: 0 accepted by EventBridge, 1 refused, 2 the file or the stack could not be read.
"""

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from plan_executor.local.event_time import make_current

COMMANDS: Final = ("send",)
EXIT_OK, EXIT_REFUSED, EXIT_UNUSABLE = 0, 1, 2


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    send = commands.add_parser("send", help="put a saved plan event on EventBridge, made current")
    send.add_argument("event", metavar="EVENT.json")
    send.add_argument("--stack", metavar="NAME", help="take bus, source, detail-type from it")
    send.add_argument("--bus", metavar="B", help="event bus name or ARN")
    send.add_argument("--source", metavar="S")
    send.add_argument("--detail-type", metavar="T")
    send.add_argument("--as-is", action="store_true", help="keep the saved timestamps")


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        saved = json.loads(Path(args.event).read_text(encoding="utf-8"))
        entry = _entry(args, saved)
        response = _events().put_events(Entries=[entry])
    except (OSError, ValueError, LookupError, BotoCoreError, ClientError) as error:
        sys.stderr.write(f"plan-executor send: {error}\n")
        return EXIT_UNUSABLE
    (answer,) = response["Entries"]
    if "EventId" not in answer:
        sys.stderr.write(f"refused: {answer.get('ErrorCode')}: {answer.get('ErrorMessage')}\n")
        return EXIT_REFUSED
    plan = entry_plan_id(entry)
    sys.stdout.write(
        f"sent {answer['EventId']}: {entry['Source']} / {entry['DetailType']} on "
        f"{entry['EventBusName']}, plan {plan}, at {entry['Time'].isoformat()}\n"
    )
    return EXIT_OK


def _events() -> Any:
    import boto3  # noqa: PLC0415

    return boto3.client("events", region_name=os.environ.get("AWS_REGION"))


def _entry(args: argparse.Namespace, saved: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    event = saved if args.as_is else make_current(saved, now).event
    routing = _routing(args, event)
    return {
        "Time": now,
        "Source": routing["PlanSource"],
        "DetailType": routing["PlanDetailType"],
        "EventBusName": routing["EventBusName"],
        "Detail": json.dumps(event["detail"]),
    }


def _routing(args: argparse.Namespace, event: dict[str, Any]) -> dict[str, str]:
    routing = {
        "PlanSource": str(event.get("source", "")),
        "PlanDetailType": str(event.get("detail-type", "")),
        "EventBusName": "default",
    }
    if args.stack:
        from plan_executor.ops import stack_outputs  # noqa: PLC0415

        parameters = stack_outputs.parameters(args.stack)
        routing.update({key: parameters[key] for key in routing if parameters.get(key)})
    flags = {
        "PlanSource": args.source,
        "PlanDetailType": args.detail_type,
        "EventBusName": args.bus,
    }
    routing.update({key: value for key, value in flags.items() if value})
    missing = [key for key, value in routing.items() if not value]
    if missing:
        raise LookupError(f"no {', '.join(missing)}: the event has none; give it as a flag")
    return routing


def entry_plan_id(entry: dict[str, Any]) -> str:
    detail = json.loads(entry["Detail"])
    plan = detail.get("rebalance_plan") if isinstance(detail, dict) else None
    return str(plan.get("plan_id")) if isinstance(plan, dict) else "unknown"
