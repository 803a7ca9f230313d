"""The generator's partons that become a jet's prongs: quarks from decays of heavy resonances, before the
shower (truth: stored with generated events, never shown to methods)."""

from __future__ import annotations

import awkward as ak
import numpy as np

# heavy resonances whose quark daughters are a jet's prongs: t, b', t', Z, W, H, Z', W', H2 ... and new states
RESONANCES = np.array([6, 7, 8, 23, 24, 25, 32, 33, 34, 35, 36, 37])


def resonance_quarks(prt: ak.Array) -> ak.Array:
    """Per event, the quarks (d..b) whose mother is a heavy resonance, at their first copy (before showering).

    In Pythia's record a showered quark's later copies have the quark itself as mother, so only the copy
    made by the decay is kept. Returns records {pt, eta, phi, pdgid}.
    """
    counts = ak.to_numpy(ak.num(prt.id))
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    pid = ak.to_numpy(ak.flatten(prt.id))
    mother = np.clip(ak.to_numpy(ak.flatten(prt.mother1)), 0, None) + offsets
    mid = np.abs(pid[mother])
    heavy = np.isin(mid, RESONANCES) | ((mid > 4_000_000) & (mid < 4_000_020)) | (mid > 9_000_000)
    keep = (np.abs(pid) >= 1) & (np.abs(pid) <= 5) & heavy
    px, py, pz = (ak.to_numpy(ak.flatten(prt.p[c])) for c in ("px", "py", "pz"))
    pt = np.hypot(px, py)
    rec = ak.zip(
        {
            "pt": pt[keep].astype(np.float32),
            "eta": np.arcsinh(pz[keep] / np.maximum(pt[keep], 1e-9)).astype(np.float32),
            "phi": np.arctan2(py[keep], px[keep]).astype(np.float32),
            "pdgid": pid[keep].astype(np.int32),
        }
    )
    return ak.unflatten(rec, ak.to_numpy(ak.sum(ak.unflatten(keep, counts), axis=1)))
