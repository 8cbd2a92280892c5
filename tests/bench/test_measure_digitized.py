"""bench/measure_digitized.py: a missing folder or an image missing from the cache is a clear error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def tool(load_bench):
    return load_bench("measure_digitized")


def test_missing_cache_folder_is_a_clear_error(tool, tmp_path: Path, capsys) -> None:
    (tmp_path / "images").mkdir()
    code = tool.main([str(tmp_path / "images"), str(tmp_path / "images"), "--cache", str(tmp_path / "nowhere")])
    assert code == 2
    assert "cache folder not found" in capsys.readouterr().err


def test_no_reference_is_a_clear_error(tool, tmp_path: Path, capsys) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a001.png").write_bytes(b"x")
    assert tool.main([str(tmp_path / "images"), str(tmp_path / "images")]) == 2
    assert "has a reference" in capsys.readouterr().err


def test_image_not_in_cache_is_a_clear_error(tool, tmp_path: Path, capsys) -> None:
    images = tmp_path / "images"
    images.mkdir()
    (images / "a001.png").write_bytes(b"never decoded: the cache is read instead")
    (images / "a001.hea").write_text("a001 12 500 5000\n")  # never read: the digitized side fails first
    (tmp_path / "cache").mkdir()
    code = tool.main([str(images), str(images), "--cache", str(tmp_path / "cache")])
    assert code == 2
    err = capsys.readouterr().err
    assert "a001" in err and "digitize_cache.py" in err
