"""Discovery sensitivity by injection scan, the way the CMS analysis measured it.

For weakly supervised methods the selection depends on how much signal there is to learn from, so at
each injected amount every draw of the signal gets its own Run: the methods are re-trained, the search
(``core.bumphunt.search``) selects and fits, and the local significance is read at the signal mass. Per
method and amount, the expected significance is the **median** over ``draws`` independent signal draws
(different events, different training) of the median over bump-hunt toys (``expected_z_at_signal_mass``:
the one background sample's fluctuation averaged out); the observed Z of each Run is kept beside it; the injected amount where the median reaches 3σ and 5σ is
interpolated in √N (Z grows as √N·S/√B at fixed efficiency), with a bootstrap over the draws for its
uncertainty; the ratio to the inclusive search's amount is the improvement factor. No crossing is interpolated
through an amount where a finished draw's fit could not be read at the signal mass (too few events passed a tight
cut): the median of the other draws would be taken over the Runs whose fit worked.

The significance is read, for every method and the inclusive search alike, at the bin centre nearest to the
signal's reconstructed peak (the median m_jj of the signal sample in the analysis region: jets lose energy, a
3.5 TeV W' peaks near 3.4 TeV), in the window(s) whose signal region holds it (both binnings: the larger of
the two). The inclusive search is not read on its thinned scan grid (that cost it up to 1.5× the events).
``train_windows_at`` restricts the training of windowed methods to those windows (the rest of the
spectrum is searched the same way, only not scanned there): the scan then costs a few windows per Run.

    python -m anomalyscope injection-scan --config scan.yaml

scan.yaml: background, signal (EventSets), run (a run config without eventset/out), injections (signal
events), draws (default 5), toys (bump-hunt toys per Run, default 100), efficiency (the cut, ε < 1), mass (GeV), out (directory for the Runs);
optional luminosity_fb (of the background sample) and signal_efficiency (of the signal sample's
selection), which give the amounts as σ × B as well; keep_data (default false: each injected dataset
is removed once its Run is written, the Run keeps the scores); workers (default 1: Runs trained at once, each
in its own process on one thread). Finished Runs are reused: an interrupted scan resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from anomalyscope.core.bumphunt.search import INCLUSIVE
from anomalyscope.core.data import EventSet, inject
from anomalyscope.core.data.atomic import read_progress, write_json_atomic
from anomalyscope.core.data.jobs import is_done, run_chunks, stats_file
from anomalyscope.core.data.versioned import read_yaml_mapping
from anomalyscope.core.errors import FieldError, InputError
from anomalyscope.core.params import REQUIRED, build, param
from anomalyscope.core.results.attachments import ATTACHMENTS
from anomalyscope.core.results.attachments import write as write_attachment
from anomalyscope.core.results.records.injection_scan import THRESHOLDS, InjectionScan, Sensitivity

N_BOOTSTRAP = 200


@dataclass(frozen=True)
class ScanConfig:
    """What ``scan.yaml`` holds (module text); built and checked by ``params.build``."""

    background: str
    signal: str
    run: dict  # a run config without eventset and out
    injections: tuple[int, ...]
    efficiency: float = param(REQUIRED, low=0, high=1, low_open=True, high_open=True)
    mass: float = param(REQUIRED, low=0, low_open=True)
    out: str = param(REQUIRED)
    draws: int = param(5, low=1)
    toys: int = param(100, low=1)
    seed: int = 1
    luminosity_fb: float | None = param(None, low=0, low_open=True)
    signal_efficiency: float | None = param(None, low=0, high=1, low_open=True)
    keep_data: bool = False
    workers: int = param(1, low=1)  # Runs trained at once, one process each (one thread per process)

    def __post_init__(self):
        if not self.injections or min(self.injections) < 0:
            raise FieldError("injections must be signal-event counts ≥ 0", None, "injections", list(self.injections))


def crossing(n: np.ndarray, z: np.ndarray, target: float) -> float | None:
    """Injected amount where Z first reaches ``target``, interpolating linearly in √N (Z ∝ √N·...)."""
    n, z = np.asarray(n, dtype=float), np.asarray(z, dtype=float)
    order = np.argsort(n)
    n, z = n[order], z[order]
    for i in range(1, len(n)):
        if np.isfinite(z[i - 1]) and np.isfinite(z[i]) and z[i - 1] < target <= z[i]:
            r0, r1 = np.sqrt(n[i - 1]), np.sqrt(n[i])
            r = r0 + (target - z[i - 1]) * (r1 - r0) / (z[i] - z[i - 1])
            return float(r**2)
    return None


def reading_mass(search, mass: float) -> float:
    """Where every method's Z is read: the inner bin centre of the fit range nearest to the signal's peak. One
    mass for all (the inclusive search too, whose stored scan is thinned to ``scan_points``: read there, a peak
    between its grid points cost it up to 1.5× the events and biased every improvement factor up)."""
    spec = search.spectrum(np.array([search.fit_min]))
    c = spec.centers
    inner = c[(c > spec.edges[1]) & (c < spec.edges[-2])]
    return float(inner[int(np.argmin(np.abs(inner - mass)))]) if len(inner) else float(mass)


def _windows_reading(search, method: str, mass: float) -> list:
    """The windows a method's Z is read in, the same rule for every method: each window whose signal region
    holds the reading mass (the larger Z over them is taken); the inclusive search has its one spectrum."""
    if method == INCLUSIVE:
        return [None]
    return [w for w in search.windows if w.sr[0] <= mass < w.sr[1]]


def z_at_signal_mass(search, table, result, method: str, eff: float, mass: float) -> float:
    """The local Z a Run's search found at the signal for one method and cut (``search``, ``table`` and ``result``:
    the Run's ``search()``, ``table()`` and ``search_result()``, read once by the caller), at ``reading_mass`` (the
    larger over the windows holding it); the inclusive search's at exactly that mass."""
    m = reading_mass(search, mass)
    if method == INCLUSIVE:
        return float(search.inclusive_z_at(table, m))
    best = np.nan
    names = {w.name for w in _windows_reading(search, method, m)}
    for s in result.scans if result is not None else []:
        if s.method != method or abs(s.eff - eff) > 1e-12 or s.window not in names:
            continue
        masses, z = np.asarray(s.masses or [], dtype=float), np.asarray(s.z or [], dtype=float)
        hit = np.flatnonzero(np.isclose(masses, m))
        if len(hit) and np.isfinite(z[hit[0]]):
            best = z[hit[0]] if not np.isfinite(best) else max(best, z[hit[0]])
    return float(best)


def expected_z_at_signal_mass(search, table, truth: np.ndarray, method: str, eff: float, mass: float, n_toys: int,
                              seed: int):  # fmt: skip
    """Median local Z at the signal over bump-hunt toys: the selected background's smooth fit,
    Poisson-fluctuated, plus the signal events this draw's selection kept. The one background sample's
    own fluctuation (which the observed Z carries) averages out; the signal's, and the training's, vary
    from draw to draw. Read at ``reading_mass``, the larger over ``_windows_reading`` (the same for every
    method)."""
    from anomalyscope.core.bumphunt.fastfit import signed_z
    from anomalyscope.core.bumphunt.fit import FitError, fit_background

    m = reading_mass(search, mass)
    rng = np.random.default_rng(seed)
    best = np.nan
    for w in _windows_reading(search, method, m):
        sel = search.selected(table, method, eff if method != INCLUSIVE else 1.0, w)
        spec_b = search.spectrum(table.mjj[sel & (truth == 0)])
        spec_s = search.spectrum(table.mjj[sel & (truth == 1)])
        try:  # the function the F-test chose on the selected data (signal included), fitted to its background
            order = search.fit(search.spectrum(table.mjj[sel])).chosen.order
            fit = fit_background(spec_b, order)
        except FitError:
            continue
        toys = rng.poisson(fit.expected, (n_toys, len(fit.expected))) + spec_s.counts
        tpl = search.definition.signal.templates([m], spec_b.edges)
        z = float(np.nanmedian(signed_z(toys, fit, tpl)[:, 0]))
        best = z if not np.isfinite(best) else max(best, z)
    return best


def _scan_config(cfg: dict | ScanConfig, n_signal: int | None = None) -> ScanConfig:
    """``scan.yaml`` checked, every field named in its error; with ``n_signal`` (the signal events available)
    also that no injected amount needs more."""
    c = cfg if isinstance(cfg, ScanConfig) else build(ScanConfig, cfg, "injection scan", "field")
    if n_signal is not None and max(c.injections) > n_signal:
        raise FieldError(
            f"injection scan: injections must lie in 0..{n_signal} (signal events available)",
            "injection scan",
            "injections",
            list(c.injections),
        )
    return c


def reconstructed_peak(sig: EventSet, deta_max: float, default: float) -> float:
    """The signal's median m_jj in the analysis region (|Δη| < deta_max): where its excess is read."""
    in_region = sig.column("deta") < deta_max
    return float(np.median(sig.column("mjj")[in_region])) if in_region.any() else default


def run_injection_scan(
    cfg: dict | ScanConfig,
    base: Path = Path("."),
    progress: bool = True,
    train: bool = True,
) -> InjectionScan:
    """The scan (module text). ``train=False``: summarise the points finished so far and train nothing (what a
    scan stopped part-way supports: the medians over the draws each amount has; the others are NaN). The result
    holds the scan read at each other efficiency its Runs searched too (``InjectionScan.at``)."""
    from anomalyscope.core.methods.runner import RunConfig

    c = _scan_config(cfg)
    path = lambda p: Path(p).expanduser() if Path(p).expanduser().is_absolute() else base / p  # noqa: E731
    bkg, sig = EventSet.open(path(c.background)), EventSet.open(path(c.signal))
    _scan_config(c, len(sig))
    injections, draws, eff, mass = sorted(set(c.injections)), c.draws, c.efficiency, c.mass
    from anomalyscope.core.bumphunt.search import SearchDefinition

    deta_max = SearchDefinition.from_dict(c.run.get("search"), "injection scan: run: search").deta_max
    peak = reconstructed_peak(sig, deta_max, default=mass)
    out = path(c.out)
    out.mkdir(parents=True, exist_ok=True)
    run_cfg = dict(c.run)
    search_cfg = dict(run_cfg.get("search") or {})
    search_cfg["efficiencies"] = sorted({eff, *search_cfg.get("efficiencies", [])})
    run_cfg["search"] = search_cfg
    # every method and parameter checked before the first injection trains anything
    RunConfig.from_dict({**run_cfg, "eventset": str(bkg.path), "out": str(out / "run")}, "injection scan: run")
    points = [
        _Point(
            tag=f"{n}-{d}",
            n=n,
            draw=d,
            background=str(bkg.path),
            signal=str(sig.path),
            run=run_cfg,
            out=str(out),
            seed=c.seed,
            efficiency=eff,
            peak=peak,
            toys=c.toys,
            keep_data=c.keep_data,
        )
        for d in range(draws)  # draw by draw: a stopped scan has every amount at the draws it finished
        for n in injections
    ]
    for key, point in read_progress(out / "points.json").items():  # a scan stopped before points had files
        if not stats_file(out, key).exists():
            write_json_atomic(stats_file(out, key), point)
    if train:
        run_chunks(_scan_point, points, out, scheduler="local" if c.workers > 1 else None, workers=c.workers,
                   desc="injection scan", unit="Run", progress=progress)  # fmt: skip
    done = {p.tag: json.loads(stats_file(out, p.tag).read_text()) for p in points if is_done(out, p)}
    _fill_efficiencies(points, done, out, len(bkg), len(sig))
    same = json.dumps(done, sort_keys=True) == json.dumps(read_progress(out / "points.json"), sort_keys=True)
    if not same:  # every Z of the scan in one file (untouched when nothing new: NaN compares equal as text)
        write_json_atomic(out / "points.json", done)

    finished = np.zeros((len(injections), draws), dtype=bool)  # the Runs done, whatever the cut read
    for p in points:
        finished[injections.index(p.n), p.draw] = p.tag in done

    def reading(e: float) -> InjectionScan:
        z_obs: dict[str, np.ndarray] = {}
        z_exp: dict[str, np.ndarray] = {}
        for p in points:
            for m, zz in done.get(p.tag, {}).items():
                i = injections.index(p.n)
                zz = zz if e == eff else zz.get("by_efficiency", {}).get(str(e), {})
                z_obs.setdefault(m, np.full((len(injections), draws), np.nan))[i, p.draw] = zz.get("observed", np.nan)
                z_exp.setdefault(m, np.full((len(injections), draws), np.nan))[i, p.draw] = zz.get("expected", np.nan)
        return _summarise(c, injections, peak, z_exp, z_obs, e, finished)

    others = {str(float(e)): reading(e) for e in search_cfg["efficiencies"] if e != eff}
    result = replace(reading(eff), other_efficiencies=others or None)
    return write_attachment(out / ATTACHMENTS["injection_scan"].path, "injection_scan", result)


def sample_digest(es: EventSet) -> str:
    """What identifies a sample across machines: its events' ids, m_jj and Δη (regenerated with the same command
    and seed, a sample has the same digest)."""
    h = hashlib.sha256()
    for name in ("event_id", "mjj", "deta"):
        h.update(np.ascontiguousarray(es.column(name)).tobytes())
    return h.hexdigest()[:16]


def seed_points(kept: Path, out: Path, digests: dict, scan: dict) -> int:
    """Carry a scan to another machine: put the points finished elsewhere (``points`` of the bench file ``kept``:
    every Run's readings) into the scan directory ``out``, so that they are not retrained. Only when ``kept`` was
    measured on the same samples (``digests``: ``sample_digest`` by name) with the same settings (``scan``: any
    fields, compared as JSON); points already in ``out`` win. Returns how many were added."""
    try:
        old = json.loads(Path(kept).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{kept}: cannot read the scan to resume from: {e}") from None
    if not isinstance(old, dict) or not isinstance(old.get("points"), dict):
        raise FieldError(f"{kept}: no finished points to resume from (written before they were kept)", kept, "points")
    for section, mine in (("digests", digests), ("scan", scan)):
        for key, value in mine.items():
            theirs = (old.get(section) or {}).get(key, FieldError.MISSING)
            if json.dumps(theirs, sort_keys=True) != json.dumps(value, sort_keys=True):
                what = {"digests": "not the same events (regenerate them with the same command and seed)"}
                message = f"{kept}: {section}.{key} is {theirs}, here {value}: {what.get(section, 'another scan')}"
                raise FieldError(message, kept, f"{section}.{key}", theirs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    here = read_progress(out / "points.json")
    write_json_atomic(out / "points.json", {**old["points"], **here})
    return len(set(old["points"]) - set(here))


@dataclass(frozen=True)
class _Point:
    """One injected amount and draw of a scan: a chunk of the job engine (``core.data.jobs``), so the points run
    in parallel on ``workers`` processes (one thread each) and a re-run does only those without a stats file."""

    tag: str
    n: int
    draw: int
    background: str
    signal: str
    run: dict
    out: str
    seed: int
    efficiency: float
    peak: float
    toys: int
    keep_data: bool
    size: int = 1

    def where(self) -> str:
        return f"injection scan {self.out}: {self.n} signal events, draw {self.draw}"

    @property
    def injection_seed(self) -> int:
        """The seed of this point's injected dataset (``inject``; ``injected_labels`` reads its labels back)."""
        return self.seed + 1000 * self.n + self.draw


def _scan_point(p: _Point) -> None:
    """Inject, retrain (in the windows holding the signal), search, and read every method's Z at the signal."""
    from anomalyscope.core.methods.runner import RunConfig, execute

    out = Path(p.out)
    n, d = p.n, p.draw
    data_dir, signal_dir = out / f"data-{n}-{d}", out / f"signal-{n}-{d}"
    bkg, sig = EventSet.open(p.background), EventSet.open(p.signal)
    data = inject(bkg, sig, n, data_dir, seed=p.injection_seed, remainder=signal_dir, overwrite=True)
    rc = RunConfig.from_dict(
        {
            **p.run,
            "eventset": str(data.path),
            "signal": str(signal_dir),
            "out": str(out / f"run-{n}-{d}"),
            "seed": p.seed + d,
            "train_windows_at": p.peak,
        },
        "injection scan: run",
    )
    run = execute(rc, overwrite=True, progress=False)
    write_json_atomic(stats_file(out, p.tag), _point_stats(run, data.truth(), p))  # marks the point done
    if not p.keep_data:  # the Run keeps every score; the stats file every Z
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(signal_dir, ignore_errors=True)


def _point_stats(run, truth: np.ndarray, p: _Point) -> dict:
    """Every method's observed and expected Z at the signal: at the scan's efficiency, and under ``by_efficiency``
    at each efficiency the Run searched (so the scan can be read at any of them)."""

    search, table, result = run.search(), run.table(), run.search_result()  # read once for every method and cut

    def at(m, eff):
        return {
            "observed": z_at_signal_mass(search, table, result, m, eff, p.peak),
            "expected": expected_z_at_signal_mass(search, table, truth, m, eff, p.peak, p.toys, p.seed + p.draw),
        }

    effs = sorted(search.definition.efficiencies)
    point = {}
    for m in run.methods:
        by_eff = {str(e): at(m, e) for e in effs}
        own = by_eff[str(p.efficiency)] if str(p.efficiency) in by_eff else at(m, p.efficiency)
        point[m] = {**own, "by_efficiency": by_eff}
    return point


def _fill_efficiencies(points: list, done: dict, out: Path, n_background: int, n_signal: int) -> None:
    """Points finished before the stats held every efficiency: read their Runs again (the injected dataset's labels
    come back from its seed, ``injected_labels``) and add ``by_efficiency`` to their stats."""
    from anomalyscope.core.data.eventset import injected_labels
    from anomalyscope.core.results.run import Run

    for p in points:
        stats = done.get(p.tag)
        run_dir = out / f"run-{p.n}-{p.draw}"
        if (
            stats is None
            or all("by_efficiency" in v for v in stats.values())
            or not (run_dir / "manifest.json").exists()
        ):
            continue
        run = Run.open(run_dir)
        truth = injected_labels(n_background, n_signal, p.n, p.injection_seed)
        if len(truth) != len(run.table().mjj):
            continue  # not the dataset these sizes and seed give: leave it as it is
        done[p.tag] = _point_stats(run, truth, p)
        write_json_atomic(stats_file(out, p.tag), done[p.tag])


def _summarise(c: ScanConfig, injections, peak, z, z_obs, eff: float, finished=None) -> InjectionScan:
    """The scan's record from the Z of every point (amounts × draws; NaN where a Run is not finished or its fit
    could not be read at the signal mass). ``finished``: which Runs are (default: every one)."""
    lumi, sig_eff, draws = c.luminosity_fb, c.signal_efficiency, c.draws
    rng = np.random.default_rng(c.seed)
    finished = np.ones((len(injections), draws), dtype=bool) if finished is None else np.asarray(finished, bool)

    def median_read(v, cols):
        """The median over the draws ``cols`` at each amount; NaN at an amount where a finished draw's fit could
        not be read, so no sensitivity is interpolated through it: the median of the rest would be taken over the
        Runs whose fit worked (at a tight cut, those that kept more events)."""
        sub = v[:, cols]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an amount with no draw read: NaN, as meant
            med = np.nanmedian(sub, axis=1)
        med[(finished[:, cols] & ~np.isfinite(sub)).any(axis=1)] = np.nan
        return med

    def reach(v, t):
        """(events for a median Z of t, bootstrap spread over draws, fraction of bootstrap samples reaching t)."""
        n_t = crossing(injections, median_read(v, np.arange(draws)), t)
        boot = []
        for _ in range(N_BOOTSTRAP):
            got = crossing(injections, median_read(v, rng.integers(0, draws, draws)), t)
            boot.append(np.nan if got is None else got)
        boot = np.asarray(boot)
        return n_t, float(np.nanstd(boot)) if np.isfinite(boot).sum() > 1 else None, float(np.mean(np.isfinite(boot)))

    reached = {m: {t: reach(v, t) for t in THRESHOLDS} for m, v in z.items()}

    def improvement(m, t):  # the inclusive search's events over this method's
        a, b = reached.get(INCLUSIVE, {}).get(t, (None,))[0], reached[m][t][0]
        return a / b if a and b else None

    def xsec(n):  # σ × B [× A without the efficiency], with the scan's luminosity
        return None if n is None or not lumi else n / (float(lumi) * float(sig_eff or 1.0))

    sensitivity = {
        m: Sensitivity(
            n_3sigma=r[3][0],
            n_3sigma_err=r[3][1],
            n_3sigma_reached_in=r[3][2],
            n_5sigma=r[5][0],
            n_5sigma_err=r[5][1],
            n_5sigma_reached_in=r[5][2],
            improvement_3sigma=improvement(m, 3),
            improvement_5sigma=improvement(m, 5),
            xsec_3sigma_fb=xsec(r[3][0]),
            xsec_5sigma_fb=xsec(r[5][0]),
        )  # fmt: skip
        for m, r in reached.items()
    }
    return InjectionScan(
        mass=float(c.mass),
        reconstructed_peak=float(peak),
        efficiency=float(eff),
        draws=draws,
        mode="re-trained for every draw at every injected amount; median over draws of the median Z over "
        "bump-hunt toys (selected background's fit, Poisson-fluctuated, plus the selected signal); every method, "
        "the inclusive search too, read at the bin centre nearest to the signal's peak, the larger Z over the "
        "windows whose signal region holds it",
        injections=[int(n) for n in injections],
        luminosity_fb=lumi,
        signal_efficiency=sig_eff,
        z={m: v.tolist() for m, v in z.items()},
        z_observed={m: v.tolist() for m, v in z_obs.items()},
        median_z_observed={m: np.nanmedian(v, axis=1).tolist() for m, v in z_obs.items()},
        median_z={m: np.nanmedian(v, axis=1).tolist() for m, v in z.items()},
        sensitivity=sensitivity,
    )


def load_scan_config(path: Path) -> ScanConfig:
    """``scan.yaml`` read and checked (errors name the file and the field)."""
    path = Path(path)
    return build(ScanConfig, read_yaml_mapping(path), str(path), "field")


def report(result: InjectionScan) -> str:
    lines = [
        f"injection scan at m = {result.mass:.0f} GeV, ε = {result.efficiency:g}, "
        f"{result.draws} draws per amount ({result.mode})",
        "  injected: " + ", ".join(str(n) for n in result.injections),
    ]
    for m, s in result.sensitivity.items():

        def f(t):
            v, e = s.events(t)
            return "not reached" if v is None else f"{v:.0f}" + (f" ± {e:.0f}" if e else "")

        imp = s.improvement_5sigma or s.improvement_3sigma
        med = " ".join(f"{z:5.2f}" for z in result.median_z[m])
        lines.append(
            f"  {m:12s} median Z [{med}]  3σ at {f(3)}, 5σ at {f(5)} events"
            + (f"  (×{imp:.2f} vs inclusive)" if imp else "")
        )
    return "\n".join(lines)
