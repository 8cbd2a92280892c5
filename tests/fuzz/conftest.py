"""Fuzz tests: load the Hypothesis profile named by ``ECGSCREEN_FUZZ_PROFILE`` (``ci`` by default, bounded to a few
minutes for the whole folder; ``long`` for ``bench/fuzz.py``). The profiles are defined in ``fuzzkit.py``."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzzkit  # noqa: E402

settings.load_profile(fuzzkit.profile_name())
