"""Our KernelSHAP against Shapley values computed by definition, and its properties."""
import math
import unittest
from itertools import combinations

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from kernel_shap import KernelShap, all_coalitions, sampled_coalitions, shapley_kernel, summarise_background


def exact_shapley(predict, x, background):
    """Shapley values by the definition: every coalition S of the other features, weighted
    |S|! (M - |S| - 1)! / M!, of v(S + i) - v(S), v being the mean prediction over the background."""
    M = len(x)

    def v(S):
        rows = background.copy()
        rows[:, list(S)] = x[list(S)]
        return predict(rows).mean()

    phi = np.zeros(M)
    for i in range(M):
        others = [j for j in range(M) if j != i]
        for k in range(M):
            weight = math.factorial(k) * math.factorial(M - k - 1) / math.factorial(M)
            for S in combinations(others, k):
                phi[i] += weight * (v(S + (i,)) - v(S))
    return phi


def small_forest(M=5, n=200, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, M))
    y = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + (X[:, 3] > 0) * X[:, 4 % M] + rng.normal(scale=0.1, size=n)
    return RandomForestRegressor(max_depth=5, n_estimators=8, random_state=0).fit(X, y), X


class AgreesWithExactShapley(unittest.TestCase):
    def test_a_small_forest_matches_the_definition(self):
        model, X = small_forest()
        background = X[:6]
        ours = KernelShap(model.predict, background).explain(X[50:54])
        self.assertTrue(KernelShap(model.predict, background).exact)
        for row, phi in zip(X[50:54], ours):
            np.testing.assert_allclose(phi, exact_shapley(model.predict, row, background), atol=1e-9)

    def test_an_interaction_is_split_evenly(self):
        # f = x0 * x1 with a zero background: each of the two features gets half of f(x).
        predict = lambda rows: rows[:, 0] * rows[:, 1]
        phi = KernelShap(predict, np.zeros((1, 3))).explain([[2.0, 3.0, 7.0]])[0]
        np.testing.assert_allclose(phi, [3.0, 3.0, 0.0], atol=1e-12)


class Efficiency(unittest.TestCase):
    def check(self, explainer, predict, X):
        phi = explainer.explain(X)
        np.testing.assert_allclose(phi.sum(axis=1), predict(X) - explainer.expected_value, atol=1e-9)

    def test_exact_contributions_sum_to_prediction_minus_base_value(self):
        model, X = small_forest(M=11, n=300)
        self.check(KernelShap(model.predict, X[:8]), model.predict, X[100:103])

    def test_sampled_contributions_sum_to_prediction_minus_base_value(self):
        model, X = small_forest(M=12, n=300)
        explainer = KernelShap(model.predict, X[:5], max_coalitions=300)
        self.assertFalse(explainer.exact)
        self.check(explainer, model.predict, X[100:102])

    def test_base_value_is_the_mean_prediction_over_the_background(self):
        model, X = small_forest()
        self.assertAlmostEqual(KernelShap(model.predict, X[:9]).expected_value, model.predict(X[:9]).mean())


class Sampling(unittest.TestCase):
    def test_an_additive_model_is_explained_exactly_from_a_sample(self):
        w = np.arange(1.0, 15.0)
        predict = lambda rows: rows @ w
        rng = np.random.default_rng(3)
        background, x = rng.normal(size=(4, 14)), rng.normal(size=14)
        explainer = KernelShap(predict, background, max_coalitions=400)
        self.assertFalse(explainer.exact)
        np.testing.assert_allclose(explainer.explain(x)[0], w * (x - background.mean(axis=0)), atol=1e-9)

    def test_the_same_seed_gives_the_same_values_and_another_seed_other_coalitions(self):
        model, X = small_forest(M=12, n=300)
        a = KernelShap(model.predict, X[:4], max_coalitions=200, seed=7).explain(X[200:202])
        b = KernelShap(model.predict, X[:4], max_coalitions=200, seed=7).explain(X[200:202])
        np.testing.assert_array_equal(a, b)
        m7 = sampled_coalitions(12, 200, np.random.default_rng(7))[0]
        m8 = sampled_coalitions(12, 200, np.random.default_rng(8))[0]
        self.assertFalse(m7.shape == m8.shape and (m7 == m8).all())

    def test_sampled_coalitions_come_with_their_complements(self):
        masks, weights = sampled_coalitions(10, 100, np.random.default_rng(0))
        seen = {m.tobytes(): w for m, w in zip(masks, weights)}
        for m, w in zip(masks, weights):
            self.assertEqual(seen[(~m).tobytes()], w)
        self.assertTrue(((masks.sum(axis=1) > 0) & (masks.sum(axis=1) < 10)).all())


class Coalitions(unittest.TestCase):
    def test_every_proper_coalition_once_with_the_shapley_kernel(self):
        masks, weights = all_coalitions(4)
        self.assertEqual(len(masks), 14)
        self.assertEqual(len({m.tobytes() for m in masks}), 14)
        for m, w in zip(masks, weights):
            self.assertAlmostEqual(w, 3 / (math.comb(4, m.sum()) * m.sum() * (4 - m.sum())))
        self.assertAlmostEqual(shapley_kernel(4, 1), shapley_kernel(4, 3))

    def test_explaining_rows_together_or_one_by_one_is_the_same(self):
        model, X = small_forest()
        explainer = KernelShap(model.predict, X[:5], batch_rows=7)  # small batches: several predict calls
        together = explainer.explain(X[60:63])
        one_by_one = np.vstack([explainer.explain(row) for row in X[60:63]])
        np.testing.assert_array_equal(together, one_by_one)

    def test_rows_with_another_number_of_features_are_refused(self):
        model, X = small_forest()
        with self.assertRaisesRegex(ValueError, "rows have 4 features, the background has 5"):
            KernelShap(model.predict, X[:5]).explain(np.zeros((1, 4)))

    def test_the_background_sample_is_seeded_and_made_of_rows_of_the_data(self):
        X = np.arange(200.0).reshape(100, 2)
        a, b = summarise_background(X, 10, seed=1), summarise_background(X, 10, seed=1)
        np.testing.assert_array_equal(a, b)
        self.assertEqual(a.shape, (10, 2))
        self.assertTrue(all(any((row == X).all(axis=1)) for row in a))
        self.assertEqual(len(summarise_background(X[:5], 10)), 5)


if __name__ == "__main__":
    unittest.main()
