"""Whether the atria follow the sinus node: the P-wave test shared by the rhythm statements."""

from __future__ import annotations

from analyze import codes as C
from analyze.measure import Measurements


def sinus_p(m: Measurements, c: C.Criteria) -> bool:
    """P waves consistent from beat to beat and (when measurable) a sinus P axis."""
    if not m.p_wave_present or m.p_wave_consistency is None or m.p_wave_consistency < c.p_consistent:
        return False
    return m.p_axis_deg is None or c.p_axis_min_deg <= m.p_axis_deg <= c.p_axis_max_deg
