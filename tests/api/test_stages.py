"""/api/v1/digitize, /analyze, /classify: success and error paths (real digitizer and analyzer, stand-in classifier)."""

from __future__ import annotations

from api_testkit import AUTH


def test_digitize_json_and_csv(client, photo_bytes):
    response = client.post("/api/v1/digitize", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["record"]["format"] == "ecgscreen.record" and body["record"]["fs"] == 500.0
    assert set(body["record"]["leads"]) >= {"I", "II", "V6"} and 0 <= body["quality"] <= 1
    csv = client.post("/api/v1/digitize?format=csv", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert csv.status_code == 200 and csv.text.startswith("time_s,I,II,III")
    bad = client.post("/api/v1/digitize?format=xml", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert bad.status_code == 422


def test_digitize_refuses_records_and_blank_images(client, edf_bytes):
    import cv2
    import numpy as np

    record = client.post("/api/v1/digitize", headers=AUTH, files={"file": ("x.png", edf_bytes)})
    assert record.status_code == 415 and "needs an image" in record.json()["detail"]
    blank = cv2.imencode(".png", np.full((600, 900, 3), 255, np.uint8))[1].tobytes()
    response = client.post("/api/v1/digitize", headers=AUTH, files={"file": ("b.png", blank)})
    assert response.status_code == 422 and response.json()["detail"]


def test_analyze_record(client, edf_bytes):
    response = client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r", edf_bytes)},
                           data={"patient_sex": "M", "patient_age": "50"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert 40 < body["measurements"]["heart_rate_bpm"] < 120
    assert all({"code", "statement"} <= set(f) for f in body["findings"])


def test_analyze_error_paths(client, photo_bytes, edf_bytes):
    image = client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r.edf", photo_bytes)})
    assert image.status_code == 415 and "signal record" in image.json()["detail"]
    broken = client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r.json", b'{"format": "nope"}')})
    assert broken.status_code == 422
    csv = b"time_s,I,II\n0,abc,1\n"
    assert client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r.csv", csv)}).status_code == 422
    truncated = edf_bytes[:300]
    assert client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r.edf", truncated)}).status_code == 422
    sex = client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r", edf_bytes)}, data={"patient_sex": "Q"})
    assert sex.status_code == 422


def test_classify_with_and_without_models(make_client, photo_bytes):
    from report.pipeline import Pipeline

    client = make_client()
    response = client.post("/api/v1/classify", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert response.status_code == 200 and response.json()["fusion"]["label"] == "normal"
    bare = make_client(pipeline=Pipeline("/nonexistent-models"))
    missing = bare.post("/api/v1/classify", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert missing.status_code == 503 and "classifiers unavailable" in missing.json()["detail"]


def test_stage_requests_beyond_capacity_are_429(make_client, edf_bytes):
    client = make_client(workers=1, queue_size=1)
    slots = client.app.state.services.stage_slots
    held = [slots.acquire(blocking=False) for _ in range(2)]
    assert all(held)
    try:
        response = client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r", edf_bytes)})
        assert response.status_code == 429 and response.headers["retry-after"]
    finally:
        for _ in held:
            slots.release()
    assert client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r", edf_bytes)}).status_code == 200
