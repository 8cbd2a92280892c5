"""Write the six lead-order configurations the foreign renders use, from ECG-Image-Kit's own ``config.yaml``.

Usage (kit venv): ``python make_configs.py KIT/codes/ecg-image-generator/config.yaml /work/kit/configs``

Only ``leadNames_12`` (the plotting order; the kit fills rows bottom-up) and, for Cabrera 3×4, ``format_4_by_3``
(which leads share a column) are changed; every other key is the kit's. Cabrera order here plots aVR as aVR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

CHANGES: dict[str, dict] = {
    "std-3x4": {},
    "std-6x2": {"leadNames_12": ["aVF", "V6", "aVL", "V5", "aVR", "V4", "III", "V3", "II", "V2", "I", "V1"]},
    "std-12x1": {"leadNames_12": ["V6", "V5", "V4", "V3", "V2", "V1", "aVF", "aVL", "aVR", "III", "II", "I"]},
    "cab-3x4": {
        "format_4_by_3": [["aVL", "I", "aVR", "AVL", "AVR"], ["II", "aVF", "III", "AVF"], ["V1", "V2", "V3"],
                          ["V4", "V5", "V6"]],
        "leadNames_12": ["aVR", "III", "V3", "V6", "I", "aVF", "V2", "V5", "aVL", "II", "V1", "V4"],
    },
    "cab-6x2": {"leadNames_12": ["III", "V6", "aVF", "V5", "II", "V4", "aVR", "V3", "I", "V2", "aVL", "V1"]},
    "cab-12x1": {"leadNames_12": ["V6", "V5", "V4", "V3", "V2", "V1", "III", "aVF", "II", "aVR", "I", "aVL"]},
}


def main(kit_config: str, out_dir: str) -> None:
    base = yaml.safe_load(Path(kit_config).read_text())
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, change in CHANGES.items():
        (Path(out_dir) / f"{name}.yaml").write_text(yaml.safe_dump({**base, **change}, sort_keys=False))


if __name__ == "__main__":
    main(*sys.argv[1:3])
