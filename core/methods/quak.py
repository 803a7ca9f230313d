"""QUAK, quasi anomalous knowledge (arXiv:2011.03550), as in the CMS search (arXiv:2412.03747).

Two density estimators over the event's jet substructure: one trained on simulated background
(the Run's ``background_extra``), one on a *prior* — a mixture of simulated signals, each model
weighted equally. Every event gets a point in the "QUAK space" (background loss, signal loss),
losses being negative log-densities; anomalous, signal-like events have a high background loss and
a low signal loss. The scalar score the shared flat-efficiency cuts use is the difference
background loss − signal loss, the log-likelihood ratio of prior to background (a cut on it is a
straight line in the QUAK space).

The prior must not contain the signal being searched for, otherwise QUAK is a supervised search:
``_check_prior`` refuses prior samples holding a process of the Run's signal sample or of a signal
injected into its data (leave-one-out over the benchmark models), and the Run records the prior.

Density estimators: unconditional neural spline flows (``core.methods.flow``) on the jets ordered
by soft-drop mass: m_SD, τ21, τ32, τ43 and b-tag of both jets (b-tag left out where the data have
none). The original uses VAEs with flow posteriors; a flow gives the likelihood directly.
Background and prior are simulation, never the data being scored, so out-of-fold training is not
needed for the data; the Run still trains one model per fold of the background sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anomalyscope.core.data import EventSet, signal_processes
from anomalyscope.core.errors import InputError
from anomalyscope.core.methods.base import Context, Method, MethodParams
from anomalyscope.core.methods.cathode import mass_ordered
from anomalyscope.core.methods.events import Events
from anomalyscope.core.methods.flow import DensityFlow, FlowConfig, FlowParams
from anomalyscope.core.params import param, unprefixed

FEATURES = ("msoftdrop", "tau21", "tau32", "tau43", "btag")


def _quak_features(ev: Events) -> np.ndarray:
    names = [f for f in FEATURES if f in ev.feature_names]
    return np.column_stack([mass_ordered(ev, f)[:, j] for f in names for j in (0, 1)]).astype(np.float64)


def _check_prior(prior: list, searched: set[str], where: str = "quak") -> list[dict]:
    """Open the prior EventSets; refuse any that holds a searched-for process. Returns what the Run records."""
    if not prior:
        raise InputError(f"{where}: 'prior' must list at least one signal EventSet (a mixture of simulated signals)")
    out = []
    for p in prior:
        es = EventSet.open(p)
        procs = signal_processes(es)
        if not procs:
            held = sorted(es.counts)
            raise InputError(f"{es.path}: a QUAK prior sample must hold simulated signal; it holds {held}")
        clash = procs & searched
        if clash:
            raise InputError(
                f"{where}: prior sample {es.path} holds {sorted(clash)}, the signal this Run searches for or "
                "evaluates; QUAK's prior must leave it out (otherwise it is a supervised search)"
            )
        out.append({"path": str(es.path), "processes": sorted(procs), "n_events": len(es)})
    return out


@dataclass(frozen=True)
class QUAKParams(MethodParams, FlowParams):
    prior: tuple[str, ...] = ()  # the signal EventSets of the prior (checked against the Run's signals)
    max_per_sample: int = param(20000, low=1)  # training events per density estimator

    def __post_init__(self):
        object.__setattr__(self, "prior", tuple(str(Path(p).expanduser()) for p in self.prior))


class QUAK(Method):
    name = "quak"
    needs = ("background_extra",)
    default_folds = 2
    Params = QUAKParams

    @property
    def flow_cfg(self) -> FlowConfig:
        return unprefixed(self.params, FlowConfig, "flow_")

    @classmethod
    def check_config(cls, params, searched):
        return {"prior": _check_prior(list(params.prior), searched), "score": "background loss - signal loss"}

    @staticmethod
    def _region(ev: Events, ctx: Context) -> Events:
        lo = min((w.lo for w in ctx.windows), default=-np.inf)
        hi = max((w.hi for w in ctx.windows), default=np.inf)
        return ev.subset((ev.deta < ctx.deta_max) & (ev.mjj >= lo) & (ev.mjj < hi))

    def _fit(self, train: Events, ctx: Context) -> "QUAK":
        if ctx.background_extra is None:
            raise InputError("quak: needs a simulated background sample ('background_extra' in the run config)")
        _check_prior(list(self.params.prior), set())
        rng = np.random.default_rng(ctx.seed)
        bkg = self._region(ctx.background_extra, ctx)
        if len(bkg) < 200:
            raise InputError(f"quak: only {len(bkg)} background-simulation events in the windows' m_jj range")
        xb = _quak_features(bkg)
        xb = xb[rng.permutation(len(xb))[: self.params.max_per_sample]]
        prior_events = []
        for p in self.params.prior:
            ev = Events.from_eventset(EventSet.open(p))
            ev = ev.subset(ev.deta < ctx.deta_max)
            missing = set(train.feature_names) - set(ev.feature_names)
            if missing & set(FEATURES):
                raise InputError(f"quak: prior sample {p} lacks jet features {sorted(missing & set(FEATURES))}")
            prior_events.append(_quak_features(ev))
        n_each = min(min(len(x) for x in prior_events), self.params.max_per_sample // len(prior_events))
        # each model weighted equally
        xs = np.concatenate([x[rng.choice(len(x), n_each, replace=False)] for x in prior_events])
        self.background = DensityFlow(self.flow_cfg, seed=ctx.seed).fit(xb)
        self.signal = DensityFlow(self.flow_cfg, seed=ctx.seed + 1).fit(xs)
        return self

    def losses(self, events: Events) -> np.ndarray:
        """(n, 2): background loss and signal loss (negative log-densities) — the QUAK space."""
        x = _quak_features(events)
        return np.column_stack([-self.background.log_prob(x), -self.signal.log_prob(x)])

    def _score(self, events: Events) -> np.ndarray:
        loss = self.losses(events)
        return loss[:, 0] - loss[:, 1]
