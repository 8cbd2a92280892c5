"""The PTB-XL / SNOMED → class mapping and the fusion label."""

from __future__ import annotations

import pytest

from classify.labels import (
    MIN_LIKELIHOOD,
    TILED_CLASSES,
    fusion_label,
    snomed_tiled_labels,
    tiled_labels,
    tiled_target,
)

DIAGNOSTIC = {"NORM": "NORM", "IMI": "MI", "CLBBB": "CD", "CRBBB": "CD", "WPW": "CD", "LVH": "HYP", "NDT": "STTC"}


def test_class_keys_are_exactly_the_ten_codes():
    assert TILED_CLASSES == ("NORM", "PVC", "WPW", "CLBBB", "CRBBB", "AFIB", "AFLT", "AESC", "PAC", "AT")


def test_rhythm_and_form_codes_count_at_likelihood_zero():
    assert tiled_labels({"AFIB": 0.0, "PVC": 0.0, "PAC": 0.0}) == ("PVC", "AFIB", "PAC")


def test_diagnostic_codes_need_the_minimum_likelihood():
    below = MIN_LIKELIHOOD - 1
    assert tiled_labels({"NORM": below, "CLBBB": MIN_LIKELIHOOD}) == ("CLBBB",)
    assert tiled_labels({"WPW": 0.0}) == ()


def test_svtac_and_psvt_become_atrial_tachycardia_and_nothing_maps_to_aesc():
    assert tiled_labels("{'SVTAC': 0.0, 'SR': 0.0}") == ("AT",)
    assert tiled_labels({"PSVT": 100.0}) == ("AT",)
    every_code = {c: 100.0 for c in ("NORM", "PVC", "WPW", "CLBBB", "CRBBB", "AFIB", "AFLT", "PAC", "SVTAC", "PSVT")}
    assert "AESC" not in tiled_labels(every_code)
    assert len(tiled_labels(every_code)) == 9


def test_unmapped_codes_are_ignored():
    assert tiled_labels({"IMI": 100.0, "SR": 0.0, "1AVB": 100.0}) == ()


def test_tiled_target_is_multi_hot_in_class_order():
    target = tiled_target(("CRBBB", "NORM"))
    assert target[TILED_CLASSES.index("CRBBB")] == 1.0 and target[0] == 1.0 and sum(target) == 2.0
    with pytest.raises(ValueError, match="unknown tiled classes"):
        tiled_target(("LBBB",))


def test_fusion_label_normal_only_when_every_diagnostic_statement_is_norm():
    assert fusion_label({"NORM": 100.0, "SR": 0.0}, DIAGNOSTIC) == 0
    assert fusion_label({"NORM": 80.0, "NDT": 15.0}, DIAGNOSTIC) == 1
    assert fusion_label({"IMI": 100.0}, DIAGNOSTIC) == 1
    assert fusion_label({"AFIB": 0.0, "SR": 0.0}, DIAGNOSTIC) is None


def test_snomed_codes_map_including_scored_equivalents():
    assert snomed_tiled_labels(["17338001", "59118001"]) == ("PVC", "CRBBB")
    assert snomed_tiled_labels(["251187003"]) == ("AESC",)
    assert snomed_tiled_labels(["164934002"]) == ()


def test_real_scp_statements_table_gives_the_documented_superclasses(shared_data):
    from classify.labels import load_diagnostic_classes

    classes = load_diagnostic_classes(shared_data / "ptbxl" / "scp_statements.csv")
    assert classes["NORM"] == "NORM" and classes["CLBBB"] == "CD" and classes["IMI"] == "MI"
    assert "AFIB" not in classes and "PVC" not in classes  # rhythm / form statements are not diagnostic
