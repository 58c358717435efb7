"""The output-path helpers, the enumeration size estimate, rounded cache keys and the
tolerant record comparison."""

from __future__ import annotations

import json
import os

import pytest

from nasicon_workflows.fileio import (
    OutputPathError,
    resolve_output_dir,
    resolve_output_file,
    staged_output_dir,
    write_output_text,
)


def test_resolve_output_dir_without_creating(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = resolve_output_dir("a/b", create=False)
    assert folder == tmp_path / "a" / "b" and folder.is_absolute()
    assert not (tmp_path / "a").exists()  # checked, nothing left behind
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        resolve_output_dir("f/sub", create=False)
    with pytest.raises(OutputPathError, match="a file stands where a folder should be"):
        resolve_output_dir("f", create=False)
    with pytest.raises(OutputPathError, match="permission denied"):
        resolve_output_dir("/sys/kernel/x", create=False)  # read-only for root too
    with pytest.raises(OutputPathError):
        resolve_output_dir("/dev/full", create=False)


def test_resolve_output_file(tmp_path):
    assert resolve_output_file(tmp_path / "new" / "x.csv") == tmp_path / "new" / "x.csv"
    assert not (tmp_path / "new").exists()
    with pytest.raises(OutputPathError, match="it is a folder"):
        resolve_output_file(tmp_path)
    with pytest.raises(OutputPathError, match="permission denied"):
        resolve_output_file("/sys/kernel/x.csv")


def test_write_output_text_to_a_full_device_and_a_file(tmp_path):
    with pytest.raises(OutputPathError, match="no space left on the device"):
        write_output_text("/dev/full", "a,b\n1,2\n")
    path = write_output_text(tmp_path / "x.csv", "a,b\n")
    assert path.read_text() == "a,b\n"
    write_output_text("/dev/null", "ignored")


def test_staged_output_dir_all_or_nothing(tmp_path):
    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError, match="half-way"):
        with staged_output_dir(out) as stage:
            (stage / "a.txt").write_text("a")
            raise RuntimeError("half-way")
    assert not (tmp_path / "new").exists()  # the folders it made are gone again
    with staged_output_dir(out) as stage:
        (stage / "a.txt").write_text("a")
        (stage / "sub").mkdir()
        (stage / "sub" / "b.txt").write_text("b")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == \
        ["a.txt", "sub/b.txt"]
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_enumeration_estimate_is_exact_before_the_na_filter():
    """With an Na window that admits everything the count estimate equals the enumeration."""
    from nasicon_workflows.cli.enumeration_options import EnumerationOptions
    from nasicon_workflows.enumeration import count_candidates

    for kwargs in (
        dict(pool=["Zr", "Hf", "Ti", "Sn"], n_cations=(2, 3), step=0.25, min_entropy_R=0.0),
        dict(pool=["Zr", "Hf", "Ti", "Sn", "Ge"], n_cations=(2, 4), step=0.2, min_entropy_R=1.0),
        dict(pool=["Zr", "Hf", "Ti", "Sn", "Ge"], n_cations=(1, 3), step=0.5, require=["Ti"],
             min_entropy_R=0.0),
    ):
        # all tetravalent: Na = 3 - (3 - si)... fixed by si=2 -> Na = 3 for every row
        options = EnumerationOptions(**kwargs)
        estimate = options.check()
        assert estimate.n_compositions_max == count_candidates(options.enumeration_rules())
    # with mixed valences the Na filter removes rows: the estimate is an upper bound
    options = EnumerationOptions(pool=["Zr", "Sc", "Mg", "Ta"], step=0.25, min_entropy_R=0.0)
    assert options.check().n_compositions_max > count_candidates(options.enumeration_rules())


def test_enumeration_guard_names_count_memory_and_flags():
    from nasicon_workflows.cli.enumeration_options import EnumerationOptions, EnumerationSizeError

    with pytest.raises(EnumerationSizeError) as err:
        # a cell that realises the 1e-5 grid exactly, so the size guard (not the grid rule) stops it
        EnumerationOptions(pool=["Zr", "Sc", "Y", "Mg", "Ti"], step=1e-5,
                           extra={"cell_formula_units": 100000}).check()
    text = str(err.value)
    for part in ("6.67e+19 compositions", "--max-candidates", "TB of memory",
                 "--max-enumeration-memory-mb"):
        assert part in text, text
    # the bound can be raised on purpose
    small = EnumerationOptions(pool=["Zr", "Sc"], step=0.01, min_entropy_R=0.0)
    with pytest.raises(EnumerationSizeError):
        EnumerationOptions(**{**vars(small), "max_candidates": 10}).check()
    assert small.check().n_compositions_max == 199  # C(199, 1) two-cation partitions


def test_cache_keys_round_floats():
    import numpy as np
    from pymatgen.core import Lattice, Structure

    from nasicon_workflows.screen.cache import settings_key

    # the two machines
    assert settings_key([15.709700824649717, 9.069999999999999, 9.207443245065976]) == \
        settings_key([15.709700824649726, 9.07, 9.20744324506598])
    assert settings_key(np.array([0.1 + 0.2, -0.0])) == settings_key([0.3, 0.0])
    assert settings_key({"fmax": 0.1}) != settings_key({"fmax": 0.1001})
    a = Structure(Lattice.cubic(5.0), ["Na"], [[0.1, 0.2, 0.3]])
    b = Structure(Lattice.cubic(5.0 + 1e-13), ["Na"], [[0.1 + 1e-15, 0.2, 0.3]])
    assert settings_key("relax", a.as_dict()) == settings_key("relax", b.as_dict())
    assert settings_key(float("nan")) == settings_key(float("nan"))


def test_records_close_tolerates_last_bits_only():
    from nasicon_workflows.testing import assert_records_close, records_close_problems

    shipped = json.loads('{"lattice_abc_A": [15.709700824649726, 9.07, 9.20744324506598], '
                         '"label": "NZSP", "n": 84, "ok": true}')
    fresh = {"lattice_abc_A": [15.709700824649717, 9.069999999999999, 9.207443245065976],
             "label": "NZSP", "n": 84, "ok": True}
    assert_records_close(fresh, shipped)
    assert records_close_problems({**fresh, "n": 85}, shipped) == ["$.n: 85 != 84"]
    assert records_close_problems({**fresh, "lattice_abc_A": [15.7098, 9.07, 9.2074]}, shipped)
    assert records_close_problems({**fresh, "ok": 1}, shipped)
    assert records_close_problems({**fresh, "extra": 1}, shipped)
    with pytest.raises(AssertionError, match="label"):
        assert_records_close({**fresh, "label": "LE-NZSP"}, shipped)
