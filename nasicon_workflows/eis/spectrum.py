"""Impedance spectra: reading measured files, column recognition, sign convention, validation.

A spectrum is stored in one convention, Z = Z' + jZ'' with Z'' = Im Z (negative for the
capacitive arcs of a pellet between blocking electrodes), frequencies in Hz ascending and
impedances in Ω. Files may hold the columns in any order under common header names, in Hz/kHz/MHz
and Ω/kΩ/MΩ, with either sign of the imaginary part; what was found is stated in
:attr:`Spectrum.notes`.

Readers
-------
* CSV, semicolon, tab or whitespace separated tables with a header naming frequency, Z' and Z''
  (``freq``, ``frequency_Hz``, ``f/Hz``; ``Z_real``, ``Zre``, ``Re(Z)/Ohm``, ``Z'``; ``Z_imag``,
  ``Zim``, ``-Im(Z)/Ohm``, ``-Z''`` ...), or three header-less columns in the order f, Z', Z''.
* BioLogic EC-Lab ``.mpt`` text files through impedance.py's maintained reader
  (:func:`impedance.preprocessing.readBioLogic`); binary ``.mpr`` files are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nasicon_workflows.eis.errors import SpectrumReadError, SpectrumValueError

__all__ = ["Spectrum", "read_spectrum", "recognise_column"]

_FREQ_NAMES = {"f", "freq", "frequency", "freqency", "fre", "frequencies"}
_REAL_NAMES = {
    "z'", "zre", "zreal", "z_real", "z_re", "re(z)", "rez", "re_z", "real", "z_r", "zr",
    "real(z)", "z.real", "re", "z'(ohm)",
}
_IMAG_NAMES = {
    "z''", 'z"', "zim", "zimag", "z_imag", "z_im", "im(z)", "imz", "im_z", "imag", "z_i",
    "zi", "imag(z)", "z.imag", "im",
}
_UNIT_RE = re.compile(
    r"[\s_/(\[]*(?P<unit>hz|khz|mhz|ohm|ohms|kohm|mohm|Ω|kΩ|mΩ|ω|kω|mω)[)\]]*$", re.IGNORECASE
)
_SCALE = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ohm": 1.0, "ohms": 1.0, "Ω": 1.0, "ω": 1.0,
          "kohm": 1e3, "kΩ": 1e3, "kω": 1e3}
# "MOhm" and "mOhm" differ only in case: keep the case of the unit for the mega/milli prefix.
_CASE_SCALE = {"MHz": 1e6, "mHz": 1e-3, "MOhm": 1e6, "mOhm": 1e-3, "MΩ": 1e6, "mΩ": 1e-3}


def recognise_column(name: str) -> tuple[str | None, float, bool]:
    """The role of a column header, its unit scale and whether it holds the negated value.

    Parameters
    ----------
    name
        Header text, e.g. ``"f/Hz"``, ``"-Im(Z)/Ohm"``, ``"Z' (kOhm)"``.

    Returns
    -------
    tuple
        ``(role, scale, negated)``: role is ``"frequency"``, ``"real"``, ``"imag"`` or None;
        ``scale`` converts the values to Hz or Ω; ``negated`` is True for headers such as
        ``-Z''`` or ``-Im(Z)``.
    """
    text = name.strip().strip('"').strip()
    negated = False
    if text.startswith(("-", "−")):
        negated, text = True, text[1:].strip()
    elif text.lower().startswith(("neg_", "minus_", "minus ")):
        negated, text = True, text.split("_", 1)[-1].split(" ", 1)[-1]
    scale = 1.0
    match = _UNIT_RE.search(text)
    if match and match.start() > 0:
        unit = match.group("unit")
        scale = _CASE_SCALE.get(unit, _SCALE.get(unit.lower(), 1.0))
        text = text[: match.start()]
    base = text.strip().lower().replace(" ", "").replace("’", "'").replace("′", "'")
    base = base.replace("″", "''").rstrip("_/")
    if base in _FREQ_NAMES:
        return "frequency", scale, negated
    if base in _REAL_NAMES:
        return "real", scale, negated
    if base in _IMAG_NAMES or base.startswith("-") and base[1:] in _IMAG_NAMES:
        return "imag", scale, negated or base.startswith("-")
    return None, scale, negated


@dataclass
class Spectrum:
    """One impedance spectrum in the convention Z = Z' + jZ'' (Z'' < 0 for capacitive arcs).

    Attributes
    ----------
    frequency_Hz
        Frequencies in Hz, strictly ascending.
    z_real_ohm
        Z' in Ω.
    z_imag_ohm
        Z'' = Im Z in Ω.
    source
        File name or a label.
    notes
        Statements of what the reader found (columns, units, sign convention).
    """

    frequency_Hz: np.ndarray
    z_real_ohm: np.ndarray
    z_imag_ohm: np.ndarray
    source: str = "arrays"
    notes: list[str] = field(default_factory=list)

    @property
    def impedance_ohm(self) -> np.ndarray:
        """Complex impedance Z' + jZ'' in Ω."""
        return self.z_real_ohm + 1j * self.z_imag_ohm

    @property
    def n_points(self) -> int:
        """Number of frequencies."""
        return int(self.frequency_Hz.size)

    @classmethod
    def from_arrays(
        cls,
        frequency_Hz,
        z_real_ohm,
        z_imag_ohm,
        source: str = "arrays",
        notes: list[str] | None = None,
        lines: list[int] | None = None,
    ) -> Spectrum:
        """A validated spectrum from arrays already in the Im Z convention.

        Parameters
        ----------
        frequency_Hz, z_real_ohm, z_imag_ohm
            Equal-length sequences; Z'' is Im Z.
        source
            Label used in error messages.
        notes
            Statements to keep with the spectrum.
        lines
            File line number of each point, for error messages.

        Raises
        ------
        SpectrumValueError
            NaN or infinite values, non-positive, duplicate or non-monotonic frequencies, fewer
            than 3 points, unequal lengths.
        """
        f = np.asarray(frequency_Hz, dtype=float).ravel()
        zr = np.asarray(z_real_ohm, dtype=float).ravel()
        zi = np.asarray(z_imag_ohm, dtype=float).ravel()
        if not f.size == zr.size == zi.size:
            raise SpectrumValueError(
                f"{source}: {f.size} frequencies but {zr.size} Z' and {zi.size} Z'' values"
            )
        where = (lambda i: f"line {lines[i]}") if lines else (lambda i: f"point {i + 1}")
        for name, values in (("frequency", f), ("Z'", zr), ("Z''", zi)):
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise SpectrumValueError(
                    f"{source}: {where(bad[0])} has {name} = {values[bad[0]]} "
                    f"({bad.size} non-finite value(s) in total); remove or re-measure those points"
                )
        if f.size < 3:
            raise SpectrumValueError(f"{source}: {f.size} point(s); a spectrum needs at least 3")
        nonpos = np.flatnonzero(f <= 0)
        if nonpos.size:
            raise SpectrumValueError(
                f"{source}: {where(nonpos[0])} has frequency {f[nonpos[0]]} Hz; frequencies must "
                "be positive"
            )
        _, first, counts = np.unique(f, return_index=True, return_counts=True)
        if np.any(counts > 1):
            dup = int(np.flatnonzero(f == f[first[np.argmax(counts > 1)]])[1])
            raise SpectrumValueError(
                f"{source}: {where(dup)} repeats the frequency {f[dup]:g} Hz of an earlier point; "
                "one value per frequency is needed (average repeated sweeps first)"
            )
        step = np.sign(np.diff(f))
        if not (np.all(step > 0) or np.all(step < 0)):
            direction = step[0]
            brk = int(np.flatnonzero(step != direction)[0]) + 1
            raise SpectrumValueError(
                f"{source}: frequencies are not monotonic: {where(brk)} ({f[brk]:g} Hz) breaks "
                f"the {'rising' if direction > 0 else 'falling'} sweep after {f[brk - 1]:g} Hz; "
                "a file must hold one sweep (split multi-sweep files)"
            )
        order = np.argsort(f)
        return cls(f[order], zr[order], zi[order], source=source, notes=list(notes or []))


def _split(line: str, delimiter: str | None) -> list[str]:
    parts = line.split(delimiter) if delimiter else line.split()
    return [p.strip() for p in parts]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_mpt(path: Path) -> Spectrum:
    from impedance.preprocessing import readBioLogic

    try:
        f, z = readBioLogic(str(path))
    except (AssertionError, ValueError, IndexError) as exc:
        raise SpectrumReadError(
            f"{path}: not a readable BioLogic EC-Lab .mpt impedance file "
            f"(impedance.py's reader: {exc or type(exc).__name__}); export the PEIS data with "
            "the freq/Hz, Re(Z)/Ohm and -Im(Z)/Ohm columns"
        ) from None
    notes = [
        "BioLogic .mpt read with impedance.readBioLogic: columns freq/Hz, Re(Z)/Ohm, "
        "-Im(Z)/Ohm (stored negated, as Im Z)"
    ]
    return _with_sign(path, f, z.real, z.imag, "-Im(Z)/Ohm (as Im Z)", False, notes, None)


def _with_sign(path, f, zr, zi_column, column_name, header_negated, notes, lines) -> Spectrum:
    """Decide the sign of the imaginary column from the data and state it."""
    zi_column = np.asarray(zi_column, dtype=float)
    finite = zi_column[np.isfinite(zi_column)]
    n_pos, n_neg = int(np.sum(finite > 0)), int(np.sum(finite < 0))
    # A pellet between blocking electrodes is capacitive at every frequency (Im Z < 0); a few
    # inductive points at the highest frequencies (cables) do not change the majority.
    if n_pos > n_neg:
        negate = True
    elif n_neg > n_pos:
        negate = False
    else:
        negate = header_negated
    share = max(n_pos, n_neg) / max(finite.size, 1)
    sign_word = "positive" if negate else "negative"
    statement = (
        f"sign convention: column {column_name!r} holds {share:.0%} {sign_word} values; "
        + ("read as -Z'' (Im Z = -value)" if negate else "read as Z'' = Im Z")
        + " so that the capacitive arcs have Im Z < 0"
    )
    if negate != header_negated and column_name and not column_name.endswith("(as Im Z)"):
        if header_negated or any(c in column_name for c in ("'", '"', "im", "Im", "IM")):
            statement += (
                f"; the header {'says' if header_negated else 'does not say'} -Z'', "
                "the values decide"
            )
    notes = list(notes) + [statement]
    zi = -zi_column if negate else zi_column
    return Spectrum.from_arrays(f, zr, zi, source=str(path), notes=notes, lines=lines)


def read_spectrum(path: str | Path) -> Spectrum:
    """Read one impedance spectrum from a text table or a BioLogic ``.mpt`` file.

    Parameters
    ----------
    path
        CSV (comma or semicolon), tab- or whitespace-separated file; ``#``/``%``/``!`` lines are
        comments. With a header, columns are found by name in any order; without one, exactly
        three columns f, Z', Z'' are expected.

    Returns
    -------
    Spectrum
        Frequencies ascending, Z'' = Im Z; ``notes`` state the columns, units and sign.

    Raises
    ------
    SpectrumReadError
        Missing file, a folder, empty file, unrecognised or ambiguous columns, text in numeric
        fields, rows with the wrong number of fields.
    SpectrumValueError
        As :meth:`Spectrum.from_arrays`.
    """
    path = Path(path)
    if path.is_dir():
        raise SpectrumReadError(f"{path} is a folder; give a spectrum file")
    if not path.is_file():
        raise SpectrumReadError(f"spectrum file {path} does not exist")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpectrumReadError(f"cannot read {path}: {exc.strerror}") from None
    text = raw.decode("utf-8-sig", errors="replace")
    if path.suffix.lower() == ".mpt" and text.lstrip().upper().startswith("EC-LAB ASCII FILE"):
        return _read_mpt(path)
    lines = [
        (i + 1, ln.strip())
        for i, ln in enumerate(text.splitlines())
        if ln.strip() and not ln.lstrip().startswith(("#", "%", "!", "//"))
    ]
    if not lines:
        raise SpectrumReadError(f"{path} is empty (no data lines)")
    first = lines[0][1]
    delimiter = next((d for d in ("\t", ";", ",") if d in first), None)
    head = _split(first, delimiter)
    if all(_is_number(h) for h in head):
        if len(head) != 3:
            raise SpectrumReadError(
                f"{path} has no header and {len(head)} columns; without a header exactly three "
                "columns (frequency in Hz, Z' and Z'' in Ohm) are read. Add a header such as "
                "'freq,Z_real,Z_imag'"
            )
        columns = {"frequency": (0, 1.0, False), "real": (1, 1.0, False), "imag": (2, 1.0, False)}
        names = ["f (no header)", "Z' (no header)", "Z'' (no header)"]
        body = lines
        notes = ["no header: columns read as frequency (Hz), Z' (Ohm), Z'' (Ohm)"]
    else:
        columns, names = {}, head
        for j, name in enumerate(head):
            role, scale, negated = recognise_column(name)
            if role is None:
                continue
            if role in columns:
                raise SpectrumReadError(
                    f"{path}: columns {head[columns[role][0]]!r} and {name!r} both look like "
                    f"the {role} column; keep one"
                )
            columns[role] = (j, scale, negated)
        missing = [r for r in ("frequency", "real", "imag") if r not in columns]
        if missing:
            raise SpectrumReadError(
                f"{path}: no {' / '.join(missing)} column among {head}; recognised names are "
                "freq, frequency_Hz, f/Hz; Z_real, Zre, Re(Z)/Ohm, Z'; Z_imag, Zim, "
                "-Im(Z)/Ohm, -Z''"
            )
        body = lines[1:]
        notes = [
            "columns: "
            + ", ".join(
                f"{role} = {head[j]!r}" + (f" (x{scale:g})" if scale != 1.0 else "")
                for role, (j, scale, _) in columns.items()
            )
        ]
    if not body:
        raise SpectrumReadError(f"{path} has a header but no data rows")
    width = len(head)
    values = np.empty((len(body), 3))
    line_numbers = []
    for k, (number, line) in enumerate(body):
        fields = _split(line, delimiter)
        if len(fields) != width:
            raise SpectrumReadError(
                f"{path}: line {number} has {len(fields)} field(s), the header has {width}"
            )
        for c, role in enumerate(("frequency", "real", "imag")):
            j, scale, _ = columns[role]
            try:
                values[k, c] = float(fields[j]) * scale
            except ValueError:
                raise SpectrumReadError(
                    f"{path}: line {number}: {names[j]} value {fields[j]!r} is not a number"
                ) from None
        line_numbers.append(number)
    imag_name = names[columns["imag"][0]]
    return _with_sign(
        path, values[:, 0], values[:, 1], values[:, 2], imag_name, columns["imag"][2], notes,
        line_numbers,
    )
