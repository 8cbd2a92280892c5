"""Lead identity: the printed labels first, the templates as the prior, the limb-lead physics as the check.

1. The template's candidate orders (standard, Cabrera with −aVR and with aVR; :mod:`digitize.candidates`) are
   scored by how well they agree with the labels read (:mod:`digitize.labels`): Σ p over panels whose label names
   the candidate's lead minus Σ p over those naming another lead. Without at least :data:`MIN_READS` labels read
   the physics alone chooses (:func:`digitize.candidates.choose_order`).
2. Every panel whose label was read with probability ≥ :data:`OVERRIDE_LEVEL` takes the label's lead (any lead
   order); the panel that held that lead under the prior takes the overridden panel's lead (a swap), so every lead
   stays printed once in the grid. Rhythm strips take their label's lead unless the strip clearly repeats some grid
   panel (:func:`digitize.assign.strip_match` ≥ :data:`digitize.assign.RHYTHM_MATCH_R`) but not the label's lead's:
   a strip's label is often the label of the row above or a stroke-counting slip (II read as I), while the repeated
   signal is physical. A strip that repeats nothing (a broken trace) still takes its label.
3. aVR's polarity (aVR or −aVR) is chosen by the physics (:func:`digitize.physics.limb_check`).

Each panel's evidence is returned: labels that disagree with the final lead, and leads named from a label against
the prior, lower the lead's confidence with a reason (:func:`label_factors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from digitize.assign import RHYTHM_MATCH_R, SAME_INK_MM, strip_match
from digitize.calibrate import Calibration
from digitize.candidates import CLEARLY_BETTER, candidate_orders, choose_order, grid_rows, layout_signals
from digitize.labels import LabelRead
from digitize.layout import Layout
from digitize.physics import LimbCheck, limb_check
from digitize.trace import RowTrace

MIN_READS = 2
"""Labels (read with ≥ :data:`digitize.labels.READ_LEVEL`) needed before they choose between template orders."""

OVERRIDE_LEVEL = 0.8
"""Probability from which a label names its panel's lead against the template."""

DISAGREE_FACTOR = 0.5
"""Confidence factor of a lead whose printed label reads another lead name."""

AGAINST_PRIOR_FACTOR = 0.45
"""Confidence factor of a lead named from its label against every template order (no second source agrees). Was
0.85: on foreign val + kit-dev 10 of 26 such leads came out below 3 dB (6 below 0 dB), so such a name is not claimed
(< 0.5)."""


def _agreement(layout: Layout, reads: dict[int, tuple[str, float]]) -> float:
    score = 0.0
    for index, (lead, p) in reads.items():
        score += p if layout.panels[index].lead == lead else -p
    return score


def assign_leads(
    traces: Sequence[RowTrace],
    layout: Layout,
    calibration: Calibration,
    fs: float,
    reads: Sequence[LabelRead],
    *,
    override: bool = True,
) -> tuple[Layout, LimbCheck, list[str], dict[str, tuple[float, str]]]:
    """Final lead names (and aVR polarity) of ``layout``'s panels, the physics check, notes, and per lead a
    confidence factor with its reason (only leads whose label evidence weakens them).

    ``override=False`` keeps the grid panels' labels to choosing the template order (step 1) and to lowering the
    confidence of leads they disagree with: none renames its panel (blurred photographs, where I / II / III and
    I / V1 are misread: kit-dev d029, d030); rhythm strips are renamed as in step 2.
    """
    confident = {r.panel: (r.lead, r.probability) for r in reads if r.lead is not None and r.panel < len(layout.panels)}
    if len(confident) < MIN_READS:
        chosen, limbs, notes = choose_order(traces, layout, calibration, fs)
        return chosen, limbs, notes + [f"printed lead labels: {len(confident)} read"], _factors(chosen, confident, ())
    candidates = candidate_orders(layout, with_3x4=True)
    scored = [(name, c, _agreement(c, confident)) for name, c in candidates]
    top = max(s for _, _, s in scored)
    tied = [(name, c) for name, c, s in scored if s >= top - 1e-6]
    notes = [f"printed lead labels: {len(confident)} read"]
    if len(tied) > 1:  # the labels do not tell these orders apart (e.g. aVR vs −aVR): physics decides
        checks = [(name, c, limb_check(layout_signals(traces, c, calibration, fs), fs)) for name, c in tied]
        name, prior, _ = min(checks, key=lambda item: item[2].score if item[2].checked else np.inf)
    else:
        name, prior = tied[0]
    notes.append(f"labels agree best with the {name}")
    template_leads = tuple(p.lead for p in prior.panels)
    renaming = confident
    if not override:  # only rhythm strips (whose label is checked against the grid's traces) may be renamed
        n_grid = grid_rows(prior.template)
        renaming = {i: read for i, read in confident.items() if prior.panels[i].row >= n_grid}
        notes.append("labels do not rename grid panels (blurred photograph)")
    final = _override(
        prior, renaming, notes, traces, SAME_INK_MM * calibration.px_per_mm_y, strip_needs_repeat=not override
    )
    final = _avr_polarity(traces, final, calibration, fs, notes)
    limbs = limb_check(layout_signals(traces, final, calibration, fs), fs)
    return final, limbs, notes, _factors(final, confident, template_leads)


def _override(
    layout: Layout,
    reads: dict[int, tuple[str, float]],
    notes: list[str],
    traces: Sequence[RowTrace] = (),
    same_ink_px: float = 0.0,
    strip_needs_repeat: bool = False,
) -> Layout:
    """Panels renamed from their labels (step 2 of the module docstring). ``strip_needs_repeat``: a rhythm strip
    takes its label's lead only when it repeats that lead's grid panel (blurred photographs)."""
    panels = list(layout.panels)
    n_grid = grid_rows(layout.template)
    for index, (lead, p) in sorted(reads.items(), key=lambda item: -item[1][1]):
        panel = panels[index]
        if p < OVERRIDE_LEVEL or panel.lead == lead:
            continue
        if panel.row >= n_grid:  # a rhythm strip: any lead it repeats
            current = replace(layout, panels=tuple(panels))
            r = _strip_repeats(current, traces, panel, lead, n_grid, same_ink_px)
            best = _strip_repeats(current, traces, panel, None, n_grid, same_ink_px)
            repeats_some = best is not None and best >= RHYTHM_MATCH_R
            if strip_needs_repeat and (r is None or r < RHYTHM_MATCH_R):
                notes.append(f"rhythm strip {panel.row + 1}: label reads {lead}, not confirmed by the grid's "
                             f"{lead} panel; kept {panel.lead}")
                continue
            if repeats_some and r is not None and r < RHYTHM_MATCH_R:
                notes.append(f"rhythm strip {panel.row + 1}: label reads {lead}, but the strip does not repeat "
                             f"{lead}'s panel (r {r:.2f}); kept {panel.lead}")
                continue
            notes.append(f"rhythm strip {panel.row + 1}: label reads {lead} (was {panel.lead})")
            panels[index] = replace(panel, lead=lead, sign=1.0)
            continue
        holders = [i for i, q in enumerate(panels) if q.row < n_grid and q.lead == lead and i != index]
        if any(i in reads and reads[i][0] == lead and reads[i][1] >= p for i in holders):
            continue  # another panel's label claims this lead more surely
        old = panel.lead
        panels[index] = replace(panel, lead=lead, sign=1.0)
        for i in holders:
            panels[i] = replace(panels[i], lead=old, sign=1.0)
        notes.append(f"row {panel.row + 1} panel at {panel.t_start_s:.1f} s: label reads {lead} (template {old})")
    return replace(layout, panels=tuple(panels))


def _strip_repeats(
    layout: Layout, traces: Sequence[RowTrace], strip, lead: str | None, n_grid: int, same_ink_px: float
) -> float | None:
    """Best r of a rhythm strip with the grid panels of ``lead`` (any lead when None; None when none can be
    compared)."""
    if strip.row >= len(traces):
        return None
    rs = [
        strip_match(traces[strip.row], traces[q.row], q, same_ink_px=same_ink_px)
        for q in layout.panels
        if q.row < n_grid and (lead is None or q.lead == lead) and q.row < len(traces)
    ]
    rs = [r for r in rs if r is not None]
    return max(rs) if rs else None


def _avr_polarity(traces, layout: Layout, calibration: Calibration, fs: float, notes: list[str]) -> Layout:
    """aVR or −aVR, whichever obeys the limb physics clearly better (the label does not show the sign)."""
    indices = [i for i, p in enumerate(layout.panels) if p.lead == "aVR"]
    if not indices:
        return layout
    flipped_panels = list(layout.panels)
    for i in indices:
        flipped_panels[i] = replace(flipped_panels[i], sign=-flipped_panels[i].sign)
    flipped = replace(layout, panels=tuple(flipped_panels))
    here = limb_check(layout_signals(traces, layout, calibration, fs), fs)
    there = limb_check(layout_signals(traces, flipped, calibration, fs), fs)
    if here.checked and there.checked and there.score < CLEARLY_BETTER * here.score:
        sign = flipped.panels[indices[0]].sign
        notes.append(f"aVR printed {'inverted (−aVR)' if sign < 0 else 'upright'}: physics residual "
                     f"{here.score:.2f} → {there.score:.2f}")
        return flipped
    return layout


def _factors(
    layout: Layout, reads: dict[int, tuple[str, float]], template_leads: tuple[str, ...]
) -> dict[str, tuple[float, str]]:
    factors: dict[str, tuple[float, str]] = {}
    for index, panel in enumerate(layout.panels):
        if index in reads and reads[index][0] != panel.lead:
            factors[panel.lead] = (DISAGREE_FACTOR, f"printed label reads {reads[index][0]} "
                                                    f"(p {reads[index][1]:.2f})")
        elif template_leads and index < len(template_leads) and template_leads[index] != panel.lead:
            factors.setdefault(panel.lead, (AGAINST_PRIOR_FACTOR, f"named from its printed label, not the "
                                                                  f"template ({template_leads[index]})"))
    return factors
