"""Equivalent-circuit fitting with impedance.py: element values, covariance, fit quality, roles.

Circuits are written in impedance.py's syntax (``-`` series, ``p(a,b)`` parallel; elements R, C,
CPE, W, Wo, Ws, L, ... numbered, e.g. ``p(R0,CPE0)-p(R1,CPE1)-CPE2``). The model is impedance.py's
(:func:`impedance.models.circuits.fitting.wrapCircuit`), fitted with its standard modulus
weighting (each residual divided by |Z|) by :func:`scipy.optimize.curve_fit` directly, so that
the full covariance matrix is kept (impedance.py's own ``fit`` returns only its diagonal) and the
uncertainty of R_bulk + R_gb includes their correlation. Positive parameters are fitted as
logarithms, which makes parameters that differ by ten orders of magnitude (Q ~ 1e-11, R ~ 1e5)
equally well conditioned; CPE exponents stay linear in [0, 1]. Several starting points are tried
(:func:`initial_guesses`) and the lowest weighted χ² is kept.

Uncertainties are one standard error from the covariance scaled by the residual variance
(``absolute_sigma=False``), i.e. they assume the relative noise of every point is the same and
equal to the observed scatter.

Resistor roles (bulk, grain boundary) follow the characteristic capacitance of each resistor's
parallel element, C_eff = (R^(1-n) Q)^(1/n) for R ∥ CPE (Hsu & Mansfeld, *Corrosion* 2001, **57**,
747); a series resistor has none (high-frequency intercept). The smallest C_eff is the bulk, the
next the grain boundary, in line with the capacitance ranges of Irvine, Sinclair & West,
*Adv. Mater.* 1990, **2**, 132 (bulk 1e-12 to 1e-11 F, grain boundary 1e-11 to 1e-8 F).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from nasicon_workflows.eis.errors import CircuitError, FitConvergenceError, TooFewPointsError
from nasicon_workflows.eis.spectrum import Spectrum

__all__ = [
    "DEFAULT_CIRCUIT",
    "PRESET_CIRCUITS",
    "CircuitFit",
    "ResistorRole",
    "capacitance_class",
    "fit_circuit",
    "initial_guesses",
    "kramers_kronig_check",
    "parse_circuit",
    "resolve_circuit",
    "simulate",
]

#: Named circuits. ``bulk-gb-electrode``: bulk ∥ CPE, grain boundary ∥ CPE, blocking-electrode
#: CPE; ``bulk-electrode``: one arc and the electrode spike; ``randles``: R_Ω in series with
#: R_ct ∥ CPE and a Warburg element (the circuit of Zhao et al., Table 3).
PRESET_CIRCUITS = {
    "bulk-gb-electrode": "p(R0,CPE0)-p(R1,CPE1)-CPE2",
    "bulk-electrode": "p(R0,CPE0)-CPE1",
    "randles": "R0-p(R1,CPE1)-W1",
}
DEFAULT_CIRCUIT = "bulk-gb-electrode"

#: Irvine, Sinclair & West, Adv. Mater. 1990, 2, 132, Table 1: capacitance (F) and its phenomenon.
_CAPACITANCE_RANGES_F = (
    (1e-12, "bulk"),
    (1e-11, "minor second phase or bulk"),
    (1e-8, "grain boundary"),
    (1e-7, "surface layer"),
    (1e-5, "sample-electrode interface"),
    (math.inf, "electrochemical reaction"),
)


def capacitance_class(capacitance_F: float | None) -> str:
    """The phenomenon a capacitance usually belongs to (Irvine, Sinclair & West 1990).

    Parameters
    ----------
    capacitance_F
        Effective capacitance in F; None for a series resistor without parallel element.

    Returns
    -------
    str
        ``"bulk"`` (≤ 1e-11 F), ``"grain boundary"`` (1e-11 to 1e-8 F), ``"surface layer"``,
        ``"sample-electrode interface"``, ``"electrochemical reaction"`` or
        ``"series (high-frequency intercept)"``.
    """
    if capacitance_F is None:
        return "series (high-frequency intercept)"
    if capacitance_F <= 1e-11:
        return "bulk"
    for upper, name in _CAPACITANCE_RANGES_F[2:]:
        if capacitance_F <= upper:
            return name
    return "electrochemical reaction"


def resolve_circuit(circuit: str | None) -> str:
    """A preset name or a circuit string, as an impedance.py circuit string without spaces."""
    circuit = (circuit or DEFAULT_CIRCUIT).strip()
    return PRESET_CIRCUITS.get(circuit, circuit).replace(" ", "")


# --- a small parser of the circuit topology (impedance.py evaluates; we need the structure) ---

_TOKEN = re.compile(r"p\(|\(|\)|,|-|[A-Za-z]+[0-9_]*")


def parse_circuit(circuit: str):
    """The topology of a circuit string as nested tuples.

    Parameters
    ----------
    circuit
        impedance.py circuit string.

    Returns
    -------
    tuple
        ``("s", [children])``, ``("p", [children])`` or ``("e", name)``.

    Raises
    ------
    CircuitError
        Unbalanced parentheses, empty branches, unknown elements, repeated element names.
    """
    from impedance.models.circuits.elements import circuit_elements, get_element_from_name

    text = circuit.replace(" ", "")
    if not text:
        raise CircuitError("empty circuit string")
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        raise CircuitError(
            f"circuit {circuit!r} holds characters impedance.py does not use; write elements "
            "such as R0, C1, CPE1, W1 joined by '-' (series) and 'p(a,b)' (parallel)"
        )
    pos = 0
    names: list[str] = []

    def series():
        nonlocal pos
        items = [single()]
        while pos < len(tokens) and tokens[pos] == "-":
            pos += 1
            items.append(single())
        return items[0] if len(items) == 1 else ("s", items)

    def single():
        nonlocal pos
        if pos >= len(tokens):
            raise CircuitError(f"circuit {circuit!r} ends where an element is expected")
        tok = tokens[pos]
        if tok == "p(":
            pos += 1
            branches = [series()]
            while pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                branches.append(series())
            if pos >= len(tokens) or tokens[pos] != ")":
                raise CircuitError(f"circuit {circuit!r}: a 'p(' is not closed")
            pos += 1
            if len(branches) < 2:
                raise CircuitError(f"circuit {circuit!r}: p(...) needs at least two branches")
            return ("p", branches)
        if tok in ("(", ")", ",", "-"):
            raise CircuitError(f"circuit {circuit!r}: unexpected {tok!r} at token {pos + 1}")
        kind = get_element_from_name(tok)
        if kind not in circuit_elements or kind in ("s", "p"):
            known = sorted(k for k in circuit_elements if k not in ("s", "p"))
            raise CircuitError(
                f"circuit {circuit!r}: unknown element {tok!r}; impedance.py knows {known}"
            )
        if not re.search(r"\d", tok):
            raise CircuitError(f"circuit {circuit!r}: element {tok!r} needs a number, e.g. {tok}0")
        if tok in names:
            raise CircuitError(f"circuit {circuit!r}: element name {tok!r} is used twice")
        names.append(tok)
        pos += 1
        return ("e", tok)

    tree = series()
    if pos != len(tokens):
        raise CircuitError(f"circuit {circuit!r}: unexpected {tokens[pos]!r} at token {pos + 1}")
    return tree


def _elements(tree) -> list[str]:
    if tree[0] == "e":
        return [tree[1]]
    return [name for child in tree[1] for name in _elements(child)]


def _kind(name: str) -> str:
    from impedance.models.circuits.elements import get_element_from_name

    return get_element_from_name(name)


def _parallel_partners(tree) -> dict[str, list[str]]:
    """For each resistor: the C/CPE elements that form other branches of its innermost p()."""
    partners: dict[str, list[str]] = {}

    def walk(node, enclosing):
        if node[0] == "e":
            if _kind(node[1]) == "R":
                partners[node[1]] = enclosing
            return
        if node[0] == "p":
            for i, child in enumerate(node[1]):
                others = [
                    b[1] for j, b in enumerate(node[1])
                    if j != i and b[0] == "e" and _kind(b[1]) in ("C", "CPE")
                ]
                walk(child, others)
        else:
            for child in node[1]:
                walk(child, enclosing)

    walk(tree, [])
    return partners


def _block_capacitance(params, names, r: str, c: str) -> float:
    if _kind(c) == "C":
        return float(params[names.index(c)])
    q, n = params[names.index(f"{c}_0")], params[names.index(f"{c}_1")]
    return float((params[names.index(r)] ** (1 - n) * q) ** (1 / n))


def _block_names(kind: str, block) -> list[str]:
    """Parameter names of a p(R, C/CPE) block in impedance.py's order."""
    _, r, c = block
    return [r, c] if kind == "C" else [r, f"{c}_0", f"{c}_1"]


def _order_equivalent_blocks(tree, names, params, cov):
    """Give interchangeable series blocks p(R, CPE) their values in order of capacitance.

    In ``p(R0,CPE0)-p(R1,CPE1)-...`` the two blocks can swap values without changing the
    impedance; the fit may land on either labelling. Re-ordering so that the first-named block
    has the smallest C_eff (the bulk) makes R0 the bulk in every result.
    """
    children = tree[1] if tree[0] == "s" else []
    blocks = []
    for child in children:
        if child[0] == "p" and len(child[1]) == 2 and all(b[0] == "e" for b in child[1]):
            kinds = sorted(_kind(b[1]) for b in child[1])
            if kinds in (["C", "R"], ["CPE", "R"]):
                r = next(b[1] for b in child[1] if _kind(b[1]) == "R")
                c = next(b[1] for b in child[1] if _kind(b[1]) != "R")
                blocks.append((kinds[0], r, c))
    params, cov = params.copy(), cov.copy()
    for kind in ("C", "CPE"):
        group = [b for b in blocks if b[0] == kind]
        if len(group) < 2:
            continue
        caps = [_block_capacitance(params, names, r, c) for _, r, c in group]
        order = np.argsort(caps, kind="stable")
        if np.all(order == np.arange(len(group))):
            continue
        perm = np.arange(len(names))
        for target, source in zip(group, (group[i] for i in order)):
            for tn, sn in zip(_block_names(kind, target), _block_names(kind, source)):
                perm[names.index(tn)] = names.index(sn)
        params = params[perm]
        cov = cov[np.ix_(perm, perm)]
    return params, cov


@dataclass
class ResistorRole:
    """A resistor of the circuit, its characteristic capacitance and the role given to it."""

    name: str
    resistance_ohm: float
    resistance_uncertainty_ohm: float
    capacitance_F: float | None
    capacitance_class: str
    role: str  # "bulk", "grain_boundary" or "other"


@dataclass
class CircuitFit:
    """The result of :func:`fit_circuit`."""

    circuit: str
    parameter_names: list[str]
    parameter_units: list[str]
    values: np.ndarray
    uncertainties: np.ndarray
    covariance: np.ndarray
    chi2_reduced: float
    residual_rms_relative: float
    n_points: int
    n_parameters: int
    n_starts: int
    n_function_evals: int
    resistors: list[ResistorRole]
    kramers_kronig: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def value(self, name: str) -> float:
        """The fitted value of a parameter (e.g. ``"R0"``, ``"CPE1_0"``)."""
        return float(self.values[self.parameter_names.index(name)])

    def uncertainty(self, name: str) -> float:
        """The one-standard-error uncertainty of a parameter."""
        return float(self.uncertainties[self.parameter_names.index(name)])

    def role(self, role: str) -> ResistorRole | None:
        """The resistor with the given role (``"bulk"``, ``"grain_boundary"``), if any."""
        return next((r for r in self.resistors if r.role == role), None)

    def resistance_sum(self, roles=("bulk", "grain_boundary")) -> tuple[float, float]:
        """Sum of the resistances with the given roles and its uncertainty (with covariance)."""
        idx = [self.parameter_names.index(r.name) for r in self.resistors if r.role in roles]
        total = float(self.values[idx].sum())
        var = float(self.covariance[np.ix_(idx, idx)].sum())
        return total, math.sqrt(max(var, 0.0))

    def predict(self, frequency_Hz) -> np.ndarray:
        """The fitted circuit's complex impedance (Ω) at the given frequencies."""
        return _model(self.circuit)(np.asarray(frequency_Hz, dtype=float), self.values)


def _model(circuit: str):
    """A fast evaluator of the circuit with impedance.py's element functions.

    impedance.py's own ``wrapCircuit`` builds and evaluates a Python expression with every
    frequency written out on each call (~10 ms per call here), which makes a multi-start fit take
    minutes; walking the parsed tree and calling the same element functions gives identical values.
    """
    from impedance.models.circuits.elements import circuit_elements

    tree = parse_circuit(circuit)
    names = _elements(tree)
    sizes = [circuit_elements[_kind(n)].num_params for n in names]
    offsets = dict(zip(names, np.cumsum([0] + sizes[:-1]).tolist()))
    size = dict(zip(names, sizes))

    def z(f, params):
        freq = [float(x) for x in np.asarray(f, dtype=float)]
        values = [float(p) for p in params]

        def walk(node):
            if node[0] == "e":
                name = node[1]
                i = offsets[name]
                return np.asarray(
                    circuit_elements[_kind(name)](values[i : i + size[name]], freq), dtype=complex
                )
            parts = [walk(child) for child in node[1]]
            if node[0] == "s":
                return np.sum(parts, axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                return 1.0 / np.sum([1.0 / p for p in parts], axis=0)

        return walk(tree)

    return z


def simulate(circuit: str, parameters, frequency_Hz) -> np.ndarray:
    """The complex impedance (Ω) of a circuit with given parameters (impedance.py's elements).

    Parameters
    ----------
    circuit
        Preset name or impedance.py circuit string.
    parameters
        Values in impedance.py's parameter order (e.g. R0, CPE0_0, CPE0_1, ...).
    frequency_Hz
        Frequencies in Hz.

    Raises
    ------
    CircuitError
        Unparseable circuit or the wrong number of parameters.
    """
    circuit = resolve_circuit(circuit)
    names, _, _ = _names_and_units(circuit)
    params = np.asarray(parameters, dtype=float).ravel()
    if params.size != len(names):
        raise CircuitError(f"{circuit!r} takes {len(names)} parameters {names}, got {params.size}")
    return _model(circuit)(np.asarray(frequency_Hz, dtype=float), params)


def _names_and_units(circuit: str) -> tuple[list[str], list[str], list[bool]]:
    """Parameter names and units in impedance.py's order; True where a parameter is a CPE/La
    exponent (bounded in [0, 1], fitted linearly)."""
    from impedance.models.circuits.fitting import check_and_eval

    names, units, exponent = [], [], []
    for elem in _elements(parse_circuit(circuit)):
        kind = _kind(elem)
        ev = check_and_eval(kind)
        for j in range(ev.num_params):
            names.append(f"{elem}_{j}" if ev.num_params > 1 else elem)
            units.append(ev.units[j])
            exponent.append(kind in ("CPE", "La") and j == 1)
    return names, units, exponent


def initial_guesses(spectrum: Spectrum, circuit: str, max_starts: int = 8) -> list[np.ndarray]:
    """Starting points for the fit, estimated from the spectrum's shape.

    Resistances with a parallel C/CPE share the real-axis span of the arcs, their relaxation
    frequencies are spread over the measured range (first resistor highest frequency), a series
    resistor starts at the high-frequency intercept, a lone CPE/C or Warburg element from the
    low-frequency reactance. Several splits and orders give several starts.

    Parameters
    ----------
    spectrum
        The measured spectrum.
    circuit
        impedance.py circuit string.
    max_starts
        At most this many starting points.

    Returns
    -------
    list of numpy.ndarray
    """
    tree = parse_circuit(circuit)
    names, _, _ = _names_and_units(circuit)
    elements = _elements(tree)
    partners = _parallel_partners(tree)
    f = spectrum.frequency_Hz
    zr, zi = spectrum.z_real_ohm, spectrum.z_imag_ohm
    omega = 2 * np.pi * f
    r_hf = max(float(zr[-1]), 0.0)
    # End of the arcs = foot of the electrode spike: from the lowest frequency upwards -Z''
    # falls along the spike until the arcs begin (smoothed over 3 points against noise). Without
    # a spike the walk stops at once and the arcs end at the lowest frequency.
    neg = np.convolve(-zi, np.ones(3) / 3, mode="same")
    neg[0], neg[-1] = -zi[0], -zi[-1]
    foot = 0
    while foot < len(neg) - 2 and neg[foot + 1] < neg[foot]:
        foot += 1
    r_arcs = float(zr[foot] - r_hf)
    r_arcs = max(r_arcs, 1e-3 * float(np.max(np.abs(spectrum.impedance_ohm))), 1e-9)
    parallel_r = [e for e in elements if _kind(e) == "R" and partners.get(e)]
    series_r = [e for e in elements if _kind(e) == "R" and not partners.get(e)]
    lone_caps = [
        e for e in elements
        if _kind(e) in ("C", "CPE") and not any(e in p for p in partners.values())
    ]
    m = len(parallel_r)
    w_hi = float(omega[-1])
    w_lo = min(float(omega[foot]), w_hi / 10)
    splits = [np.full(m, 1.0 / m)] if m else [np.zeros(0)]
    if m >= 2:
        for share in (0.2, 0.8, 0.5):
            s = np.full(m, (1 - share) / (m - 1))
            s[0] = share
            splits.append(s)
    orders = [list(range(m)), list(range(m))[::-1]] if m >= 2 else [list(range(m))]
    spreads = [(w_hi, w_lo), (w_hi * 3, w_lo * 3), (w_hi / 3, w_lo / 10)]
    zi_lf = max(float(-zi[0]), 1e-12)
    starts = []
    for split, order, (hi, lo) in itertools.product(splits, orders, spreads):
        # relaxation frequencies at the centres of m equal log-intervals between hi and lo
        omegas = np.exp(np.log(hi) + (np.arange(m) + 0.5) / max(m, 1) * np.log(lo / hi))
        r_of = {name: r_arcs * split[k] for k, name in enumerate(parallel_r)}
        w_of = {name: omegas[order[k]] for k, name in enumerate(parallel_r)}
        if series_r and r_hf <= 1e-3 * r_arcs:
            r_series = 1e-2 * r_arcs
        else:
            r_series = r_hf / max(len(series_r), 1)
        values = []
        for elem in elements:
            kind = _kind(elem)
            owner = next((r for r, p in partners.items() if elem in p), None)
            if kind == "R":
                values.append(r_of.get(elem, r_series))
            elif kind in ("CPE", "C") and owner in r_of:
                n = 0.9 if kind == "CPE" else 1.0
                q = 1.0 / (r_of[owner] * w_of[owner] ** n)
                values.extend([q, n] if kind == "CPE" else [q])
            elif kind in ("CPE", "C"):
                n = 0.8 if kind == "CPE" else 1.0
                q = 1.0 / (zi_lf * omega[0] ** n) / max(len(lone_caps), 1)
                values.extend([q, n] if kind == "CPE" else [q])
            elif kind == "W":
                values.append(zi_lf * math.sqrt(omega[0]))
            elif kind in ("Wo", "Ws"):
                values.extend([r_arcs, 1.0 / omega[0]])
            elif kind == "L":
                values.append(1e-7)
            else:
                from impedance.models.circuits.fitting import check_and_eval

                values.extend([1.0] * check_and_eval(kind).num_params)
        if len(values) != len(names):  # an element with parameters we do not estimate
            values = [1.0] * len(names)
        starts.append(np.array(values, dtype=float))
        if len(starts) >= max_starts:
            break
    return starts


def kramers_kronig_check(spectrum: Spectrum) -> dict:
    """impedance.py's lin-KK test (Schönleber et al., *Electrochim. Acta* 2014, **131**, 20).

    Fits R + M Voigt elements with fixed time constants (and a series capacitance, since blocking
    electrodes have no low-frequency intercept) and returns M, μ and the residuals relative to |Z|.
    Residuals within ~1 % mean the spectrum is consistent with a linear, causal, stable system.

    Returns
    -------
    dict
        ``M``, ``mu``, ``max_abs_residual_real``, ``max_abs_residual_imag``, ``rms_residual``.
    """
    from impedance.validation import fit_linKK, get_tc_distribution

    # impedance 1.7.1's linKK/eval_linKK build a Python expression from repr(np.float64), which
    # numpy >= 2 prints as "np.float64(...)" and the eval fails; the least-squares step
    # (fit_linKK) and the time constants are used as published, the model is evaluated here.
    f, z = spectrum.frequency_Hz, spectrum.impedance_ohm
    omega = 2 * np.pi * f

    def evaluate(elements, ts):
        zz = elements[0] + sum(r / (1 + 1j * omega * t) for r, t in zip(elements[1:-2], ts))
        return zz + 1j * omega * elements[-1] + elements[-2] / (1j * omega)

    m, mu = 0, 1.0
    while mu > 0.85 and m < 50:  # Schönleber's criterion with impedance.py's defaults
        m += 1
        ts = get_tc_distribution(f, m)
        elements, mu = fit_linKK(f, ts, m, z, "complex", True)
    err = (z - evaluate(elements, ts)) / np.abs(z)
    res_re, res_im = err.real, err.imag
    return {
        "M": int(m),
        "mu": float(mu),
        "max_abs_residual_real": float(np.max(np.abs(res_re))),
        "max_abs_residual_imag": float(np.max(np.abs(res_im))),
        "rms_residual": float(np.sqrt(np.mean(np.concatenate([res_re, res_im]) ** 2))),
    }


def fit_circuit(
    spectrum: Spectrum,
    circuit: str | None = None,
    initial_guess=None,
    bulk_element: str | None = None,
    gb_element: str | None = None,
    max_function_evals: int = 4000,
    max_starts: int = 8,
    kramers_kronig: bool = True,
) -> CircuitFit:
    """Fit an equivalent circuit to a spectrum and assign bulk and grain-boundary resistors.

    Parameters
    ----------
    spectrum
        The spectrum (Z'' = Im Z).
    circuit
        Preset name (:data:`PRESET_CIRCUITS`) or impedance.py circuit string; default
        ``bulk-gb-electrode``.
    initial_guess
        One starting vector in impedance.py's parameter order; default several from
        :func:`initial_guesses`.
    bulk_element, gb_element
        Resistor names that override the capacitance-based roles (e.g. ``"R0"``).
    max_function_evals
        Limit of model evaluations per start; a start that reaches it has not converged.
    max_starts
        Number of automatic starting points.
    kramers_kronig
        Also run the lin-KK test.

    Returns
    -------
    CircuitFit

    Raises
    ------
    CircuitError
        Unparseable circuit, roles that name no resistor, a circuit without resistor.
    TooFewPointsError
        Fewer frequencies than free parameters.
    FitConvergenceError
        No start converged, or the converged parameters are not determined by the data
        (infinite or undefined covariance).
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    circuit = resolve_circuit(circuit)
    names, units, exponent = _names_and_units(circuit)
    tree = parse_circuit(circuit)
    partners = _parallel_partners(tree)
    resistors = [e for e in _elements(tree) if _kind(e) == "R"]
    if not resistors:
        raise CircuitError(f"circuit {circuit!r} has no resistor; no conductivity can be given")
    for label, elem in (("bulk", bulk_element), ("grain-boundary", gb_element)):
        if elem is not None and elem not in resistors:
            raise CircuitError(
                f"the {label} element {elem!r} is not a resistor of {circuit!r} ({resistors})"
            )
    n_par = len(names)
    n_pts = spectrum.n_points
    if n_pts < n_par:
        raise TooFewPointsError(
            f"{spectrum.source}: {n_pts} frequencies for the {n_par} free parameters of "
            f"{circuit!r}; at least {n_par} are needed (measure more points or use a smaller "
            "circuit)"
        )
    exponent = np.array(exponent)
    f = spectrum.frequency_Hz
    z = spectrum.impedance_ohm
    y = np.concatenate([z.real, z.imag])
    sigma = np.concatenate([np.abs(z), np.abs(z)])
    model = _model(circuit)

    def to_params(theta):
        theta = np.clip(theta, -200, 200)
        return np.where(exponent, 1.0 / (1.0 + np.exp(-theta)), np.exp(theta))

    def stacked(freq, *theta):
        zz = model(freq, to_params(np.asarray(theta)))
        return np.concatenate([zz.real, zz.imag])

    if initial_guess is not None:
        guess = np.asarray(initial_guess, dtype=float)
        if guess.shape != (n_par,) or np.any(~np.isfinite(guess)) or np.any(guess[~exponent] <= 0):
            raise CircuitError(
                f"initial guess must be {n_par} positive numbers for {names}, got {initial_guess}"
            )
        starts = [guess]
    else:
        starts = initial_guesses(spectrum, circuit, max_starts=max_starts)
    best, failures, nfev_total = None, [], 0
    for start in starts:
        clipped = np.clip(start, 1e-3, 1 - 1e-3)
        theta0 = np.where(
            exponent, np.log(clipped / (1 - clipped)), np.log(np.maximum(start, 1e-300))
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                theta, cov, info, _, _ = curve_fit(
                    stacked, f, y, p0=theta0, sigma=sigma, method="lm",
                    maxfev=max_function_evals, full_output=True,
                )
        except (RuntimeError, ValueError) as exc:
            failures.append(str(exc).split("\n")[0])
            continue
        nfev_total += int(info.get("nfev", 0))
        resid = (stacked(f, *theta) - y) / sigma
        chi2 = float(np.sum(resid**2))
        if not np.isfinite(chi2):
            failures.append("non-finite residuals")
            continue
        if best is None or chi2 < best[0]:
            best = (chi2, theta, cov, resid)
    if best is None:
        raise FitConvergenceError(
            f"{spectrum.source}: the fit of {circuit!r} did not converge from any of "
            f"{len(starts)} starting point(s) ({failures[0] if failures else 'no result'}); "
            "check the spectrum (lin-KK), try a simpler circuit or give --initial-guess"
        )
    chi2, theta, cov_theta, resid = best
    params = to_params(theta)
    jac = np.where(exponent, params * (1 - params), params)
    cov = cov_theta * np.outer(jac, jac)
    diag = np.diag(cov)
    if not np.all(np.isfinite(cov)) or np.any(diag < 0):
        # Name the parameters that no longer influence the model (e.g. a series R driven to 0,
        # whose logarithm runs away): their Jacobian columns vanish.
        jac_cols = []
        base = stacked(f, *theta) / sigma
        for k in range(n_par):
            step = np.zeros(n_par)
            step[k] = 1e-6
            jac_cols.append(np.linalg.norm(stacked(f, *(theta + step)) / sigma - base) / 1e-6)
        jac_cols = np.array(jac_cols)
        idle = [n for n, c in zip(names, jac_cols) if c < 1e-6 * jac_cols.max()]
        detail = (
            f"{', '.join(f'{n} = {params[names.index(n)]:.3g}' for n in idle)} no longer "
            "change(s) the model: the data do not need these elements; remove them from the "
            "circuit"
            if idle
            else "the parameters are not determined by the data (singular covariance); use a "
            "circuit with fewer elements or measure over a wider frequency range"
        )
        raise FitConvergenceError(f"{spectrum.source}: the fit of {circuit!r} failed: {detail}")
    params, cov = _order_equivalent_blocks(tree, names, params, cov)
    diag = np.diag(cov)
    dof = max(2 * n_pts - n_par, 1)
    fit_warnings = [
        f"{n} is at its bound {v:g}" for n, v, e in zip(names, params, exponent)
        if e and (v <= 1e-6 or v >= 1 - 1e-6)
    ]
    # Roles by effective capacitance.
    roles = []
    for r in resistors:
        i = names.index(r)
        cap = None
        for p in partners.get(r, []):
            kind = _kind(p)
            if kind == "C":
                c = params[names.index(p)]
            else:
                q, n = params[names.index(f"{p}_0")], params[names.index(f"{p}_1")]
                c = (params[i] ** (1 - n) * q) ** (1 / n) if n > 0 else math.inf
            cap = c if cap is None else cap + c
        roles.append([r, float(params[i]), float(math.sqrt(diag[i])), cap])
    order = sorted(roles, key=lambda x: -1.0 if x[3] is None else x[3])
    assigned = {}
    if bulk_element or gb_element:
        if bulk_element:
            assigned[bulk_element] = "bulk"
        if gb_element:
            assigned[gb_element] = "grain_boundary"
        remaining = [x[0] for x in order if x[0] not in assigned]
        if not bulk_element and remaining:
            assigned[remaining.pop(0)] = "bulk"
        if not gb_element and remaining and len(resistors) >= 2:
            assigned[remaining.pop(0)] = "grain_boundary"
    else:
        for k, x in enumerate(order):
            assigned[x[0]] = ("bulk", "grain_boundary")[k] if k < 2 else "other"
    resistor_roles = [
        ResistorRole(
            name=r, resistance_ohm=val, resistance_uncertainty_ohm=unc, capacitance_F=cap,
            capacitance_class=capacitance_class(cap), role=assigned.get(r, "other"),
        )
        for r, val, unc, cap in roles
    ]
    for rr in resistor_roles:
        expected = {"bulk": ("bulk", "series"), "grain_boundary": ("grain boundary", "minor")}
        if rr.role in expected and not rr.capacitance_class.startswith(expected[rr.role]):
            fit_warnings.append(
                f"{rr.name} ({rr.role}) has C_eff = {rr.capacitance_F:.2e} F, typical of "
                f"'{rr.capacitance_class}' (Irvine, Sinclair & West 1990); check the assignment"
            )
    kk = kramers_kronig_check(spectrum) if kramers_kronig else {}
    rms = float(np.sqrt(np.mean(resid**2)))
    if kk and rms > 3 * kk["rms_residual"] and rms > 0.01:
        fit_warnings.append(
            f"the circuit leaves {rms:.1%} RMS residuals, {rms / kk['rms_residual']:.0f}x those "
            "of a Kramers-Kronig-compliant model: the circuit does not describe the spectrum "
            "well; consider another circuit"
        )
    return CircuitFit(
        circuit=circuit,
        parameter_names=names,
        parameter_units=units,
        values=params,
        uncertainties=np.sqrt(diag),
        covariance=cov,
        chi2_reduced=chi2 / dof,
        residual_rms_relative=float(np.sqrt(np.mean(resid**2))),
        n_points=n_pts,
        n_parameters=n_par,
        n_starts=len(starts),
        n_function_evals=nfev_total,
        resistors=resistor_roles,
        kramers_kronig=kk,
        warnings=fit_warnings,
    )
