"""`plot RUN` writes every publication plot a Run allows, each a valid, non-empty PDF and PNG of the size asked."""

from __future__ import annotations

import json
import shutil

import numpy as np
from PIL import Image

from anomalyscope.core.cli import main
from anomalyscope.core.lund.ratio import LundBinning, LundCounts, LundRatio
from anomalyscope.core.plots import DPI, luminosity_fb, plot_run
from anomalyscope.core.results import Run
from tests.conftest import injection_scan_content

SIZES = {  # inches, as the plots are drawn
    "spectrum_inclusive": (10, 12),
    "performance": (16, 7.5),
    "sensitivity": (10, 8),
    "trigger_axol1tl": (16, 7.5),
}


def _full_run(small_run, trigger_dir, tmp_path) -> Run:
    """The small Run with every attachment a plot reads: a trigger report, a Lund ratio, an injection scan."""
    scan_dir = tmp_path / "scan"
    run_dir = scan_dir / "run-40-0"
    shutil.copytree(small_run.path, run_dir)
    shutil.copytree(trigger_dir, run_dir / "trigger")
    b = LundBinning()
    rng = np.random.default_rng(1)
    counts = [LundCounts(rng.poisson(40, b.shape).astype(float), np.full(b.shape[0], 2000.0)) for _ in range(2)]
    (run_dir / "lund").mkdir()
    LundRatio(b, *counts).save(run_dir / "lund" / "ratio.json")
    (scan_dir / "injection_scan.json").write_text(json.dumps(injection_scan_content()))
    return Run.open(run_dir)


def test_every_plot_is_a_valid_pdf_and_png_of_the_expected_size(small_run, trigger_dir, trigger_report, tmp_path):
    run = _full_run(small_run, trigger_dir, tmp_path)
    written = plot_run(run, tmp_path / "plots")
    stems = {p.stem for p in written}
    expected = {f"spectrum_{m}" for m in run.methods} | {"performance", "correlations", "sensitivity", "lund_ratio"}
    assert expected | {f"trigger_{m}" for m in trigger_report.models} == stems
    for p in written:
        data = p.read_bytes()
        assert len(data) > 5000, p
        if p.suffix == ".pdf":
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF"), p
        else:
            with Image.open(p) as im:
                im.verify()
            with Image.open(p) as im:
                assert im.format == "PNG" and len(set(im.convert("L").getdata())) > 10, p  # not a blank page
                if p.stem in SIZES:
                    w, h = SIZES[p.stem]
                    assert im.size == (round(w * DPI), round(h * DPI)), (p, im.size)


def test_the_luminosity_label_comes_from_the_eventset(small_run):
    from anomalyscope.core.data import EventSet

    es = EventSet.open(small_run.input_path("eventset"))
    qcd = es.schema["processes"]["qcd"]
    assert luminosity_fb(es) == qcd["luminosity_pb-1"] / 1000.0  # the background's generated events / σ


def test_plot_command(small_run, tmp_path, capsys):
    assert main(["plot", str(small_run.path), "--out", str(tmp_path / "p"), "--method", "inclusive"]) == 0
    out = capsys.readouterr().out
    assert "spectrum_inclusive.pdf, spectrum_inclusive.png" in out and "performance.pdf" in out
    assert not any(p.name.startswith("spectrum_cut") for p in (tmp_path / "p").iterdir())
    assert main(["plot", str(small_run.path), "--out", str(tmp_path / "q"), "--method", "cwola"]) == 2
    assert "no method 'cwola'" in capsys.readouterr().err
