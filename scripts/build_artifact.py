"""Build the Lambda deployment artifact without Docker: build/plan-executor.zip.

1. pip installs requirements.lock (runtime pins only, --no-deps) into build/artifact as
   manylinux wheels for CPython 3.12 on the target architecture, whatever this machine is;
2. copies src/plan_executor (never alpaca_sim, tests or tools);
3. strips what Lambda never imports (numpy/pandas test suites, stubs, pip's scripts);
4. precompiles bytecode with a real 3.12 interpreter as unchecked-hash .pyc in __pycache__:
   /var/task is read-only, so a .pyc that is not shipped is recompiled on every cold start,
   and timestamp-checked .pyc would go stale through zip's 2-second mtimes;
5. writes a reproducible zip (sorted, fixed timestamps, 0644), checks Lambda's 250 MB
   unzipped limit, and times cold imports from the artifact in fresh 3.12 processes.

Usage: python3 scripts/build_artifact.py [--arch x86_64|arm64] [--python PATH] [--import-runs N]
Python 3.12 is found from --python, $PYTHON312, PATH or pyenv. Stdlib only.
"""

# A build tool: it prints its report and runs the interpreters it was pointed at.
# ruff: noqa: S603, T201

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
SERVICE_PACKAGE = ROOT / "src" / "plan_executor"
BUILD_DIR = ROOT / "build"
ARTIFACT_DIR = BUILD_DIR / "artifact"
ZIP_PATH = BUILD_DIR / "plan-executor.zip"

LAMBDA_PYTHON = "3.12"
DEFAULT_ARCH = "x86_64"
ARCH_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
# The python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34); manylinux2014 = glibc 2.17.
LAMBDA_GLIBC_MINORS = range(17, 35)
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
DIRECT_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024

# Never in the artifact: the simulator, test and build tools.
FORBIDDEN_TOP_LEVEL = frozenset(
    {"alpaca_sim", "tests", "moto", "pytest", "_pytest", "hypothesis", "pip", "setuptools"}
)
# Local tooling inside the service package (replay, local stack): it needs moto, a dev tool.
LOCAL_ONLY_SUBPACKAGES = ("local",)
# Test suites shipped inside these packages and imported only by their own test runners.
PACKAGES_WITH_TEST_SUITES = ("numpy", "pandas")
STRIPPED_SUFFIXES = (".pyi",)
ZIP_TIMESTAMP = (2000, 1, 1, 0, 0, 0)
ZIP_LEVEL = 6  # level 9 takes 2.5x as long for a zip 0.5% smaller
IMPORT_PROBES = ("alpaca.trading.client", "plan_executor.handler")


class BuildError(Exception):
    """The artifact cannot be built or is not deployable."""


@dataclass(frozen=True)
class ZipSizes:
    zipped: int
    unzipped: int
    files: int


# ------------------------------------------------------------------ interpreter


def find_python312(explicit: str | None) -> Path:
    """A working CPython 3.12: --python, $PYTHON312, PATH, then pyenv's versions."""
    for candidate in _python312_candidates(explicit):
        if _is_python312(candidate):
            return candidate
    raise BuildError(
        "no Python 3.12 found: pass --python or set PYTHON312 (e.g. `pyenv install 3.12`)"
    )


def _python312_candidates(explicit: str | None) -> Iterator[Path]:
    for configured in (explicit, os.environ.get("PYTHON312")):
        if configured:
            yield Path(configured)
    on_path = shutil.which("python3.12")
    if on_path:
        yield Path(on_path)
    pyenv_root = _pyenv_root()
    if pyenv_root is not None:
        yield from sorted((pyenv_root / "versions").glob("3.12*/bin/python3.12"), reverse=True)


def _pyenv_root() -> Path | None:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    result = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def _is_python312(python: Path) -> bool:
    # pyenv shims exist even when 3.12 is not selected: run the candidate to be sure.
    probe = "import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)"
    try:
        result = subprocess.run([str(python), "-c", probe], capture_output=True, check=False)
    except OSError:
        return False
    return result.returncode == 0


# ------------------------------------------------------------------ build steps


def platform_tags(arch: str) -> list[str]:
    """pip --platform values for Lambda's glibc: pip does not expand manylinux_2_x itself."""
    machine = ARCH_MACHINES[arch]
    tags = [f"manylinux_2_{minor}_{machine}" for minor in reversed(LAMBDA_GLIBC_MINORS)]
    return [*tags, f"manylinux2014_{machine}"]


def install_dependencies(python: Path, arch: str, target: Path) -> None:
    platforms = [arg for tag in platform_tags(arch) for arg in ("--platform", tag)]
    command = [
        str(python), "-m", "pip", "install",
        "--target", str(target), "--no-deps", "--no-compile", "--only-binary=:all:",
        "--python-version", LAMBDA_PYTHON, "--implementation", "cp",
        *platforms,
        "--requirement", str(LOCK),
        "--disable-pip-version-check", "--root-user-action=ignore",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip install failed:\n{result.stdout}\n{result.stderr}")


def copy_service(target: Path) -> None:
    shutil.copytree(
        SERVICE_PACKAGE,
        target / SERVICE_PACKAGE.name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *LOCAL_ONLY_SUBPACKAGES),
    )


def strip_unused(target: Path) -> int:
    """Remove what Lambda never loads; return the bytes saved."""
    directories = [*_test_suites(target), *_pycache_dirs(target)]
    if (target / "bin").is_dir():
        directories.append(target / "bin")  # console scripts pip wrote
    saved = 0
    for directory in directories:
        saved += _tree_size(directory)
        shutil.rmtree(directory)
    for path in _stripped_files(target):
        saved += path.stat().st_size
        path.unlink()
    return saved


def _test_suites(target: Path) -> list[Path]:
    suites: list[Path] = []
    for package in PACKAGES_WITH_TEST_SUITES:
        suites += [p for p in (target / package).rglob("tests") if p.is_dir()]
    return _outermost(suites)


def _pycache_dirs(target: Path) -> list[Path]:
    return [p for p in target.rglob("__pycache__") if p.is_dir()]


def _stripped_files(target: Path) -> list[Path]:
    return [p for p in target.rglob("*") if p.is_file() and p.name.endswith(STRIPPED_SUFFIXES)]


def _outermost(paths: Iterable[Path]) -> list[Path]:
    kept: list[Path] = []
    for path in sorted(paths, key=lambda p: len(p.parts)):
        if not any(parent in kept for parent in path.parents):
            kept.append(path)
    return kept


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def check_contents(target: Path) -> None:
    present = sorted(p.name for p in target.iterdir() if p.name in FORBIDDEN_TOP_LEVEL)
    if present:
        raise BuildError(f"artifact must not contain: {', '.join(present)}")
    if not (target / SERVICE_PACKAGE.name / "__init__.py").is_file():
        raise BuildError("artifact is missing the plan_executor package")
    local = [
        name for name in LOCAL_ONLY_SUBPACKAGES if (target / SERVICE_PACKAGE.name / name).exists()
    ]
    if local:
        raise BuildError(f"artifact must not contain plan_executor.{', '.join(local)}")


def compile_bytecode(python: Path, target: Path) -> None:
    command = [
        str(python), "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash", str(target),
    ]  # fmt: skip
    # A fixed hash seed makes frozenset constants, and so the .pyc bytes, reproducible.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        raise BuildError(f"compileall failed:\n{result.stdout}\n{result.stderr}")


def write_zip(source: Path, destination: Path) -> ZipSizes:
    """A reproducible zip: same inputs give the same bytes, so `sam deploy` skips re-uploads."""
    destination.unlink(missing_ok=True)
    unzipped = 0
    files = sorted(p for p in source.rglob("*") if p.is_file())
    with zipfile.ZipFile(
        destination, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL
    ) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), ZIP_TIMESTAMP)
            info.external_attr = _zip_mode(path) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data, compresslevel=ZIP_LEVEL)
    return ZipSizes(zipped=destination.stat().st_size, unzipped=unzipped, files=len(files))


def _zip_mode(path: Path) -> int:
    # Lambda runs the code as another user: everything must be world-readable.
    executable = path.stat().st_mode & 0o111
    return 0o100755 if executable else 0o100644


def check_size(sizes: ZipSizes) -> None:
    if sizes.unzipped >= UNZIPPED_LIMIT_BYTES:
        raise BuildError(f"unzipped size {_mib(sizes.unzipped)} is over Lambda's 250 MB limit")


# ------------------------------------------------------------------ import timing


def time_import(python: Path, artifact: Path, module: str) -> float:
    """Seconds to import `module` in a fresh interpreter that sees only the artifact."""
    # -S: no site-packages, like Lambda, where only the artifact and the stdlib are on the path.
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(artifact)!r})\n"
        "started = time.perf_counter()\n"
        f"import {module}\n"
        "print(time.perf_counter() - started)\n"
    )
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [str(python), "-S", "-c", code], capture_output=True, text=True, env=environment,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BuildError(f"import {module} from the artifact failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def report_imports(python: Path, artifact: Path, runs: int) -> None:
    for module in IMPORT_PROBES:
        if not _module_file(artifact, module).is_file():
            print(f"  import {module}: missing (not in the artifact yet)")
            continue
        timings = [time_import(python, artifact, module) for _ in range(runs)]
        shown = ", ".join(f"{t * 1000:.0f}" for t in timings)
        print(
            f"  import {module}: median {statistics.median(timings) * 1000:.0f} ms"
            f" over {runs} fresh processes ({shown} ms)"
        )


def _module_file(artifact: Path, module: str) -> Path:
    return artifact.joinpath(*module.split(".")).with_suffix(".py")


# ------------------------------------------------------------------ main


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def build(arch: str, python: Path, import_runs: int) -> ZipSizes:
    shutil.rmtree(ARTIFACT_DIR, ignore_errors=True)
    ARTIFACT_DIR.mkdir(parents=True)
    steps: list[tuple[str, float]] = []

    started = time.perf_counter()
    install_dependencies(python, arch, ARTIFACT_DIR)
    steps.append(("pip install", time.perf_counter() - started))
    copy_service(ARTIFACT_DIR)
    saved = strip_unused(ARTIFACT_DIR)
    check_contents(ARTIFACT_DIR)
    started = time.perf_counter()
    compile_bytecode(python, ARTIFACT_DIR)
    steps.append(("compileall", time.perf_counter() - started))
    started = time.perf_counter()
    sizes = write_zip(ARTIFACT_DIR, ZIP_PATH)
    steps.append(("zip", time.perf_counter() - started))
    check_size(sizes)

    print(f"built {ZIP_PATH.relative_to(ROOT)} for python{LAMBDA_PYTHON} {arch}")
    print("  steps: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps))
    print(f"  stripped {_mib(saved)} (test suites, stubs, pip's scripts and caches)")
    print(
        f"  zipped {_mib(sizes.zipped)}, unzipped {_mib(sizes.unzipped)} in {sizes.files} files"
        f" (Lambda limit 250 MB unzipped: {sizes.unzipped / UNZIPPED_LIMIT_BYTES:.0%} used)"
    )
    if sizes.zipped > DIRECT_UPLOAD_LIMIT_BYTES:
        print("  over 50 MB zipped: deploy through S3 (sam deploy does)")
    if ARCH_MACHINES[arch] == os.uname().machine:
        report_imports(python, ARTIFACT_DIR, import_runs)
    else:
        print(f"  import timing skipped: {arch} code cannot run on {os.uname().machine}")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(ARCH_MACHINES), default=DEFAULT_ARCH)
    parser.add_argument("--python", help="path to a CPython 3.12 interpreter")
    parser.add_argument("--import-runs", type=int, default=3, metavar="N")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        python = find_python312(args.python)
        build(args.arch, python, args.import_runs)
    except BuildError as error:
        print(f"build_artifact: {error}", file=sys.stderr)
        return 1
    print(f"  total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
