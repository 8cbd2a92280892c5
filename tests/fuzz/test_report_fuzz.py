"""Property tests of the report JSON builder (`report.model`): hostile patient fields, random measurements and the
findings the real rules draw from them, random classifier outputs, the real cross-check and status rules.

Whatever the inputs, ``Report.to_dict()`` validates against ``report/schema.json`` and serialises as strict JSON
(no NaN or infinity); `Patient.from_user` either normalises a field or refuses it with ValueError.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import jsonschema
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzkit import REPO, TALLY, examples  # noqa: E402

from analyze import Measurements, findings  # noqa: E402
from analyze.codes import CODES  # noqa: E402
from analyze.measure import INTERVAL_KEYS  # noqa: E402
from analyze.morphology import LeadMorphology  # noqa: E402
from classify.crosscheck import crosscheck_all  # noqa: E402
from classify.labels import TILED_CLASSES  # noqa: E402
from classify.runtime import Beat, ClassificationResult, FusionResult, TiledResult  # noqa: E402
from ecg.record import LEADS  # noqa: E402
from report.model import MAX_FIELD_CHARS, MAX_INPUT_CHARS, Patient, Report, screening_status  # noqa: E402
from report.sections import ClassifierOutputs, InputSummary  # noqa: E402

SCHEMA = json.loads((REPO / "report" / "schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=12_000),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "<b>bold</b><para>x</para>",
            "'; DROP TABLE jobs; --",
            "../../etc/passwd",
            "..\\..\\windows\\win.ini",
            "%s%n%x",
            "{{7*7}}",
            "\u202eevil",
            "a\x00b\x1bc\x7fd\x85e\u2028f",
            " " * 50,
            "",
            "x" * 10_240,
            "NaN",
            "null",
            "\ud7ff\ufffd\U0010ffff",
        ]
    ),
)
"""Patient text a user might type or an attacker might send: markup, SQL, paths, controls, 10 kB of text."""
ACCEPTABLE_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=MAX_INPUT_CHARS),
    st.sampled_from(["<script>alert(1)</script>", "'; DROP TABLE jobs; --", "\u202eevil", "a\x00b\x1bc", ""]),
)
"""Hostile patient text within the accepted length (longer text is refused, see the test above)."""

AGES = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(),
    st.text(max_size=12),
    st.just(""),
    st.booleans(),
    st.sampled_from(["42", " 42 ", "4.5", "1e3", "130", "131", "-0"]),
)
SEXES = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["M", "f", "male", "Female", "X", " m", ""]))

MS = st.one_of(st.none(), st.floats(0, 2000), st.floats(allow_nan=False, allow_infinity=False))
AXIS = st.one_of(st.none(), st.floats(-180, 180))
MV = st.floats(-30, 30)


@st.composite
def measurements(draw: st.DrawFn) -> Measurements:
    """Measurements as `analyze.measure` could return them: finite values or None, any combination."""
    values = {key: draw(AXIS if key.endswith("_deg") else MS) for key in INTERVAL_KEYS}
    leads = {
        name: LeadMorphology(
            q_mv=-abs(draw(MV)),
            r_mv=abs(draw(MV)),
            s_mv=-abs(draw(MV)),
            r_prime_mv=abs(draw(MV)),
            qrs_pp_mv=abs(draw(MV)),
            p_mv=draw(st.none() | MV),
            t_mv=draw(st.none() | MV),
            st_mv=draw(st.none() | MV),
            r_peak_time_ms=draw(st.none() | st.floats(0, 200)),
            s_duration_ms=draw(st.floats(0, 200)),
        )
        for name in draw(st.lists(st.sampled_from(LEADS), unique=True))
    }
    return Measurements(
        **values,
        rr_irregularity=draw(st.none() | st.floats(0, 5)),
        p_wave_present=draw(st.none() | st.booleans()),
        p_wave_consistency=draw(st.none() | st.floats(-1, 1)),
        leads=leads,
        r_peaks=tuple(draw(st.lists(st.integers(0, 10**6), max_size=30))),
        beat_count=draw(st.integers(0, 300)),
        dominant_beat_count=draw(st.integers(0, 300)),
        confidence={k: draw(st.floats(0, 1)) for k in draw(st.lists(st.sampled_from(INTERVAL_KEYS), unique=True))},
        missing={k: draw(st.text(max_size=40)) for k in draw(st.lists(st.sampled_from(INTERVAL_KEYS), unique=True))},
    )


@st.composite
def classifications(draw: st.DrawFn) -> ClassificationResult | None:
    if draw(st.booleans()):
        return None
    unit = st.floats(0, 1)
    probs = {c: draw(unit) for c in TILED_CLASSES}
    thresholds = {c: draw(unit) for c in TILED_CLASSES}
    labels = tuple(c for c in TILED_CLASSES if probs[c] >= thresholds[c])
    p, threshold = draw(unit), draw(unit)
    beats = tuple(
        Beat(tuple(draw(st.floats(0, 5000)) for _ in range(4)), draw(unit)) for _ in range(draw(st.integers(0, 5)))
    )
    fusion = FusionResult(p, "abnormal" if p >= threshold else "normal", threshold, beats)
    versions = {"tiled": draw(st.text(max_size=20)), "fusion": draw(st.text(max_size=20))}
    return ClassificationResult(TiledResult(probs, labels, thresholds), fusion, versions, (1095, 1418))


BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def _patient(id_, name, age, sex) -> Patient | None:
    """`Patient.from_user` may refuse a field (ValueError, as the API's 422 and the CLI's exit 2); nothing else."""
    try:
        patient = Patient.from_user(id_, name, age, sex)
    except ValueError as exc:
        assert str(exc)
        return None
    for text in (patient.id, patient.name):
        assert text is None or (0 < len(text) <= MAX_FIELD_CHARS and text == text.strip())
        assert text is None or not any(unicodedata.category(ch) == "Cc" for ch in text), "control character kept"
        assert text is None or not any(unicodedata.bidirectional(ch) in BIDI_CONTROLS for ch in text), "bidi kept"
    assert patient.age is None or 0 <= patient.age <= 130
    assert patient.sex in (None, "M", "F")
    return patient


@examples(1.5)
@given(HOSTILE_TEXT, HOSTILE_TEXT, AGES, SEXES)
@example("A-1", "a\x85b\x9fc", 56, "F")  # C1 control characters (NEL …) were kept in names
@example(None, None, float("inf"), None)  # int(inf) raised OverflowError instead of ValueError
def test_patient_fields_are_normalised_or_refused(id_, name, age, sex):
    TALLY["patient fields"] += 1
    _patient(id_, name, age, sex)


@pytest.mark.slow
@examples(1.5)
@given(
    patient=st.builds(
        Patient.from_user,
        ACCEPTABLE_TEXT,
        ACCEPTABLE_TEXT,
        st.none() | st.integers(0, 130),
        st.sampled_from([None, "M", "F"]),
    ),
    m=st.none() | measurements(),
    classification=classifications(),
    quality=st.none() | st.floats(0, 1),
    good_leads=st.none() | st.integers(0, 12),
    timings=st.dictionaries(
        st.sampled_from(["load", "digitize", "classify", "analyze", "crosscheck", "total"]), st.floats(0, 1e5)
    ),
    errors=st.dictionaries(st.sampled_from(["classify", "analyze", "digitize"]), HOSTILE_TEXT, max_size=2),
    notes=st.lists(HOSTILE_TEXT, max_size=3),
)
def test_report_json_matches_schema(patient, m, classification, quality, good_leads, timings, errors, notes):
    TALLY["report json"] += 1
    found = findings(m, sex=patient.sex, age=patient.age) if m is not None else None
    check = crosscheck_all(found, classification)
    status = screening_status(
        measurable=m is not None,
        quality=quality,
        good_leads=good_leads,
        abnormal_findings=[f.code for f in found or [] if CODES[f.code].abnormal],
        abnormal_sources=[s for s, v in check.label("ABNORMAL").verdicts.items() if v],
        disagreements=[c.label for c in check.disagreements],
    )
    report = Report(
        id="0123456789abcdef0123456789abcdef",
        created_utc="2026-11-22T08:00:00+00:00",
        software_version="0.0.0",
        input=InputSummary("signal", "rec.hea", "0" * 64),
        patient=patient,
        status=status,
        digitization=None,
        measurements=m,
        findings=tuple(found or ()),
        classifiers=ClassifierOutputs.of(classification, None),
        crosscheck=check,
        timings_s=timings,
        errors=errors,
        notes=tuple(notes),
    )
    doc = report.to_dict()
    VALIDATOR.validate(doc)
    text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
    assert json.loads(text) == json.loads(json.dumps(doc, allow_nan=False))
    if status.screening == "normal":
        assert not check.disagreements and not any(CODES[f.code].abnormal for f in found or [])
