"""Reader corrections through the API (issue 19): a misnamed synthetic print is corrected into a new version whose
leads match the ground truth; versions keep their files; bad corrections and conflicts answer clearly."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
from api_testkit import AUTH, KEY
from corrections_kit import SWAP, snr_of, swapped_print
from standin_app import GatedPipeline

from ecg.io import read_record

SWAPPED = ("I", "aVR")


@pytest.fixture(scope="module")
def printed():
    return swapped_print()


def _signals(client, job_id: str, version: int | None, tmp_path) -> np.ndarray:
    query = f"?version={version}" if version else ""
    response = client.get(f"/api/v1/reports/{job_id}/signals.csv{query}", headers=AUTH)
    assert response.status_code == 200, response.text
    path = tmp_path / f"v{version}.csv"
    path.write_bytes(response.content)
    return read_record(path, fs=500.0).signals


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def _upload(client, png: bytes) -> str:
    response = client.post("/api/v1/reports?wait=true", headers=AUTH, files={"file": ("print.png", png, "image/png")})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def test_one_correction_gives_the_right_leads_and_a_new_version(make_client, settings, printed, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{KEY} reader-ann\n")
    client = make_client(api_keys=[], api_keys_file=keys)
    job_id = _upload(client, printed.png)
    first = client.get(f"/api/v1/reports/{job_id}", headers=AUTH).json()
    assert first["version"] == 1 and first["latest_version"] == 1
    before = snr_of(printed.truth, _signals(client, job_id, None, tmp_path), printed.fs, SWAPPED)
    axis_before = first["report"]["measurements"]["qrs_axis_deg"]

    response = client.post(f"/api/v1/reports/{job_id}/corrections", headers=AUTH,
                           json={"rename": SWAP, "note": "aVR printed first", "base_version": 1})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 2 and response.headers["Location"].endswith("?version=2")
    review = body["report"]["review"]
    assert review["corrections"]["changed"] == ["I ↔ aVR"]
    assert review["corrections"]["by"] == "reader-ann" and review["corrections"]["from_version"] == 1
    assert review["user_set"] == {"rename": SWAP}
    after = snr_of(printed.truth, _signals(client, job_id, 2, tmp_path), printed.fs, SWAPPED)
    print(f"SNR over I and aVR: automatic {before:.1f} dB, corrected {after:.1f} dB")
    assert before < 3.0 and after > 10.0
    axis_after = body["report"]["measurements"]["qrs_axis_deg"]
    assert abs(axis_after - printed.truth_axis_deg) < 15 < abs(axis_before - printed.truth_axis_deg)

    # the latest by default, the earlier on request; every version keeps its files
    assert client.get(f"/api/v1/reports/{job_id}", headers=AUTH).json()["version"] == 2
    old = client.get(f"/api/v1/reports/{job_id}?version=1", headers=AUTH).json()
    assert old["report"]["measurements"]["qrs_axis_deg"] == axis_before and "review" not in old["report"]
    pdf1 = client.get(f"/api/v1/reports/{job_id}/pdf?version=1", headers=AUTH)
    pdf2 = client.get(f"/api/v1/reports/{job_id}/pdf", headers=AUTH)
    assert pdf1.status_code == pdf2.status_code == 200 and pdf1.content != pdf2.content
    text = _pdf_text(pdf2.content)
    assert "corrected by the reader" in text and "reader-ann" in text and "I ↔ aVR" in text
    assert "corrected by the reader" not in _pdf_text(pdf1.content)
    assert client.get(f"/api/v1/reports/{job_id}/overlay.png?version=2", headers=AUTH).status_code == 200
    assert client.get(f"/api/v1/reports/{job_id}?version=3", headers=AUTH).status_code == 404
    listing = client.get(f"/api/v1/reports/{job_id}/versions", headers=AUTH).json()
    assert [v["version"] for v in listing["versions"]] == [1, 2] and listing["latest_version"] == 2

    # a second reader still looking at version 1: refused, nothing lost
    stale = client.post(f"/api/v1/reports/{job_id}/corrections", headers=AUTH,
                        json={"speed_mm_s": 50, "base_version": 1})
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    assert client.get(f"/api/v1/reports/{job_id}", headers=AUTH).json()["version"] == 2

    # settings add up: exclude a lead on top of the swap
    third = client.post(f"/api/v1/reports/{job_id}/corrections", headers=AUTH, json={"exclude": ["v3"]})
    assert third.status_code == 201, third.text
    user_set = third.json()["report"]["review"]["user_set"]
    assert user_set == {"rename": SWAP, "exclude": ["V3"]}
    digitized = third.json()["report"]["digitization"]
    assert digitized["lead_confidence"]["V3"] == 0.0 and digitized["lead_reasons"]["V3"] == ["excluded by the user"]

    # deleting the report erases every version
    assert client.delete(f"/api/v1/reports/{job_id}", headers=AUTH).status_code == 204
    gone = client.post(f"/api/v1/reports/{job_id}/corrections", headers=AUTH, json={"speed_mm_s": 50})
    assert gone.status_code == 404
    assert not (settings.data_dir / "jobs" / job_id).exists()


@pytest.mark.parametrize(("body", "needle"), [
    ({"rename": {"V7": "V1"}}, "unknown lead name"),
    ({"exclude": ["X"]}, "unknown lead name"),
    ({"speed_mm_s": 500}, "impossible"),
    ({"gain_mm_mv": 0.1}, "impossible"),
    ({"layout": "7x7"}, "unknown layout"),
    ({}, "nothing to correct"),
    ({"note": "only a note"}, "nothing to correct"),
    ({"speed_mm_s": 25, "unknown_field": 1}, "extra"),
    ({"leads": ["I", "II"]}, "cannot be read with these settings"),
])
def test_bad_corrections_are_refused_and_change_nothing(client, photo_bytes, body, needle):
    job_id = _upload(client, photo_bytes)
    response = client.post(f"/api/v1/reports/{job_id}/corrections", headers=AUTH, json=body)
    assert response.status_code == 422, response.text
    assert needle in str(response.json()["detail"]).lower()
    after = client.get(f"/api/v1/reports/{job_id}", headers=AUTH).json()
    assert after["version"] == 1 and after["latest_version"] == 1


def test_unknown_running_and_keyless_corrections(make_client, photo_bytes):
    gated = GatedPipeline()
    client = make_client(pipeline=gated)
    assert client.post("/api/v1/reports/" + "0" * 32 + "/corrections", headers=AUTH,
                       json={"speed_mm_s": 50}).status_code == 404
    assert client.post("/api/v1/reports/nonsense/corrections", headers=AUTH, json={"speed_mm_s": 50}).status_code == 404
    job = client.post("/api/v1/reports", headers=AUTH, files={"file": ("p.jpg", photo_bytes, "image/jpeg")}).json()
    assert client.post(f"/api/v1/reports/{job['id']}/corrections", json={"speed_mm_s": 50}).status_code == 401
    gated.started.acquire(timeout=30)
    running = client.post(f"/api/v1/reports/{job['id']}/corrections", headers=AUTH, json={"speed_mm_s": 50})
    assert running.status_code == 409 and "running" in running.json()["detail"]
    gated.gate.set()


def test_a_signal_record_cannot_be_corrected(client, edf_bytes):
    job = client.post("/api/v1/reports?wait=true", headers=AUTH,
                      files={"file": ("r.edf", edf_bytes, "application/octet-stream")}).json()
    response = client.post(f"/api/v1/reports/{job['id']}/corrections", headers=AUTH, json={"speed_mm_s": 50})
    assert response.status_code == 422 and "signal record" in response.json()["detail"]
