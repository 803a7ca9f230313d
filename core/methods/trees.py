"""Boosted decision trees as the weakly supervised classifier (``classifier="bdt"`` of CWoLa, CATHODE,
CATHODE-b, Tag N' Train and the references).

Why: with a few hundred signal events among many background events and features, a network trained to
tell two nearly identical samples apart learns little, while gradient-boosted trees keep finding the
signal (Finke et al., arXiv:2309.13111: scikit-learn's HistGradientBoosting, ensembled, held max SIC ≈ 13
on the LHC Olympics set with ten uninformative features where networks fell to ≈ 1).

scikit-learn trains the trees (class-balanced log loss, early stopping on the inner validation fold
given to it). The fitted trees are then kept as plain arrays (``TreeEnsemble``) and evaluated here, so a
stored model is weights and JSON like every other (``methods.storage``: no pickle) and opens without
scikit-learn; a test checks the evaluation against scikit-learn's own to 1e-12.
"""

from __future__ import annotations

import numpy as np

from anomalyscope.core.methods.device import THREADS
from anomalyscope.core.methods.training import class_weights

CHUNK = 4096  # rows evaluated at once: a few CHUNK × trees integers in memory


class TreeEnsemble:
    """Additive trees as arrays: node i splits on ``feature[i]`` at ``threshold[i]`` (x ≤ threshold, or a
    missing x where ``missing_left[i]``, goes to ``left[i]``, else ``right[i]``); a leaf holds ``value[i]``.
    Node indices are global; ``roots`` gives each tree's first node. Raw score = baseline + Σ leaf values."""

    def __init__(self, feature, threshold, missing_left, left, right, is_leaf, value, roots, baseline: float):
        self.feature = np.asarray(feature, dtype=np.int32)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.left = np.asarray(left, dtype=np.int32)
        self.right = np.asarray(right, dtype=np.int32)
        self.is_leaf = np.asarray(is_leaf, dtype=bool)
        self.value = np.asarray(value, dtype=np.float64)
        self.roots = np.asarray(roots, dtype=np.int32)
        self.baseline = float(baseline)

    @classmethod
    def from_sklearn(cls, model) -> "TreeEnsemble":
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` (numerical features only)."""
        parts, roots, offset = [], [], 0
        for (tree,) in model._predictors:
            nodes = tree.nodes
            if np.any(nodes["is_categorical"]):
                raise ValueError("categorical splits are not supported")
            roots.append(offset)
            parts.append((nodes, offset))
            offset += len(nodes)

        def col(name, shift=False):
            return np.concatenate([n[name].astype(np.int64) + o if shift else n[name] for n, o in parts])

        return cls(
            feature=col("feature_idx"),
            threshold=col("num_threshold"),
            missing_left=col("missing_go_to_left").astype(bool),
            left=col("left", shift=True),
            right=col("right", shift=True),
            is_leaf=col("is_leaf").astype(bool),
            value=col("value"),
            roots=roots,
            baseline=float(np.ravel(model._baseline_prediction)[0]),
        )

    def decision(self, x: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows of x: every (row, tree) path followed in flat arrays, a path
        dropped once it reaches its leaf."""
        x = np.asarray(x, dtype=np.float64)
        n_f, n_t = x.shape[1] if x.ndim == 2 else 0, len(self.roots)
        children = np.stack([self.right, self.left], axis=1).ravel()  # node*2 + went_left
        out = np.empty(len(x))
        for start in range(0, len(x), CHUNK):
            flat = x[start : start + CHUNK].ravel()
            n = len(flat) // max(n_f, 1)
            row = np.repeat(np.arange(n, dtype=np.int32), n_t)
            node = np.tile(self.roots, n)
            leaf = np.empty_like(node)
            pos = np.arange(len(node))
            while len(pos):
                done = self.is_leaf[node]
                leaf[pos[done]] = node[done]
                keep = ~done
                pos, node, row = pos[keep], node[keep], row[keep]
                v = flat[row * n_f + self.feature[node]]
                go_left = v <= self.threshold[node]
                missing = np.isnan(v)
                if missing.any():
                    go_left[missing] = self.missing_left[node[missing]]
                node = children[2 * node + go_left]
            out[start : start + CHUNK] = self.baseline + self.value[leaf].reshape(n, n_t).sum(axis=1)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of class 1."""
        return 1.0 / (1.0 + np.exp(-self.decision(x)))


def _balanced(y: np.ndarray) -> np.ndarray:
    """Per-sample weights balancing the classes, as the network's loss (``training.class_weights``)."""
    w_pos, w_neg = class_weights(y)
    return np.where(y > 0.5, w_pos, w_neg)


class TreeClassifier:
    """The BDT counterpart of ``classifier.Classifier``: same ``fit``/``predict``; ``history`` holds the
    validation loss after each boosting iteration."""

    def __init__(self, cfg, seed: int = 0):
        self.cfg = cfg
        self.seed = seed
        self.trees: TreeEnsemble | None = None
        self.history: list = []

    def fit(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> "TreeClassifier":
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingClassifier(
            learning_rate=self.cfg.bdt_learning_rate,
            max_iter=self.cfg.bdt_iterations,
            max_leaf_nodes=self.cfg.bdt_leaves,
            early_stopping=True,
            n_iter_no_change=self.cfg.patience,
            random_state=self.seed,
        )
        with threadpool_limits(THREADS):  # see methods.device: one thread per process unless asked
            model.fit(
                x, y.astype(int), sample_weight=_balanced(y), X_val=x_val, y_val=y_val.astype(int),
                sample_weight_val=_balanced(y_val),
            )  # fmt: skip
        self.trees = TreeEnsemble.from_sklearn(model)
        self.history = [float(v) for v in -np.asarray(model.validation_score_)]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.trees.predict(x).astype(np.float32)
