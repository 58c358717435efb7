"""``nasicon-workflows bvse``: Na+ BVSE migration barriers, pathways and maps of a structure."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bvse`` subcommand."""
    parser = subparsers.add_parser(
        "bvse",
        help="bond-valence site-energy barriers (E_1D/E_2D/E_3D), Na-site pathways and maps",
        description=(
            "softBV bond-valence site energy of the mobile ion on a grid, exact periodic "
            "percolation barriers, site energies and the pathway network. Ordered structures only, "
            "unless --ensemble K orders a disordered cell K ways (structures stage) and reports "
            "mean and spread of each barrier."
        ),
    )
    parser.add_argument("structure", metavar="CIF", help="structure file (CIF, POSCAR, ...)")
    parser.add_argument("--ion", default="Na", help="mobile ion (default Na; Li, K, ...)")
    parser.add_argument("--resolution", type=float, default=0.1, help="grid spacing in Å (0.1)")
    parser.add_argument("--cutoff", type=float, default=10.0, help="interaction cutoff in Å (10)")
    parser.add_argument("--screening", type=float, default=0.75,
                        help="Coulomb screening factor (softBV 0.75; bvlain 0.74)")
    parser.add_argument("--covalent-radii", choices=("softbv", "ase"), default="softbv")
    parser.add_argument("--ensemble", type=int, metavar="K", default=None,
                        help="order a disordered structure K ways and report mean ± std")
    parser.add_argument("--max-memory-mb", type=float, default=1024.0)
    parser.add_argument("--json", action="store_true", help="print the document as JSON")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="write .cube, .grd and section PNGs into DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyse one structure (or K orderings of it) and print or write the results."""
    import contextlib

    from nasicon_workflows.bvse import analyse_landscape, compute_landscape, ensemble_document
    from nasicon_workflows.bvse.errors import StructureReadError
    from nasicon_workflows.bvse.jobs import ordered_configurations, write_maps
    from nasicon_workflows.cli._checks import check_finite
    from nasicon_workflows.cli._structure_file import read_structure_file
    from nasicon_workflows.fileio import resolve_output_dir, staged_output_dir

    check_finite("--resolution", args.resolution, positive=True)
    check_finite("--cutoff", args.cutoff, positive=True)
    check_finite("--screening", args.screening, positive=True)
    check_finite("--max-memory-mb", args.max_memory_mb, positive=True)
    # checked now, before computing; the maps are staged and appear together at the end
    out = resolve_output_dir(args.out, create=False) if args.out else None
    structure = read_structure_file(args.structure, StructureReadError)
    structures = (
        ordered_configurations(structure, args.ensemble) if args.ensemble is not None
        else [structure]
    )
    documents = []
    staged = staged_output_dir(out) if out else contextlib.nullcontext(None)
    with staged as stage:
        _compute(args, structures, documents, stage, write_maps, compute_landscape,
                 analyse_landscape)
    return _report(args, structure, documents, ensemble_document)


def _compute(args, structures, documents, stage, write_maps, compute_landscape,
             analyse_landscape) -> None:
    for i, s in enumerate(structures):
        landscape = compute_landscape(
            s, ion=args.ion, resolution=args.resolution, cutoff=args.cutoff,
            screening=args.screening, covalent_radii=args.covalent_radii,
            max_memory_mb=args.max_memory_mb,
        )
        document = analyse_landscape(landscape)
        documents.append(document)
        if stage is not None:
            stem = "bvse" if args.ensemble is None else f"bvse_config{i}"
            write_maps(landscape, document, stage, stem)


def _report(args, structure, documents, ensemble_document) -> int:
    if args.ensemble is not None:
        result = ensemble_document(documents, structure.composition.reduced_formula)
        if args.json:
            print_json(result)
            return 0
        print_table(
            [{"barrier": name, **getattr(result, name).model_dump(exclude={"values_eV"})}
             for name in ("E_1D", "E_2D", "E_3D")],
            ["barrier", "mean_eV", "std_eV", "min_eV", "max_eV", "n_percolating"],
            title=f"{result.formula}: {args.ion}+ BVSE barriers over {result.n_configurations} "
                  "orderings (std with ddof=1)",
            formats={k: ".3f" for k in ("mean_eV", "std_eV", "min_eV", "max_eV")},
        )
        return 0
    document = documents[0]
    if args.json:
        print_json(document)
        return 0
    print_table([{"barrier": k, "energy_eV": v} for k, v in document.barriers.items()],
                ["barrier", "energy_eV"],
                title=f"{document.formula}: {args.ion}+ percolation barriers "
                      f"(grid {'x'.join(map(str, document.grid_shape))}, f={args.screening})",
                formats={"energy_eV": ".3f"})
    print_table([p.model_dump() for p in document.pathways],
                ["label_a", "label_b", "saddle_energy_eV", "site_a", "site_b"],
                title="lowest saddle between site labels (eV above the global minimum)",
                formats={"saddle_energy_eV": ".3f"})
    print_table([{"dimension": f"{n.dimension}D", "energy_eV": n.energy_eV,
                  "labels": "-".join(n.labels), "n_sites": len(n.site_indices)}
                 for n in document.networks],
                ["dimension", "energy_eV", "labels", "n_sites"],
                title="percolating networks of sites", formats={"energy_eV": ".3f"})
    return 0
