"""Errors of the local tooling that the CLI reports without a traceback."""


class StackStartError(RuntimeError):
    """The local stack could not start (a port in use, the simulator failed to come up)."""
