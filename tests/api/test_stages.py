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


# --- declared response models: the OpenAPI document shows them and each answer validates against its model and
# against the matching section of report/schema.json (the stage routes and the report share one serialisation) ----

ROUTE_MODELS = {"/api/v1/digitize": "DigitizeResponse", "/api/v1/analyze": "AnalyzeResponse",
                "/api/v1/classify": "ClassifyResponse"}


def _report_section(name: str) -> dict:
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).resolve().parents[2] / "report" / "schema.json").read_text())
    return {"$defs": schema["$defs"], **schema["properties"][name]}


def test_the_openapi_document_declares_each_stage_response_model(client):
    spec = client.get("/openapi.json").json()
    for route, model in ROUTE_MODELS.items():
        content = spec["paths"][route]["post"]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{model}"}, route
    digitize = spec["components"]["schemas"]["DigitizeResponse"]
    assert {"record", "quality", "lead_confidence", "px_per_mm", "calibration_source"} <= set(digitize["required"])
    meta = spec["components"]["schemas"]["DigitizedMeta"]
    assert {"quality", "lead_confidence", "lead_reasons", "layout", "calibration"} <= set(meta["required"])


def test_digitize_answer_validates_and_carries_the_record_meta(client, photo_bytes):
    import jsonschema

    from api.schemas import DigitizeResponse

    response = client.post("/api/v1/digitize", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert response.status_code == 200, response.text
    body = response.json()
    DigitizeResponse.model_validate(body)
    jsonschema.validate({k: v for k, v in body.items() if k != "record"}, _report_section("digitization"))
    meta = body["record"]["meta"]
    assert meta["quality"] == body["quality"] and meta["lead_confidence"] == body["lead_confidence"]
    assert meta["layout"] == body["layout"] and isinstance(meta["lead_reasons"], dict)
    cal = meta["calibration"]
    assert cal["px_per_mm_x"] > 0 and cal["px_per_mm_y"] > 0 and cal["speed_mm_s"] > 0 and cal["gain_mm_mv"] > 0
    assert all(isinstance(cal[k], str) and cal[k] for k in ("scale_source", "speed_source", "gain_source"))
    assert cal["scale_source"] == body["calibration_source"]
    assert abs(cal["px_per_mm_x"] - body["px_per_mm"]["x"]) < 1e-3


def test_analyze_and_classify_answers_validate(client, edf_bytes, photo_bytes):
    import jsonschema

    from api.schemas import AnalyzeResponse, ClassifyResponse

    analyzed = client.post("/api/v1/analyze", headers=AUTH, files={"file": ("r", edf_bytes)})
    assert analyzed.status_code == 200, analyzed.text
    body = analyzed.json()
    AnalyzeResponse.model_validate(body)
    jsonschema.validate(body["measurements"], _report_section("measurements"))
    jsonschema.validate(body["findings"], _report_section("findings"))
    assert "leads" in body["measurements"] and "r_peaks" in body["measurements"], "extra keys must pass through"
    classified = client.post("/api/v1/classify", headers=AUTH, files={"file": ("p", photo_bytes)})
    assert classified.status_code == 200, classified.text
    body = classified.json()
    ClassifyResponse.model_validate(body)
    jsonschema.validate(body, _report_section("classifiers"))
    assert body["image_size"]["width"] > 0 and body["fusion"]["beats"][0]["box"] == [10.0, 10.0, 60.0, 80.0]
