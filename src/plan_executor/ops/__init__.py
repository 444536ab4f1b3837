"""Operator commands of `plan-executor` (run on a person's machine against AWS or moto).

Each `*_cli.py` module here adds subcommands through `cli.COMMAND_MODULES`. Heavy or dev-only
libraries are imported when their command runs, never at import of the CLI.
"""
