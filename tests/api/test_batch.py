"""`ecgscreen batch` without Ray (the local path of the same code), and the OpenAPI document."""

from __future__ import annotations

import csv

from api.batch import run_batch


def test_local_batch_reports_each_file_and_lists_failures(tmp_path, edf_bytes):
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.edf").write_bytes(edf_bytes)
    (folder / "b.txt").write_text("not an ECG\n")
    items = run_batch(folder, tmp_path / "out")
    assert [(i.name, i.state) for i in items] == [("a.edf", "done"), ("b.txt", "failed")]
    assert (tmp_path / "out" / "a.pdf").read_bytes().startswith(b"%PDF-")
    with open(tmp_path / "out" / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["screening"] and "unsupported content" in rows[1]["error"]


def test_openapi_documents_every_route_with_operation_ids(client):
    spec = client.get("/openapi.json").json()
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"create_report", "get_report", "get_report_file", "delete_report", "digitize", "analyze", "classify",
            "livez", "readyz", "metrics"} <= operations
    create = spec["paths"]["/api/v1/reports"]["post"]
    assert {"202", "413", "415", "429"} <= set(create["responses"])
    assert "APIKeyHeader" in spec["components"]["securitySchemes"]
