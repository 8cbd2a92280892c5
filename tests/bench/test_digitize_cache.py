"""bench/digitize_cache.py: the cache layout the screening cache and the tiled bench read, resuming, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ecg.errors import EcgInputError
from ecg.io import read_record
from ecg.record import LEADS, EcgRecord

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PHOTO = REPO / "samples" / "photo-ptbxl-00001.jpg"


@pytest.fixture(scope="module")
def tool(load_bench):
    return load_bench("digitize_cache")


class FakeDigitizer:
    """Stands in for digitize_image: a known record per image, a refusal for names starting with "bad"."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, image: Path) -> SimpleNamespace:
        self.calls.append(image.stem)
        if image.stem.startswith("bad"):
            raise EcgInputError(f"{image.name}: no ECG grid found")
        signals = np.full((12, 5000), np.nan)
        signals[:, :1250] = np.sin(np.linspace(0, 20, 1250)) * (1 + np.arange(12)[:, None] / 10)
        return SimpleNamespace(
            record=EcgRecord(signals, fs=500.0),
            quality=0.75,
            lead_confidence={lead: 0.5 + i / 100 for i, lead in enumerate(LEADS)},
            lead_reasons={"aVR": ("label not read",)},
            layout=SimpleNamespace(template="3x4+1"),
        )


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a001.png", "a002.jpg", "bad003.png"):
        (folder / name).write_bytes(b"not decoded by the fake digitizer")
    (folder / "index.csv").write_text("name\n")  # not an image: ignored
    return folder


def test_writes_record_meta_and_error_files(tool, images: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "test"
    fake = FakeDigitizer()
    summary = tool.cache_folder(images, cache, digitize=fake, log=lambda _: None)
    assert (summary.digitized, summary.failed, summary.skipped) == (2, 1, 0)
    assert sorted(p.name for p in cache.iterdir()) == [
        "a001.json", "a001.meta.json", "a002.json", "a002.meta.json", "bad003.error"]
    meta = json.loads((cache / "a002.meta.json").read_text())
    assert meta["quality"] == 0.75 and meta["layout"] == "3x4+1" and meta["image"] == "a002.jpg"
    assert meta["lead_confidence"]["V6"] == pytest.approx(0.61)
    assert meta["lead_reasons"] == {"aVR": ["label not read"]}
    assert meta["seconds"] >= 0 and "digitizer" in meta
    record = read_record(cache / "a001.json", fs=500.0)
    expected = fake(images / "a001.png").record.signals
    np.testing.assert_allclose(record.signals[:, :1250], expected[:, :1250], atol=1e-3)
    assert np.isnan(record.signals[:, 1250:]).all()
    assert "no ECG grid found" in (cache / "bad003.error").read_text()


def test_rerun_skips_cached_images_and_retries_errors_on_request(tool, images: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    tool.cache_folder(images, cache, digitize=FakeDigitizer(), log=lambda _: None)
    again = FakeDigitizer()
    summary = tool.cache_folder(images, cache, digitize=again, log=lambda _: None)
    assert again.calls == [] and summary.skipped == 3
    (cache / "a001.meta.json").unlink()  # an interrupted entry: the record without its meta is not "done"
    retry = FakeDigitizer()
    summary = tool.cache_folder(images, cache, digitize=retry, retry_errors=True, log=lambda _: None)
    assert retry.calls == ["a001", "bad003"] and (summary.digitized, summary.failed) == (1, 1)


def test_limit_and_threads(tool, images: Path, tmp_path: Path) -> None:
    fake = FakeDigitizer()
    summary = tool.cache_folder(images, tmp_path / "c", limit=2, threads=2, digitize=fake, log=lambda _: None)
    assert sorted(fake.calls) == ["a001", "a002"] and summary.digitized == 2


def test_bad_arguments_give_clear_errors(tool, images: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="image folder not found"):
        tool.cache_folder(tmp_path / "missing", tmp_path / "c")
    with pytest.raises(SystemExit, match="--threads"):
        tool.cache_folder(images, tmp_path / "c", threads=0, digitize=FakeDigitizer())


def test_screening_cache_reads_what_the_tool_wrote(tool, images: Path, tmp_path: Path) -> None:
    """The reader in classify/train/screening_cache.py takes the cached record, quality and confidences."""
    from classify.train.screening_cache import _digitizer

    cache = tmp_path / "cache"
    tool.cache_folder(images, cache, digitize=FakeDigitizer(), log=lambda _: None)
    run = _digitizer(cache, wait=True)
    record, quality, confidence = run(None, "a001")
    assert quality == 0.75 and confidence["I"] == pytest.approx(0.5)
    assert np.isfinite(record.signals[:, :1250]).all()
    with pytest.raises(EcgInputError, match="no ECG grid found"):
        run(None, "bad003")


def test_real_digitizer_on_the_bundled_photo(tool, tmp_path: Path) -> None:
    """End to end with digitize_image on the bundled phone photo (a few seconds)."""
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(SAMPLE_PHOTO, folder / SAMPLE_PHOTO.name)
    cache = tmp_path / "cache"
    summary = tool.cache_folder(folder, cache, log=lambda _: None)
    stem = SAMPLE_PHOTO.stem
    if summary.failed:
        pytest.fail("the bundled photo was refused: " + (cache / f"{stem}.error").read_text())
    meta = json.loads((cache / f"{stem}.meta.json").read_text())
    assert 0.0 <= meta["quality"] <= 1.0 and meta["layout"] and set(meta["lead_confidence"]) <= set(LEADS)
    record = read_record(cache / f"{stem}.json", fs=500.0)
    assert np.isfinite(record.signals).sum() > 12 * 500  # at least a second per lead on average


def test_digitize_eval_scores_the_cache(tool, load_bench, images: Path, tmp_path: Path, capsys) -> None:
    """bench/digitize_eval.py --cached scores stored digitizations: a reference equal to the record is perfect, one
    of unrelated noise is confidently wrong (quality 0.75), a refusal counts as refused."""
    evaluator = load_bench("digitize_eval")
    from ecg.io import write_record

    cache = tmp_path / "cache"
    tool.cache_folder(images, cache, digitize=FakeDigitizer(), log=lambda _: None)
    refs = tmp_path / "refs"
    refs.mkdir()
    good = read_record(cache / "a001.json", fs=500.0)
    write_record(good, refs / "a001.json")
    wrong = read_record(cache / "a002.json", fs=500.0).signals.copy()
    finite = np.isfinite(wrong)
    wrong[finite] = np.random.default_rng(0).normal(0.0, 1.0, finite.sum())  # unrelated to what was traced
    write_record(EcgRecord(wrong, fs=500.0), refs / "a002.json")
    write_record(good, refs / "bad003.json")
    outcomes = evaluator.cached_outcomes(evaluator.find_pairs(images, refs), cache)
    assert set(outcomes) == {"a001", "a002", "bad003"}
    assert outcomes["a001"].snr > 40 and outcomes["a001"].quality == 0.75
    assert outcomes["a002"].snr < 3 and "no ECG grid found" in outcomes["bad003"].error
    assert outcomes["a001"].lead_reasons["aVR"] == "label not read"
    assert evaluator.main([str(images), str(refs), "--cached", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "confidently wrong: images 1 of 2" in out and "refused 1" in out
