"""The engine's own failure: raised only when no truthful result can be produced."""


class ExecutionInfrastructureError(Exception):
    """No truthful result can be produced (e.g. the broker's order list is unreadable, or an
    earlier attempt's open order cannot be confirmed cancelled). The caller should release
    idempotency and let the invocation be retried: reconciliation makes the retry safe."""
