"""Equivalent-circuit fitting libraries on the same synthetic spectra: impedance.py and pyimpspec.

Runs in either virtual environment and says which libraries it measured:

* the project venv (impedance.py, no pyimpspec; pyimpspec needs pandas >= 3, matminer < 3):
  ``.venv/bin/python benchmarks/bench_eis_libraries.py``
* a throwaway venv with pyimpspec:
  ``python3 -m venv /tmp/pyimpspec-venv && /tmp/pyimpspec-venv/bin/pip install pyimpspec``,
  ``/tmp/pyimpspec-venv/bin/python benchmarks/bench_eis_libraries.py``

The spectra are generated here with numpy alone (the same formulas as impedance.py's and
pyimpspec's R, CPE and Warburg elements), so both environments fit identical data: the cases of
``tests/eis_synthetic.py`` (bulk-gb-electrode, bulk-electrode, randles), clean and with 1 %
proportional noise (seeds 0..N-1).

Configurations
--------------
* ``nasicon-workflows``: this package's fit_circuit (impedance.py elements, log-parameters,
  Levenberg-Marquardt, automatic multi-start); project venv only.
* ``impedance.py``: ``CustomCircuit(...).fit(f, Z, weight_by_modulus=True)`` from one shared
  starting point (``GUESS``, within a factor ~5 of the truth).
* ``pyimpspec``: ``fit_circuit(circuit, data, method="least_squares", weight="modulus",
  num_procs=1)`` from the same shared starting point.
* ``pyimpspec-auto``: ``fit_circuit(..., method="auto", weight="auto", num_procs=1)`` (every
  lmfit method and weight, best pseudo χ² kept) from pyimpspec's default element values.

Reported per case and configuration: the fraction of fits whose resistances are within 5 % of the
truth (blocks ordered by capacitance, since p(R0,CPE0)-p(R1,CPE1) can swap), the median and
largest relative error of the resistances over those fits, the median |error| / reported standard
error, and CPU and wall seconds per fit (the process's own CPU time). The load (``uptime``) is
printed before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

CASES = {
    "bulk-gb-electrode": dict(
        impedance="p(R0,CPE0)-p(R1,CPE1)-CPE2", cdc="(RQ)(RQ)Q",
        true=[2.0e4, 2.0e-11, 0.92, 1.0e4, 3.0e-9, 0.85, 2.0e-6, 0.80],
        guess=[1.0e4, 1.0e-10, 0.9, 1.0e4, 1.0e-8, 0.9, 1.0e-6, 0.8],
        f=(0.1, 7e6, 71), resistors=[0, 3],
    ),
    "bulk-electrode": dict(
        impedance="p(R0,CPE0)-CPE1", cdc="(RQ)Q",
        true=[5.0e3, 1.0e-11, 0.90, 1.0e-6, 0.80],
        guess=[1.0e4, 1.0e-10, 0.9, 1.0e-6, 0.8],
        f=(0.1, 7e6, 50), resistors=[0],
    ),
    "randles": dict(
        impedance="R0-p(R1,CPE1)-W1", cdc="R(RQ)W",
        true=[30.31, 35.35, 2.0e-5, 0.85, 15.0],
        guess=[10.0, 100.0, 1.0e-5, 0.9, 10.0],
        f=(0.01, 1e6, 60), resistors=[0, 1],
    ),
}


def _cpe(q, n, w):
    return 1.0 / (q * (1j * w) ** n)


def _par(a, b):
    return 1.0 / (1.0 / a + 1.0 / b)


def impedance_of(case: str, p, f):
    """The impedance (Ω) of a case with impedance.py's parameter conventions."""
    w = 2 * np.pi * f
    if case == "bulk-gb-electrode":
        return _par(p[0], _cpe(p[1], p[2], w)) + _par(p[3], _cpe(p[4], p[5], w)) + _cpe(p[6], p[7], w)
    if case == "bulk-electrode":
        return _par(p[0], _cpe(p[1], p[2], w)) + _cpe(p[3], p[4], w)
    # impedance.py's W: A_w (1 - j) / sqrt(w)
    return p[0] + _par(p[1], _cpe(p[2], p[3], w)) + p[4] * (1 - 1j) / np.sqrt(w)


def spectrum(case: str, noise: float, seed: int):
    lo, hi, n = CASES[case]["f"]
    f = np.geomspace(lo, hi, n)
    z = impedance_of(case, CASES[case]["true"], f)
    if noise:
        rng = np.random.default_rng(seed)
        z = z.real * (1 + noise * rng.standard_normal(n)) + 1j * z.imag * (
            1 + noise * rng.standard_normal(n)
        )
    return f, z


def _resistances(case, values, errors):
    """Resistances (and errors) with R ∥ CPE blocks ordered by C_eff (bulk first)."""
    values, errors = np.asarray(values, float), np.asarray(errors, float)
    idx = CASES[case]["resistors"]
    if case == "bulk-gb-electrode":
        blocks = [(0, 1, 2), (3, 4, 5)]
        caps = [(values[r] ** (1 - values[n]) * values[q]) ** (1 / values[n]) for r, q, n in blocks]
        idx = [blocks[i][0] for i in np.argsort(caps)]
    return values[idx], errors[idx]


def fit_nasicon(case, f, z):
    from nasicon_workflows.eis import Spectrum, fit_circuit

    fit = fit_circuit(Spectrum.from_arrays(f, z.real, z.imag), CASES[case]["impedance"],
                      kramers_kronig=False)
    return fit.values, fit.uncertainties


def fit_impedance(case, f, z):
    from impedance.models.circuits import CustomCircuit

    c = CustomCircuit(CASES[case]["impedance"], initial_guess=list(CASES[case]["guess"]))
    c.fit(f, z, weight_by_modulus=True)
    return c.parameters_, c.conf_


def _pyimpspec_circuit(case, use_guess):
    import pyimpspec

    circuit = pyimpspec.parse_cdc(CASES[case]["cdc"])
    elements = circuit.get_elements()
    guess = list(CASES[case]["guess"])
    for el in elements:
        symbol = el.get_symbol()
        if symbol == "W":
            el.set_fixed(n=True)
        if not use_guess:
            continue
        if symbol == "R":
            el.set_values(R=guess.pop(0))
        elif symbol == "Q":
            el.set_values(Y=guess.pop(0), n=guess.pop(0))
        elif symbol == "W":
            el.set_values(Y=1.0 / (np.sqrt(2) * guess.pop(0)))
    return circuit


def _pyimpspec_values(case, result):
    """Values and standard errors in impedance.py's order and conventions.

    pyimpspec names the fitted elements by symbol and running number (R_1, Q_1, R_2, ...).
    """
    values, errors, counts = [], [], {}
    for el in result.circuit.get_elements():
        symbol = el.get_symbol()
        counts[symbol] = counts.get(symbol, 0) + 1
        params = result.parameters[f"{symbol}_{counts[symbol]}"]
        for key in {"R": ["R"], "Q": ["Y", "n"], "W": ["Y"]}[symbol]:
            fp = params[key]
            v, e = fp.value, (fp.stderr if fp.stderr is not None else np.nan)
            if symbol == "W":  # Y = 1 / (sqrt(2) A_w)  ->  A_w = 1 / (sqrt(2) Y)
                v, e = 1.0 / (np.sqrt(2) * v), e / (np.sqrt(2) * v**2)
            values.append(v)
            errors.append(e)
    return values, errors


def fit_pyimpspec(case, f, z, auto=False):
    import pyimpspec

    data = pyimpspec.DataSet(f, z)
    circuit = _pyimpspec_circuit(case, use_guess=not auto)
    if auto:
        result = pyimpspec.fit_circuit(circuit, data, method="auto", weight="auto", num_procs=1)
    else:
        result = pyimpspec.fit_circuit(
            circuit, data, method="least_squares", weight="modulus", num_procs=1
        )
    return _pyimpspec_values(case, result)


def available():
    configs = {}
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import nasicon_workflows.eis  # noqa: F401

        configs["nasicon-workflows"] = fit_nasicon
    except ImportError:
        pass
    try:
        import impedance  # noqa: F401

        configs["impedance.py"] = fit_impedance
    except ImportError:
        pass
    try:
        import pyimpspec  # noqa: F401

        configs["pyimpspec"] = fit_pyimpspec
        configs["pyimpspec-auto"] = lambda c, f, z: fit_pyimpspec(c, f, z, auto=True)
    except ImportError:
        pass
    return configs


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("impedance", "pyimpspec", "lmfit", "scipy", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="noisy spectra per case")
    parser.add_argument("--auto-seeds", type=int, default=3,
                        help="noisy spectra per case for the slow pyimpspec-auto")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    configs = available()
    print(f"load before: {' '.join(map(str, __import__('os').getloadavg()))} (1, 5, 15 min)")
    print(f"measured: {', '.join(configs) or 'nothing (no library found)'}; versions {versions()}")
    rows = []
    for case, spec in CASES.items():
        true_r = np.array(spec["true"])[spec["resistors"]]
        for name, fitter in configs.items():
            for noise in (0.0, 0.01):
                n_seeds = 1 if noise == 0 else (args.auto_seeds if name.endswith("auto") else args.seeds)
                ok, rel_all, zs, cpu, wall, failed = 0, [], [], 0.0, 0.0, 0
                for seed in range(n_seeds):
                    f, z = spectrum(case, noise, seed)
                    t0, w0 = time.process_time(), time.perf_counter()
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            values, errors = fitter(case, f, z)
                    except Exception as exc:  # a library's failure is a result here
                        failed += 1
                        cpu += time.process_time() - t0
                        wall += time.perf_counter() - w0
                        print(f"  {case} {name} seed {seed}: {type(exc).__name__}: {exc}"[:200])
                        continue
                    cpu += time.process_time() - t0
                    wall += time.perf_counter() - w0
                    r, dr = _resistances(case, values, errors)
                    rel = np.abs(r - true_r) / true_r
                    if np.all(rel < 0.05):
                        ok += 1
                        rel_all.extend(rel.tolist())
                        if noise:
                            zs.extend((np.abs(r - true_r) / np.asarray(dr, float)).tolist())
                rows.append(dict(
                    case=case, library=name, noise=noise, n=n_seeds, within_5pct=ok,
                    failed=failed,
                    median_rel_err=float(np.median(rel_all)) if rel_all else None,
                    max_rel_err=float(np.max(rel_all)) if rel_all else None,
                    median_abs_z=float(np.nanmedian(zs)) if zs else None,
                    cpu_s_per_fit=cpu / n_seeds,
                    wall_s_per_fit=wall / n_seeds,
                ))
                r = rows[-1]
                print(f"{case:18s} {name:18s} noise {noise:4.0%}: {ok}/{n_seeds} within 5 %"
                      f" (failed {failed}), median rel err "
                      f"{'-' if r['median_rel_err'] is None else format(r['median_rel_err'], '.2e')}"
                      f", max {'-' if r['max_rel_err'] is None else format(r['max_rel_err'], '.2e')}"
                      f", median |err|/stderr "
                      f"{'-' if r['median_abs_z'] is None else format(r['median_abs_z'], '.2f')}"
                      f", {r['cpu_s_per_fit']:.3f} CPU s/fit ({r['wall_s_per_fit']:.3f} s wall)",
                      flush=True)
    print(f"load after: {' '.join(map(str, __import__('os').getloadavg()))} (1, 5, 15 min)")
    if args.json:
        Path(args.json).write_text(json.dumps({"versions": versions(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
