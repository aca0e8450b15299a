"""Guards applied to a trained model where the training data was too thin to say much.

EM can leave a level unobserved, or give a rare partial agreement (a phonetic match after
Jaro-Winkler failed, say) less credit than a total disagreement. So, per comparison:
- a missing u (the level never occurred among the non-matching pairs sampled) becomes one in
  the number of pairs sampled;
- a missing or tiny m (no, or almost no, true match was seen at the level) becomes UNSEEN_M,
  but never more than u: such a level never counts for a match, and counts against it at most
  as much as it is common among non-matches (levels whose m is fixed by design keep it);
- no level's weight falls below that of the comparison's last (else) level, because a partial
  agreement is never stronger evidence against a match than total disagreement.
"""

from __future__ import annotations

import math
from copy import deepcopy
from typing import Any

UNSEEN_M = 0.001


def _known(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _calibrate_levels(levels: list[dict[str, Any]], unseen_u: float) -> None:
    active = [lv for lv in levels if not lv.get("is_null_level")]
    if not active:
        return
    for level in active:
        if _known(level.get("u_probability")) is None:
            level["u_probability"] = unseen_u
        least = min(UNSEEN_M, level["u_probability"])
        if level.get("fix_m_probability"):
            continue
        m = _known(level.get("m_probability"))
        level["m_probability"] = least if m is None else max(m, least)
    last = active[-1]
    floor = math.log2(last["m_probability"] / last["u_probability"])
    for level in active[:-1]:
        if math.log2(level["m_probability"] / level["u_probability"]) < floor:
            level["m_probability"] = level["u_probability"] * 2.0 ** floor


def calibrate(model: dict[str, Any], *, pairs_sampled: float = 1e6) -> dict[str, Any]:
    """A copy of the Splink model dict with the guards applied; pairs_sampled is how many
    non-matching pairs u was estimated from."""
    out = deepcopy(model)
    for comparison in out.get("comparisons", []):
        _calibrate_levels(comparison["comparison_levels"], 1.0 / max(pairs_sampled, 1.0))
    return out


def level_weight(level: dict[str, Any]) -> float | None:
    m, u = _known(level.get("m_probability")), _known(level.get("u_probability"))
    return math.log2(m / u) if m and u else None
