"""The cross-check maps three sources onto shared labels, flags disagreements and defers to the waveform on
interval-defined labels."""

from analyze.findings import Finding
from classify.crosscheck import (
    SHARED_LABELS,
    crosscheck,
    fusion_verdicts,
    tiled_verdicts,
    waveform_verdicts,
)
from classify.labels import TILED_CLASSES


def _probs(**high):
    return {c: high.get(c, 0.05) for c in TILED_CLASSES}


def test_all_normal_sources_agree():
    check = crosscheck(
        waveform_verdicts([Finding("SR", "sinus rhythm"), Finding("NORM", "normal ECG")]),
        tiled_verdicts(_probs(NORM=0.9), ["NORM"]),
        fusion_verdicts(0.1, "normal", 0.5),
    )
    abnormal = check.label("ABNORMAL")
    assert abnormal.status == "agree" and abnormal.resolved is False
    assert check.disagreements == ()
    assert check.label("AFLT").status == "agree"  # the waveform rules now speak of flutter too
    assert all(check.label(x).verdicts["waveform"] is False for x in ("AFLT", "PVC", "PAC", "AT", "WPW"))


def test_waveform_speaks_of_every_shared_label():
    """PVC, PAC, flutter and atrial tachycardia have waveform rules; bigeminy states PVC."""
    found = [Finding("SR", "sinus rhythm"), Finding("BIGU", "ventricular bigeminy", {"ectopic_beats": 5})]
    verdicts = waveform_verdicts(found)
    assert all(v is not None for v in verdicts.verdicts.values())
    assert verdicts.verdicts["PVC"] is True and verdicts.evidence["PVC"] == {"ectopic_beats": 5}
    assert verdicts.verdicts["ABNORMAL"] is True


def test_disagreement_is_flagged_and_left_unresolved():
    check = crosscheck(
        waveform_verdicts([Finding("AFIB", "atrial fibrillation", {"rr_irregularity": 0.2})]),
        tiled_verdicts(_probs(NORM=0.8), ["NORM"]),
        fusion_verdicts(0.7, "abnormal", 0.5),
    )
    afib = check.label("AFIB")
    assert afib.status == "disagree" and afib.needs_review and afib.resolved is None
    assert afib.evidence["waveform"] == {"rr_irregularity": 0.2}
    assert afib.evidence["tiled"]["probability"] == 0.05
    abnormal = check.label("ABNORMAL")
    assert abnormal.verdicts == {"waveform": True, "tiled": False, "fusion": True, "waveform_model": None}
    assert abnormal.needs_review
    assert {c.label for c in check.disagreements} == {"AFIB", "ABNORMAL"}


def test_waveform_is_authoritative_for_bundle_branch_block():
    check = crosscheck(
        waveform_verdicts([Finding("SR", "sinus rhythm")]),
        tiled_verdicts(_probs(CLBBB=0.9), ["CLBBB"]),
        fusion_verdicts(0.9, "abnormal", 0.5),
    )
    lbbb = check.label("CLBBB")
    assert lbbb.status == "disagree" and lbbb.needs_review  # still shown to the reader
    assert lbbb.resolved is False and "authoritative" in lbbb.note


def test_rate_and_axis_statements_do_not_make_the_waveform_abnormal():
    verdicts = waveform_verdicts([Finding("SBRAD", "sinus bradycardia"), Finding("LAD", "left axis deviation")])
    assert verdicts.verdicts["ABNORMAL"] is False


def test_missing_sources_speak_of_nothing():
    check = crosscheck(waveform_verdicts(None), tiled_verdicts(None, None), fusion_verdicts(None, None, None))
    assert all(c.status == "no source" for c in check.labels)
    assert check.sources_available == {"waveform": False, "tiled": False, "fusion": False, "waveform_model": False}
    assert [c["label"] for c in check.to_dict()["labels"]] == list(SHARED_LABELS)


def test_unvalidated_tiled_classes_are_shown_but_not_counted():
    check = crosscheck(
        waveform_verdicts([Finding("SR", "sinus rhythm"), Finding("NORM", "normal ECG")]),
        tiled_verdicts(_probs(AFIB=0.9, PVC=0.8), ["AFIB", "PVC"], validated=("PVC",)),
        fusion_verdicts(0.1, "normal", 0.5),
    )
    afib = check.label("AFIB")
    assert afib.verdicts["tiled"] is True  # still reported, so agreement can be computed over it
    assert "tiled" in afib.excluded and afib.status == "single source" and afib.resolved is False
    assert not afib.needs_review
    abnormal = check.label("ABNORMAL")  # NORM is not validated: the tiled ABNORMAL verdict does not count
    assert abnormal.verdicts["tiled"] is True and abnormal.counted == {"waveform": False, "fusion": False}
    assert abnormal.status == "agree" and abnormal.resolved is False
    pvc = check.label("PVC")  # validated: counts, and the waveform rules (no premature beat) say otherwise
    assert pvc.excluded == {} and pvc.status == "disagree" and pvc.resolved is None
    assert {c.label for c in check.disagreements} == {"PVC"}
    assert check.to_dict()["labels"][1]["excluded"] == {"tiled": afib.excluded["tiled"]}


def test_with_norm_validated_only_validated_classes_make_the_tiled_abnormal_verdict():
    normal_but_afib_fired = tiled_verdicts(_probs(NORM=0.9, AFIB=0.9), ["NORM", "AFIB"], validated=("NORM",))
    assert normal_but_afib_fired.verdicts["ABNORMAL"] is False and "ABNORMAL" not in normal_but_afib_fired.excluded
    assert "AFIB" in normal_but_afib_fired.excluded
    not_normal = tiled_verdicts(_probs(NORM=0.1), [], validated=("NORM",))
    assert not_normal.verdicts["ABNORMAL"] is True and "ABNORMAL" not in not_normal.excluded
    every_class = tiled_verdicts(_probs(NORM=0.9, AFIB=0.9), ["NORM", "AFIB"])
    assert every_class.verdicts["ABNORMAL"] is True
