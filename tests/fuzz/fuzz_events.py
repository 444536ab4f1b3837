"""Coverage-guided fuzzing of event parsing (atheris, libFuzzer): raw bytes go in; out comes
either a refusal whose violations are well formed, or an event safe to execute. Any other
exception or a failed check is a finding. Not part of `make test`; from the repository root:

    python -m tests.fuzz.fuzz_events -max_total_time=60 [-runs=N] [CORPUS_DIR ...]

Without a corpus directory the saved events are copied to a scratch one as seeds (libFuzzer
writes new inputs into its corpus directories, so events/ itself is never given); findings go
to a scratch directory too unless -artifact_prefix= says where (the path is printed).
"""

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["plan_executor"]):
    from plan_executor.domain.events import decode_event_object
    from plan_executor.domain.validation import PlanValidationError
    from plan_executor.invocation import parse_event

from tests.reliability.hostile_support import assert_safe_to_execute, assert_well_formed

EVENTS = Path(__file__).resolve().parents[2] / "events"
DICTIONARY = Path(__file__).with_name("event.dict")


def check_one_input(data: bytes) -> None:
    try:
        event = parse_event(decode_event_object(data))
    except PlanValidationError as error:
        for violation in error.violations:
            assert_well_formed(violation)
        return
    assert_safe_to_execute(event)


def with_defaults(argv: list[str]) -> list[str]:
    """`argv`, plus a scratch corpus seeded with the saved events when none is given, findings
    written to a scratch directory (not the working directory) unless told where, and the JSON
    dictionary beside this file unless another is given."""
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-events-"))
    args = list(argv)
    if not any(arg.startswith("-artifact_prefix=") for arg in args):
        args.append(f"-artifact_prefix={scratch}/")
    if not any(arg.startswith("-dict=") for arg in args):
        args.append(f"-dict={DICTIONARY}")
    if not any(not arg.startswith("-") for arg in args[1:]):
        corpus = scratch / "corpus"
        corpus.mkdir()
        for seed in EVENTS.glob("*.json"):
            shutil.copy(seed, corpus)
        args.append(str(corpus))
    return args


def main() -> None:
    atheris.Setup(with_defaults(sys.argv), check_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
