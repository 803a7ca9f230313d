"""Lund-plane reweighting: measure the ratio into a Run, export it as correctionlib JSON."""

from __future__ import annotations

from pathlib import Path

from anomalyscope.core.errors import InputError


def add_commands(sub) -> None:
    lp = sub.add_parser("lund", help="Lund-plane reweighting: measure the ratio in a control sample, add it to a Run")
    lp.add_argument("--run", type=Path, required=True, help="the Run whose signal events are reweighted")
    lp.add_argument("--data", type=Path, required=True, help="control sample: data (or pseudo-data) EventSet")
    lp.add_argument("--sim", type=Path, required=True, help="control sample: simulation EventSet")
    lp.add_argument("--sim-alt", type=Path, help="control sample: alternative simulation (modelling systematic)")
    lp.add_argument("--n-prongs", type=int, default=2, help="prongs of the control jets (2: W-like, 3: top-like)")
    lp.add_argument("--msd-min", type=float, default=None, help="control jets: soft-drop mass window [GeV]")
    lp.add_argument("--msd-max", type=float, default=None)
    lp.add_argument(
        "--signal-prongs", type=int, default=None, help="prongs of signal jets (default: generator quarks in the jet)"
    )
    lp.add_argument("--toys", type=int, default=100, help="statistical toys")
    lp.set_defaults(func=_cmd_lund)

    el = sub.add_parser("export-lund", help="write a Run's Lund-plane ratio as a correctionlib JSON (CMS corrections)")
    el.add_argument("run", type=Path)
    el.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    el.set_defaults(func=_cmd_export_lund)


def _cmd_lund(a) -> int:
    from anomalyscope.core.data import EventSet
    from anomalyscope.core.lund.control import ControlSelection
    from anomalyscope.core.lund.report import LundResult, add_to_run

    control = ControlSelection(n_prongs=a.n_prongs, msd_min=a.msd_min, msd_max=a.msd_max)
    out = add_to_run(
        a.run,
        EventSet.open(a.data),
        EventSet.open(a.sim),
        EventSet.open(a.sim_alt) if a.sim_alt else None,
        control=control,
        signal_prongs=a.signal_prongs,
        n_toys=a.toys,
    )

    closure = LundResult(out).closure
    print(f"Lund-plane reweighting written to {out}")
    print("closure on independent halves (chi2/ndf before -> after):")
    for o in closure.observables.values():
        (c0, n0), (c1, n1) = o.chi2_ndf_before, o.chi2_ndf_after
        print(f"  {o.label:12s} {c0:7.1f}/{n0} -> {c1:7.1f}/{n1}")
    for name, c in closure.cuts.items():
        print(
            f"  {name:20s} data {c.data:.3f}  sim {c.uncorrected:.3f}  corrected {c.corrected:.3f} "
            f"± {c.total:.3f}  (non-closure {c.non_closure_in_sigma:+.1f} sigma)"
        )
    return 0


def _cmd_export_lund(a) -> int:
    from anomalyscope.core.lund.correction import NAME, write_correction
    from anomalyscope.core.lund.ratio import LundRatio
    from anomalyscope.core.lund.report import LUND_DIR

    ratio_file = Path(a.run) / LUND_DIR / "ratio.json"
    if not ratio_file.exists():
        raise InputError(f"{a.run}: no Lund reweighting in this Run (make one with `anomalyscope lund`)")
    path = write_correction(LundRatio.load(ratio_file), a.out, description=f"Measured for the Run {Path(a.run).name}.")
    print(f"wrote {path}: correction '{NAME}' (correctionlib schema 2)")
    print("  evaluate(systematic, subjet_pt, ln_r_delta, ln_kt) per splitting; a jet's weight is the product")
    return 0
