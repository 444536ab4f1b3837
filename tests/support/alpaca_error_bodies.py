"""Every error body recorded from real Alpaca that this project could find, with its source.

Each entry is what the broker answered (operation, HTTP status, the raw body text) and what the
broker meant by it, as its source tells (`Meaning`). The product must act on the meaning,
whatever the words and codes: tests/unit/adapters/test_alpaca_error_bodies.py feeds every entry
through the adapter's translation and resolution, and the integration tests inject the ones that
matter to money through the real SDK (tests/integration/broker/test_alpaca_broker_refusals.py).

Sources, named per entry:
- "alpaca-py tests": alpacahq/alpaca-py, tests/ (route tests with Alpaca's bodies).
- "alpaca-py #N", "Alpaca-API #N", "user-docs #N": issues in alpacahq's GitHub repositories,
  bodies pasted by users or Alpaca staff.
- "alpacahq/cli": Alpaca's CLI, .agents/skills/alpaca-cli/SKILL.md (its guidance to agents).
- "Alpaca docs": docs.alpaca.markets / alpaca.markets/learn (quoted in
  /work/shared/reference/alpaca-api.md).
- "third-party": a body recorded by another project's Alpaca client, in public GitHub code found
  through the code index (production logs, measured probes or test fixtures, as stated); not
  Alpaca's word, but recorded from it, and the only record of several wordings.
"""

from dataclasses import dataclass
from enum import Enum


class Meaning(Enum):
    """What the broker meant, which the product must act on."""

    TAKEN = "the client_order_id is already used: that order exists"
    REFUSED = "the order itself is refused: nothing was placed"
    PAST_CANCELLING = "the order is already terminal: the cancel cannot happen"
    NOT_FOUND = "no such order"
    BAD_ORDER_ID = "the order id is not an id (no such order can exist)"
    RETRY = "a transient failure: try again"
    AUTHENTICATION = "the credentials are refused"


@dataclass(frozen=True)
class RecordedBody:
    name: str
    operation: str  # "submit" (POST /v2/orders), "cancel" (DELETE /v2/orders/{id}), "read"
    status: int
    text: str  # the response body, as recorded ("" when none was)
    meaning: Meaning
    source: str
    order_state: str | None = None
    """For a cancel past cancelling: the state the order was in (what a read-back shows)."""


BODIES: tuple[RecordedBody, ...] = (
    # --- a client_order_id already used (submit) ------------------------------------------------
    RecordedBody(
        "duplicate, underscored, 40010001",
        "submit",
        422,
        '{"code":40010001,"message":"client_order_id must be unique"}',
        Meaning.TAKEN,
        "third-party: measured against the paper API in 2026 (dedup probe, also after the first "
        "order was canceled); the words users quote in alpaca-py #260",
    ),
    RecordedBody(
        "duplicate, underscored, 42210000",
        "submit",
        422,
        '{"code":42210000,"message":"client_order_id must be unique"}',
        Meaning.TAKEN,
        "third-party: recorded from a running deployment ('measured on the live box')",
    ),
    RecordedBody(
        "duplicate, spaced, 40010001",
        "submit",
        422,
        '{"code": 40010001, "message": "client order id must be unique"}',
        Meaning.TAKEN,
        "third-party: an alpaca-py APIError fixture of a paper-trading adapter",
    ),
    RecordedBody(
        "duplicate, spaced, no code",
        "submit",
        422,
        '{"message":"client order id must be unique"}',
        Meaning.TAKEN,
        "third-party: a TypeScript Alpaca client's 422 fixture ('Alpaca has used both wordings "
        "across API revisions')",
    ),
    RecordedBody(
        "duplicate, 409 without a recorded body",
        "submit",
        409,
        "",
        Meaning.TAKEN,
        "alpacahq/cli: 'The API rejects duplicates (409)'; no body recorded",
    ),
    # --- the order itself refused (submit) ------------------------------------------------------
    RecordedBody(
        "insufficient buying power",
        "submit",
        403,
        '{"buying_power":"176531.28","code":40310000,"cost_basis":"48640000",'
        '"message":"insufficient buying power"}',
        Meaning.REFUSED,
        "alpaca-py #225 (pasted by an Alpaca maintainer)",
    ),
    RecordedBody(
        "insufficient qty available",
        "submit",
        403,
        '{"available":"0","code":40310000,"existing_qty":"1367","held_for_orders":"1367",'
        '"message":"insufficient qty available for order (requested: 459, available: 0)",'
        '"related_orders":["fe845565-6e1d-4894-8642-2fef279f6aeb"],"symbol":"GE"}',
        Meaning.REFUSED,
        "Alpaca-API #111",
    ),
    RecordedBody(
        "potential wash trade",
        "submit",
        403,
        '{"code":40310000,"existing_order_id":"d70e2048-5254-4278-bd02-1f2d2535087d",'
        '"message":"potential wash trade detected. use complex orders",'
        '"reject_reason":"opposite side market/stop order exists"}',
        Meaning.REFUSED,
        "third-party: measured against the paper API in 2026 (the dedup probe's first run)",
    ),
    RecordedBody(
        "pattern day trading protection",
        "submit",
        403,
        '{"code":40310100,"message":"trade denied due to pattern day trading protection"}',
        Meaning.REFUSED,
        "Alpaca forum (alpaca-api.md B.4)",
    ),
    RecordedBody(
        "account not allowed to short",
        "submit",
        403,
        '{"code":40310000,"message":"account is not allowed to short"}',
        Meaning.REFUSED,
        "alpaca-py tests: tests/trading/trading_client/test_position_routes.py",
    ),
    RecordedBody(
        "cost basis below the minimum",
        "submit",
        403,
        '{"code":40310000,"message":"cost basis must be >= 1"}',
        Meaning.REFUSED,
        "observed (alpaca-api.md B.4)",
    ),
    RecordedBody(
        "cost basis below the minimal amount",
        "submit",
        403,
        '{"code":40310000,"message":"cost basis must be >= minimal amount of order 1"}',
        Meaning.REFUSED,
        "this project's issue 13, from its comparison with recorded Alpaca answers",
    ),
    RecordedBody(
        "forbidden without a code",
        "submit",
        403,
        '{"message":"forbidden."}',
        Meaning.REFUSED,
        "observed (alpaca-api.md B.4)",
    ),
    RecordedBody(
        "sub-penny limit price",
        "submit",
        422,
        '{"code":42210000,"message":"invalid limit_price 290.123. sub-penny increment does not '
        'fulfill minimum pricing criteria"}',
        Meaning.REFUSED,
        "Alpaca docs (alpaca-api.md B.4)",
    ),
    RecordedBody(
        "fractional orders must be DAY",
        "submit",
        422,
        '{"code":42210000,"message":"fractional orders must be DAY orders"}',
        Meaning.REFUSED,
        "observed (alpaca-api.md B.4)",
    ),
    RecordedBody(
        "qty or notional missing",
        "submit",
        422,
        '{"code":40010001,"message":"qty or notional is required"}',
        Meaning.REFUSED,
        "observed (alpaca-api.md B.4)",
    ),
    RecordedBody(
        "client_order_id too long",
        "submit",
        422,
        '{"code":40010001,"message":"client_order_id must be no more than 128 characters"}',
        Meaning.REFUSED,
        "third-party: an Alpaca paper broker's test fixture",
    ),
    RecordedBody(
        "unknown symbol",
        "submit",
        422,
        '{"code":42210000,"message":"asset \\"ZZZZ\\" not found"}',
        Meaning.REFUSED,
        "third-party: an Alpaca paper broker's test fixture",
    ),
    RecordedBody(
        "rate limited",
        "submit",
        429,
        '{"code":42910000,"message":"rate limit exceeded"}',
        Meaning.RETRY,
        "third-party: the trading client's answer to a throttled call; 'rate limit exceeded' in "
        "alpacahq/alpaca-trade-api-csharp #416",
    ),
    # --- a cancel of an order past cancelling ---------------------------------------------------
    RecordedBody(
        "cancel of a filled order",
        "cancel",
        422,
        '{"code":42210000,"message":"order is already in \\"filled\\" state"}',
        Meaning.PAST_CANCELLING,
        "third-party: production logs in bennycode/trading-signals PR #1079 (and other clients' "
        "logs)",
        order_state="filled",
    ),
    RecordedBody(
        "cancel of a canceled order",
        "cancel",
        422,
        '{"code": 42210000, "message": "order is already in \\"canceled\\" state"}',
        Meaning.PAST_CANCELLING,
        "third-party: an Alpaca port's test fixture",
        order_state="canceled",
    ),
    RecordedBody(
        "cancel refused without a body",
        "cancel",
        422,
        "",
        Meaning.PAST_CANCELLING,
        "alpaca-py tests: test_order_routes.py::test_cancel_order_throws_uncancelable_error; "
        "Alpaca docs ('Cancel an Order by ID': 422 when no longer cancelable, e.g. filled)",
        order_state="filled",
    ),
    RecordedBody(
        "cancel of an unknown order",
        "cancel",
        404,
        '{"code": 40410000, "message": "order not found"}',
        Meaning.NOT_FOUND,
        "alpaca-py tests: test_order_routes.py::test_cancel_orders (a 207 entry's body)",
    ),
    # --- reads ----------------------------------------------------------------------------------
    RecordedBody(
        "order id that is not a UUID",
        "read",
        422,
        '{"code":40010001,"message":"order_id is missing"}',
        Meaning.BAD_ORDER_ID,
        "Alpaca-API #135 (answered by Alpaca staff)",
    ),
    RecordedBody(
        "unknown client_order_id",
        "read",
        404,
        '{"code":40410000,"message":"order not found for sig-1-a1"}',
        Meaning.NOT_FOUND,
        "third-party: an Alpaca paper broker's test fixture",
    ),
    RecordedBody(
        "unauthorized",
        "read",
        401,
        '{"message": "unauthorized"}',
        Meaning.AUTHENTICATION,
        "Alpaca docs: 'How to fix common trading API errors' (alpaca.markets/learn)",
    ),
    RecordedBody(
        "unauthorized, with a full stop",
        "read",
        401,
        '{"message": "unauthorized."}\n',
        Meaning.AUTHENTICATION,
        "third-party: an Alpaca paper broker's test fixture",
    ),
)


def bodies(*, operation: str | None = None, meaning: Meaning | None = None) -> list[RecordedBody]:
    return [
        body
        for body in BODIES
        if (operation is None or body.operation == operation)
        and (meaning is None or body.meaning is meaning)
    ]
