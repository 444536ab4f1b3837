"""The layering contracts in pyproject.toml hold, and they do catch a violation.

Each case copies src/ into a temporary tree, plants one offending import, and runs
import-linter there with the project's own configuration: the contract must break.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_project_keeps_its_contracts(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "offending_import"),
    [
        ("plan_executor/domain/_planted.py", "import boto3"),
        ("plan_executor/domain/_planted.py", "import alpaca.trading.client"),
        ("plan_executor/domain/_planted.py", "import aws_lambda_powertools"),
        ("plan_executor/domain/_planted.py", "import plan_executor.ports"),
        ("plan_executor/domain/_planted.py", "import alpaca_sim"),
        ("plan_executor/ports_planted.py", "import alpaca_sim.venue"),
        ("alpaca_sim/_planted.py", "import plan_executor.domain"),
    ],
)
def test_a_planted_violation_breaks_the_contract(
    tree: Path, module: str, offending_import: str
) -> None:
    (tree / "src" / module).write_text(f"{offending_import}\n")
    result = _lint(tree)
    assert result.returncode != 0, f"{offending_import} in {module} went unnoticed"
    assert "BROKEN" in result.stdout
