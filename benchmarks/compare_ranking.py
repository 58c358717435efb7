"""How the top of the default screen's ranking changes with the stability model on and off.

One pass over the default screen's enumeration (dopant pool of Zuo et al. 2026, 2-5 cations,
step 0.1, Zr required, M-site entropy >= 1.0 R, Na 3-4, Si 2) scores every composition with

* ``old``: the previous default gate (``gaussian_process_extended``, no stability information);
* ``new``: the given gate (default: the current default gate);
* ``new+ehull``: the same gate with the second gate E_hull(1000 K) <= ``--max-ehull``;

and keeps the top N of each among compositions inside the respective applicability domain (as
the screen does). It prints the counts, the spread of the top-N probabilities (the "plateau"),
the number of distinct M-element sets and cation counts in each top N, and their overlaps.

    .venv/bin/python benchmarks/compare_ranking.py --top 100 --max-ehull 10 --json
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import time

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--max-ehull", type=float, default=10.0)
    parser.add_argument("--model", default=None, help="new gate (default: the default gate)")
    parser.add_argument("--min-entropy", type=float, default=1.0)
    parser.add_argument("--max-cations", type=int, default=5)
    parser.add_argument("--pool", nargs="+", default=None, help="dopant pool (default: paper's)")
    args = parser.parse_args()

    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL, SynthesizabilityGate
    from nasicon_workflows.enumeration import (
        CandidateChunk,
        EnumerationRules,
        enumerate_candidates,
    )

    extra = {"dopant_pool": tuple(args.pool)} if args.pool else {}
    rules = EnumerationRules(
        **extra,
        required_elements=("Zr",),
        min_entropy_R=args.min_entropy,
        n_cations=(2, args.max_cations),
    )
    gates = {
        "old": (SynthesizabilityGate.load_default("gaussian_process_extended"), None),
        "new": (SynthesizabilityGate.load_default(args.model or DEFAULT_GATE_MODEL), None),
    }
    gates["new+ehull"] = (gates["new"][0], args.max_ehull)
    heaps = {k: [] for k in gates}
    counts = {k: {"in_domain": 0, "ehull_pass": 0, "ranked": 0} for k in gates}
    n = 0
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    elements = ()
    for chunk in enumerate_candidates(rules, 200_000):
        elements = chunk.elements
        scored_new = gates["new"][0].score_arrays(
            chunk.amounts, chunk.elements, chunk.si, max_ehull=args.max_ehull
        )
        scored_old = gates["old"][0].score_arrays(chunk.amounts, chunk.elements, chunk.si)
        for key, scored, use_ehull in (
            ("old", scored_old, False),
            ("new", scored_new, False),
            ("new+ehull", scored_new, True),
        ):
            ok = scored["in_domain"].copy()
            counts[key]["in_domain"] += int(ok.sum())
            if use_ehull:
                ok &= scored["ehull_pass"]
            counts[key]["ehull_pass"] += int(scored["ehull_pass"].sum())
            counts[key]["ranked"] += int(ok.sum())
            p = scored["probability"]
            cand = np.nonzero(ok)[0]
            cand = cand[np.argsort(-p[cand], kind="stable")[: args.top]]
            for i in cand:
                item = (float(p[i]), -(n + int(i)), tuple(chunk.amounts[i]))
                if len(heaps[key]) < args.top:
                    heapq.heappush(heaps[key], item)
                elif item > heaps[key][0]:
                    heapq.heapreplace(heaps[key], item)
        n += len(chunk)
    wall = time.perf_counter() - t0
    out = {
        "pool": list(rules.dopant_pool),
        "n_enumerated": n,
        "wall_s": round(wall, 1),
        "load_before": [round(x, 2) for x in load0],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "max_ehull_meV_per_atom": args.max_ehull,
        "models": {k: g.model_name for k, (g, _) in gates.items()},
        "lists": {},
    }
    tops = {}
    for key, (gate, max_ehull) in gates.items():
        best = sorted(heaps[key], reverse=True)
        rows = CandidateChunk(
            np.array([b[2] for b in best]).reshape(len(best), len(elements)), elements, 2.0
        )
        frame = gate.score(rows.compositions(), max_ehull=max_ehull)
        tops[key] = frame
        el_sets = {
            "-".join(sorted(el for el, a in zip(elements, b[2]) if a > 0)) for b in best
        }
        out["lists"][key] = {
            **counts[key],
            "top_probability_max": float(frame["probability"].max()),
            "top_probability_min": float(frame["probability"].min()),
            "top_probability_std_median": float(frame["probability_std"].median()),
            "top_ehull_median": float(frame["ehull_1000K_meV_per_atom"].median()),
            "top_distinct_element_sets": len(el_sets),
            "top_n_cations": {
                str(k): int(v)
                for k, v in frame["n_m_cations"].astype(int).value_counts().sort_index().items()
            },
            "top10": frame[
                ["composition", "probability", "probability_std", "ehull_1000K_meV_per_atom"]
            ]
            .head(10)
            .round(4)
            .to_dict(orient="records"),
        }
    names = list(tops)
    out["overlap"] = {
        f"{a}|{b}": len(set(tops[a]["composition"]) & set(tops[b]["composition"]))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
