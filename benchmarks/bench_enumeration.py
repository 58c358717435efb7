"""Benchmark: vectorised featurize + classify of >= 1,000,000 compositions vs a matminer loop.

Both paths run in this process on the same compositions and the same gate:

* vectorised: ``enumerate_candidates`` streams the default rules in chunks; every chunk is
  featurized with ``descriptor_arrays``-based ``feature_arrays`` and classified with the pipeline's
  ``predict_proba`` (``SynthesizabilityGate.score_arrays``);
* per composition: a sample spread over the same stream, one composition at a time:
  ``NasiconComposition`` -> matminer ``ElementProperty`` (magpie) featurization + the published
  descriptors (``compute_descriptors``) -> ``predict_proba`` on one row.

Prints compositions per minute of both, their ratio and the peak resident memory.

    .venv/bin/python benchmarks/bench_enumeration.py [--n 1000000] [--sample 300]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=1_000_000, help="compositions for the vectorised path"
    )
    parser.add_argument(
        "--sample", type=int, default=300, help="compositions for the matminer loop"
    )
    parser.add_argument("--chunk-size", type=int, default=200_000)
    parser.add_argument("--model", default=None, help="gate model (default: the default gate)")
    args = parser.parse_args()

    from matminer.featurizers.composition import ElementProperty

    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL, SynthesizabilityGate
    from nasicon_workflows.descriptors import compute_descriptors
    from nasicon_workflows.enumeration import EnumerationRules, enumerate_candidates

    gate = SynthesizabilityGate.load_default(args.model or DEFAULT_GATE_MODEL)
    rules = EnumerationRules(step=0.1)  # the 0.1 grid measured here (the default is now 0.25)
    print(
        f"gate: {gate.model_name} on {gate.features}; rules: default (pool of "
        f"{len(rules.dopant_pool)}, 2-5 cations, step 0.1, Na 3.0-4.0)"
    )
    rss0 = _rss_mb()

    # ---------------------------------------------------------------- vectorised
    n_done, t_enum, t_score = 0, 0.0, 0.0
    n_pass, n_in = 0, 0
    sample_rows, elements = [], ()
    stride = max(1, args.n // args.sample)
    t0 = time.perf_counter()
    stream = enumerate_candidates(rules, args.chunk_size)
    while n_done < args.n:
        t_a = time.perf_counter()
        chunk = next(stream)
        t_b = time.perf_counter()
        scored = gate.score_arrays(chunk.amounts, chunk.elements, chunk.si)
        t_c = time.perf_counter()
        t_enum += t_b - t_a
        t_score += t_c - t_b
        n_pass += int((scored["probability"] >= gate.threshold).sum())
        n_in += int(scored["in_domain"].sum())
        take = np.arange((-n_done) % stride, len(chunk), stride)
        sample_rows.extend(chunk.amounts[take])
        elements = chunk.elements
        n_done += len(chunk)
    wall = time.perf_counter() - t0
    rate_vec = n_done / t_score * 60
    rate_all = n_done / wall * 60
    print(
        f"vectorised: {n_done:,} compositions; featurize+classify {t_score:.2f} s "
        f"({rate_vec:,.0f} per minute); with enumeration {wall:.2f} s ({rate_all:,.0f} per "
        f"minute); {n_pass:,} with p >= {gate.threshold}, {n_in:,} inside the domain; "
        f"peak RSS {_rss_mb():.0f} MB (start {rss0:.0f} MB)"
    )

    # ---------------------------------------------------------------- one at a time (matminer)
    from nasicon_workflows.enumeration import CandidateChunk

    sample = CandidateChunk(np.array(sample_rows[: args.sample]), elements, rules.si)
    comps = sample.compositions()
    featurizer = ElementProperty.from_preset("magpie", impute_nan=False)
    featurizer.featurize(comps[0].to_pymatgen())  # warm the element-data tables
    probs = np.empty(len(comps))
    t0 = time.perf_counter()
    for i, comp in enumerate(comps):
        featurizer.featurize(comp.to_pymatgen())
        desc = compute_descriptors(comp, gate.convention)
        extra = (
            gate.score_arrays(
                np.array([[comp.m_site[el] for el in comp.m_site]]), list(comp.m_site), comp.si
            )
            if gate.metadata.feature_set != "published"
            else None
        )
        row = (
            [getattr(desc, f) for f in gate.features]
            if extra is None
            else [extra[f][0] for f in gate.features]
        )
        probs[i] = gate.predict_proba(np.array([row]))[0]
    t_loop = time.perf_counter() - t0
    rate_loop = len(comps) / t_loop * 60
    check = gate.score_arrays(sample.amounts, sample.elements, sample.si)["probability"]
    agree = float(np.max(np.abs(check - probs)))
    print(
        f"per composition (matminer magpie + descriptors + predict_proba): {len(comps)} in "
        f"{t_loop:.2f} s ({rate_loop:,.0f} per minute; {n_done:,} would take "
        f"{n_done / rate_loop:,.0f} min); max |p_vectorised - p_loop| = {agree:.2e}"
    )
    print(
        f"ratio vectorised / per-composition: {rate_vec / rate_loop:,.0f}x "
        f"(including enumeration: {rate_all / rate_loop:,.0f}x)"
    )


if __name__ == "__main__":
    main()
