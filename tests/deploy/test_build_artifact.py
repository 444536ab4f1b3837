"""The build script's own rules, on small trees (the real build runs in `make build`)."""

import zipfile
from pathlib import Path
from types import ModuleType

import pytest


def _write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_platform_tags_cover_lambda_glibc_for_the_arch(build_script: ModuleType) -> None:
    tags = build_script.platform_tags("arm64")
    assert "manylinux_2_34_aarch64" in tags  # Amazon Linux 2023
    assert "manylinux_2_28_aarch64" in tags  # numpy/pandas wheels need more than 2014
    assert "manylinux2014_aarch64" in tags
    assert "manylinux_2_35_aarch64" not in tags  # newer than Lambda's glibc
    assert all(tag.endswith("_aarch64") for tag in tags)
    assert all(tag.endswith("_x86_64") for tag in build_script.platform_tags("x86_64"))


def test_zip_is_reproducible_and_world_readable(build_script: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "artifact"
    _write(source / "pkg" / "__init__.py")
    _write(source / "pkg" / "data.json", "{}")
    (source / "pkg" / "data.json").chmod(0o600)
    first = build_script.write_zip(source, tmp_path / "first.zip")
    (source / "pkg" / "__init__.py").touch()  # a newer mtime must not change the bytes
    second = build_script.write_zip(source, tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()
    assert first.files == second.files == 2
    assert first.unzipped == len("x = 1\n") + len("{}")
    with zipfile.ZipFile(tmp_path / "first.zip") as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes == {"pkg/__init__.py": 0o100644, "pkg/data.json": 0o100644}


def test_strip_removes_test_suites_stubs_and_caches_only(
    build_script: ModuleType, tmp_path: Path
) -> None:
    kept = [
        _write(tmp_path / "numpy" / "testing" / "__init__.py"),
        _write(tmp_path / "pandas" / "core" / "frame.py"),
        _write(tmp_path / "aiohttp" / "tests.py"),
        _write(tmp_path / "otherlib" / "tests" / "__init__.py"),
    ]
    removed = [
        _write(tmp_path / "numpy" / "_core" / "tests" / "test_a.py", "a" * 100),
        _write(tmp_path / "numpy" / "typing" / "tests" / "data" / "fail" / "b.pyi"),
        _write(tmp_path / "pandas" / "tests" / "frame" / "test_frame.py"),
        _write(tmp_path / "pandas" / "__pycache__" / "x.cpython-312.pyc"),
        _write(tmp_path / "pydantic" / "main.pyi"),
        _write(tmp_path / "bin" / "f2py"),
    ]
    expected_saved = sum(path.stat().st_size for path in removed)
    assert build_script.strip_unused(tmp_path) == expected_saved
    assert all(path.exists() for path in kept)
    assert not any(path.exists() for path in removed)


def test_contents_check_refuses_the_simulator_and_test_tools(
    build_script: ModuleType, tmp_path: Path
) -> None:
    _write(tmp_path / "plan_executor" / "__init__.py")
    build_script.check_contents(tmp_path)
    _write(tmp_path / "alpaca_sim" / "__init__.py")
    with pytest.raises(build_script.BuildError, match="alpaca_sim"):
        build_script.check_contents(tmp_path)


def test_contents_check_requires_the_service(build_script: ModuleType, tmp_path: Path) -> None:
    _write(tmp_path / "pandas" / "__init__.py")
    with pytest.raises(build_script.BuildError, match="plan_executor"):
        build_script.check_contents(tmp_path)


def test_size_check_enforces_lambdas_unzipped_limit(build_script: ModuleType) -> None:
    limit = build_script.UNZIPPED_LIMIT_BYTES
    build_script.check_size(build_script.ZipSizes(zipped=1, unzipped=limit - 1, files=1))
    with pytest.raises(build_script.BuildError, match="250 MB"):
        build_script.check_size(build_script.ZipSizes(zipped=1, unzipped=limit, files=1))


def test_a_missing_python312_is_reported_not_crashed(
    build_script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.12, no pyenv
    monkeypatch.delenv("PYTHON312", raising=False)
    with pytest.raises(build_script.BuildError, match=r"no Python 3\.12"):
        build_script.find_python312(str(tmp_path / "not-a-python"))
