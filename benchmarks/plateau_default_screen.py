"""Is the top of the default screen still a plateau? The keep and the pick, old and new, one run.

Runs only the default screen's first two stages (``python -m nasicon_workflows.screen`` with no
option: the paper's dopant pool on the 0.25 grid, 2-5 cations, Zr required, M-site entropy
>= 1.0 R, Na 3-4, Si 2; keep_scored 100, threshold 0.5, top 3), with the screen's own functions
(``stages.enumerate_and_score`` then ``gate.select_candidates_explained``), twice:

* ``old``: the previous behaviour: ``tie_break="probability"`` (the 100 most probable in-domain
  compositions) and the selection without the E_hull order (rows passed without E_hull);
* ``old_keep_new_selection``: the same 100, picked with the E_hull order inside the tie;
* ``new``: ``tie_break="ehull"`` (the 100 tied in probability with the best that have the lowest
  predicted E_hull(1000 K), DFT-covered elements first) and the E_hull order inside the tie.

For the kept 100 and the picks of each it prints the probability and probability_std ranges,
how many are tied with the best (p_best - p <= std_best), the predicted E_hull
range and median, how many E_hull are extrapolations, the distinct M-element sets and cation
counts; then the overlap of the two, the enumeration time of both keeps (alternating repeats,
ratio new / old) and the load average. No relaxation, nothing written.

    .venv/bin/python benchmarks/plateau_default_screen.py [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter

import numpy as np


def _summary(records, best, tie_sigma=1.0) -> dict:
    from itertools import combinations

    from nasicon_workflows.composition import NasiconComposition
    from nasicon_workflows.screen.selection import m_site_similarity, tied_with_best

    p = np.array([r.probability for r in records])
    s = np.array([r.probability_std for r in records], float)
    e = np.array([r.ehull_1000K_meV_per_atom for r in records], float)
    comps = [NasiconComposition.from_formula(r.composition) for r in records]
    sets = ["-".join(sorted(c.m_site)) for c in comps]
    n_cat = [len(c.m_site) for c in comps]
    return {
        "n": len(records),
        "probability_range": [round(float(p.min()), 4), round(float(p.max()), 4)],
        "probability_std_range": [round(float(s.min()), 4), round(float(s.max()), 4)],
        "n_tied_with_best": int(tied_with_best(best[0], best[1], p, tie_sigma).sum()),
        # look-alikes: the largest M-site similarity (elements and amounts) of any two rows
        "max_pairwise_m_site_similarity": round(max(
            (m_site_similarity(a.m_site, b.m_site) for a, b in combinations(comps, 2)),
            default=float("nan")), 3),
        "ehull_range_meV_per_atom": [round(float(e.min()), 2), round(float(e.max()), 2)],
        "ehull_median_meV_per_atom": round(float(np.median(e)), 2),
        "n_ehull_extrapolated": sum(bool(r.ehull_note) for r in records),
        "n_distinct_m_element_sets": len(set(sets)),
        "cation_counts": {str(k): n_cat.count(k) for k in sorted(set(n_cat))},
        "element_share": dict(Counter(el for c in comps for el in c.m_site).most_common(6)),
        "median_amount": {el: float(np.median([c.m_site.get(el, 0.0) for c in comps]))
                          for el in ("Zr", "Hf")},
    }


def _keep(rules: dict, keep: int, tie_break: str):
    from nasicon_workflows.screen import stages
    from nasicon_workflows.screen.gate import gate_record

    t0 = time.perf_counter()
    rows, summary = stages.enumerate_and_score(rules, keep, tie_break=tie_break)
    wall = time.perf_counter() - t0
    return wall, [gate_record(r, None) for r in rows], summary


def _select(records, top: int, threshold: float, with_ehull: bool):
    """The screen's pick; without E_hull the rows are passed as the previous release had them."""
    from nasicon_workflows.screen.gate import select_candidates_explained

    given = records if with_ehull else [
        r.model_copy(update={"ehull_1000K_meV_per_atom": None, "ehull_note": None})
        for r in records]
    gated, selection = select_candidates_explained(given, threshold, top)
    by_comp = {r.composition: r for r in records}
    picks = [r for r in gated if r.selected]
    # pick order, with the kept rows' E_hull values
    order = {c: i for i, c in enumerate(_pick_order(selection))}
    picks.sort(key=lambda r: order.get(r.composition, len(order)))
    return [by_comp[r.composition].model_copy(update={"reason": r.reason}) for r in picks], \
        selection


def _pick_order(selection) -> list[str]:
    rows = [r for r in selection.get("rows", []) if r.get("picked")]
    return [r["composition"] for r in sorted(rows, key=lambda r: r["pick_order"])]


def _array_path_gap(records, rules: dict) -> float:
    """Largest |E_hull(formula path) - E_hull(enumeration path)| over the kept rows."""
    from nasicon_workflows.classifier.gate import SynthesizabilityGate
    from nasicon_workflows.composition import NasiconComposition
    from nasicon_workflows.screen.stages import enumeration_rules

    comps = [NasiconComposition.from_formula(r.composition) for r in records]
    elements = enumeration_rules(rules).eligible_elements()  # the enumeration's column order
    amounts = np.array([[c.m_site.get(el, 0.0) for el in elements] for c in comps])
    arrays = SynthesizabilityGate.load_default().score_arrays(amounts, elements, 2.0)
    formula = np.array([r.ehull_1000K_meV_per_atom for r in records])
    return float(np.abs(arrays["ehull_1000K_meV_per_atom"] - formula).max())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each keep")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    args = parser.parse_args()

    from nasicon_workflows.cli.enumeration_options import EnumerationOptions
    from nasicon_workflows.screen.flow import ScreeningFlowMaker

    maker = ScreeningFlowMaker(relax="none")  # the defaults of the screen's gate stages
    rules = EnumerationOptions().rules()
    load_before = [round(x, 2) for x in os.getloadavg()]
    times: dict[str, list[float]] = {"probability": [], "ehull": []}
    kept: dict[str, tuple] = {}
    _keep(rules, maker.keep_scored, "probability")  # warm the model caches
    for _ in range(args.repeats):
        for tie_break in ("probability", "ehull"):
            wall, records, summary = _keep(rules, maker.keep_scored, tie_break)
            times[tie_break].append(wall)
            kept[tie_break] = (records, summary)
    load_after = [round(x, 2) for x in os.getloadavg()]
    runs = {
        "old": (kept["probability"], *_select(kept["probability"][0], maker.top,
                                              maker.threshold, False)),
        "old_keep_new_selection": (kept["probability"], *_select(
            kept["probability"][0], maker.top, maker.threshold, True)),
        "new": (kept["ehull"], *_select(kept["ehull"][0], maker.top, maker.threshold, True)),
    }

    counts = kept["ehull"][1]
    new_kept = kept["ehull"][0]
    # the best in-domain row and its std: the first row of the old keep is the most probable
    old_kept = kept["probability"][0]
    best_p = (old_kept[0].probability, old_kept[0].probability_std)
    out = {
        "rules": rules,
        "keep_scored": maker.keep_scored, "top": maker.top, "threshold": maker.threshold,
        "n_enumerated": counts["n_enumerated"], "n_in_domain": counts["n_in_domain"],
        "n_tied_with_best_in_enumeration": counts.get("n_tied"),
        "n_m_element_sets_tied": counts.get("n_tied_sets"),
        "best": {"probability": round(best_p[0], 4), "probability_std": round(best_p[1], 4)},
        "load_before": load_before, "load_after": load_after,
        "enumeration_wall_s": {k: [round(t, 2) for t in v] for k, v in times.items()},
        "enumeration_median_s": {k: round(statistics.median(v), 2) for k, v in times.items()},
        "ratio_new_over_old": round(statistics.median(times["ehull"])
                                    / statistics.median(times["probability"]), 2),
        "max_ehull_gap_formula_vs_enumeration_path_meV_per_atom": {
            k: round(_array_path_gap(kept[k][0], rules), 3) for k in kept},
    }
    for name, ((records, summary), picks, selection) in runs.items():
        out[name] = {
            "tie_break": summary["tie_break"],
            "kept": _summary(records, best_p),
            "picks": {**_summary(picks, best_p),
                      "compositions": [r.composition for r in picks],
                      "ehull_meV_per_atom": [round(r.ehull_1000K_meV_per_atom, 2)
                                             for r in picks],
                      "reasons": [r.reason for r in picks]},
            "explanation": selection["explanation"],
        }
    old_set = {r.composition for r in old_kept}
    new_set = {r.composition for r in new_kept}
    picks = {name: set(out[name]["picks"]["compositions"]) for name in runs}
    out["overlap"] = {
        "kept_old_new": len(old_set & new_set),
        "picks_old_new": len(picks["old"] & picks["new"]),
        "picks_old_old_keep_new_selection": len(picks["old"] & picks["old_keep_new_selection"]),
    }
    print(json.dumps(out, indent=1))
    if not args.json:
        for name in runs:
            for part in ("kept", "picks"):
                d = out[name][part]
                print(f"{name} {part}: p {d['probability_range']}, std "
                      f"{d['probability_std_range']}, tied {d['n_tied_with_best']}/{d['n']}, "
                      f"E_hull {d['ehull_range_meV_per_atom']} median "
                      f"{d['ehull_median_meV_per_atom']}, extrapolated "
                      f"{d['n_ehull_extrapolated']}, sets {d['n_distinct_m_element_sets']}, "
                      f"cations {d['cation_counts']}, max pairwise M-site similarity "
                      f"{d['max_pairwise_m_site_similarity']}, elements {d['element_share']}")
                if part == "picks":
                    print(f"  picks: {', '.join(d['compositions'])}")
        print(f"enumeration median {out['enumeration_median_s']} s, new/old "
              f"{out['ratio_new_over_old']}, load {load_before} -> {load_after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
