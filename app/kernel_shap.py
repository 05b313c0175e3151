"""KernelSHAP (Lundberg & Lee, 2017): Shapley values of a prediction by weighted linear regression.

For an instance x and a coalition z of features, v(z) is the model's mean prediction over the
background rows with the features in z taken from x. The Shapley values phi solve

    min  sum_z pi(z) * (v(z) - phi0 - sum_{i in z} phi_i)^2   subject to   sum_i phi_i = f(x) - phi0

with phi0 = v(empty) and the Shapley kernel pi(z) = (M - 1) / (C(M, |z|) |z| (M - |z|)). Over all
2^M - 2 proper coalitions the solution is exactly the Shapley values of v; when there are more
coalitions than the budget, a sample drawn from the kernel (each with its complement) is used.
The coalitions are fixed when the explainer is made (seeded), so any split of the rows across
processes or machines gives the same numbers as one serial run.
"""
import math

import numpy as np


def shapley_kernel(M, size):
    """The kernel weight of one coalition of `size` features out of M (0 < size < M)."""
    return (M - 1) / (math.comb(M, size) * size * (M - size))


def all_coalitions(M):
    """Every coalition except the empty and the full one, as a boolean matrix, with its weight."""
    codes = np.arange(1, 2**M - 1)
    masks = ((codes[:, None] >> np.arange(M)) & 1).astype(bool)
    kernel = np.zeros(M + 1)
    kernel[1:M] = [shapley_kernel(M, s) for s in range(1, M)]
    return masks, kernel[masks.sum(axis=1)]


def sampled_coalitions(M, budget, rng):
    """About `budget` coalitions drawn with probability proportional to the kernel, each paired
    with its complement (less variance); repeats are merged and counted as weight."""
    sizes = np.arange(1, M)
    mass = np.array([shapley_kernel(M, s) * math.comb(M, s) for s in sizes])  # kernel mass of a size
    counts = {}
    for s in rng.choice(sizes, size=max(1, budget // 2), p=mass / mass.sum()):
        mask = np.zeros(M, dtype=bool)
        mask[rng.choice(M, size=s, replace=False)] = True
        for m in (mask, ~mask):
            key = m.tobytes()
            counts[key] = counts.get(key, 0) + 1
    masks = np.array([np.frombuffer(k, dtype=bool) for k in counts])
    return masks, np.array(list(counts.values()), dtype=float)


def summarise_background(X, size, seed=0):
    """`size` rows of X chosen at random (seeded): the reference data coalitions are filled from.
    A plain sample, so shap.KernelExplainer can be given exactly the same rows to compare with."""
    X = np.asarray(X, dtype=float)
    if len(X) <= size:
        return X
    rng = np.random.default_rng(seed)
    return X[np.sort(rng.choice(len(X), size=size, replace=False))]


class KernelShap:
    def __init__(self, predict, background, max_coalitions=2048, seed=0, batch_rows=200_000):
        """predict: rows (n, M) -> predictions (n,); background: rows (B, M), equally weighted.
        All 2^M - 2 coalitions are used when they fit in max_coalitions, else a seeded sample."""
        self.predict = predict
        self.background = np.atleast_2d(np.asarray(background, dtype=float))
        self.M = self.background.shape[1]
        self.batch_rows = batch_rows
        self.expected_value = float(np.mean(predict(self.background)))
        self.exact = 2**self.M - 2 <= max_coalitions
        if self.M < 2:
            self.masks, self.weights = np.zeros((0, self.M), dtype=bool), np.zeros(0)
        elif self.exact:
            self.masks, self.weights = all_coalitions(self.M)
        else:
            self.masks, self.weights = sampled_coalitions(self.M, max_coalitions, np.random.default_rng(seed))

    def explain(self, X):
        """Shapley values, one row per row of X (shape (n, M)); each row sums to f(x) - expected_value."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[1] != self.M:
            raise ValueError(f"rows have {X.shape[1]} features, the background has {self.M}")
        return np.array([self._explain_row(x) for x in X]).reshape(len(X), self.M)

    def _coalition_values(self, x):
        """v(z) for every coalition: mean prediction over the background with z's features from x."""
        B, K = len(self.background), len(self.masks)
        values = np.empty(K)
        step = max(1, self.batch_rows // B)  # bounds the memory of one predict call
        for start in range(0, K, step):
            masks = self.masks[start : start + step]
            rows = np.where(masks[:, None, :], x[None, None, :], self.background[None, :, :])
            values[start : start + step] = self.predict(rows.reshape(-1, self.M)).reshape(len(masks), B).mean(axis=1)
        return values

    def _explain_row(self, x):
        delta = float(self.predict(x[None, :])[0]) - self.expected_value
        if self.M == 1:
            return np.array([delta])
        # The constraint removes the last feature: phi_M = delta - sum(phi_1..phi_{M-1}).
        z = self.masks.astype(float)
        y = self._coalition_values(x) - self.expected_value - z[:, -1] * delta
        A = z[:, :-1] - z[:, -1:]
        root_w = np.sqrt(self.weights)
        beta = np.linalg.lstsq(A * root_w[:, None], y * root_w, rcond=None)[0]
        return np.append(beta, delta - beta.sum())
