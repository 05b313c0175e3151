"""The distributed path: chunks on an executor give the serial result, in order."""
import pickle
import unittest

import numpy as np

from distributed_shap import LocalExecutor, RayExecutor, chunks_of, explain_distributed
from kernel_shap import KernelShap, summarise_background
from testdata import wine_table
from wine_model import split, train


class FakeRay:
    """The part of Ray's API the executor uses, with Ray's rules: a task gets its arguments
    pickled, top-level object refs resolved; results come back through refs."""

    class Ref:
        def __init__(self, value):
            self.value = value

    def __init__(self):
        self.puts = 0
        self.tasks = 0

    def put(self, value):
        self.puts += 1
        return self.Ref(pickle.dumps(value))

    def remote(self, fn):
        fake = self

        class Remote:
            def remote(self, *args):
                fake.tasks += 1
                resolved = [pickle.loads(a.value) if isinstance(a, FakeRay.Ref) else pickle.loads(pickle.dumps(a)) for a in args]
                return FakeRay.Ref(pickle.dumps(fn(*resolved)))

        return Remote()

    def get(self, refs):
        return [pickle.loads(r.value) for r in refs]


class Distributed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        parts = split(wine_table())
        cls.model = train(parts.X_train, parts.y_train)
        cls.explainer = KernelShap(cls.model.predict, summarise_background(parts.X_train, 8))
        cls.X = parts.X_test[:7]
        cls.serial = cls.explainer.explain(cls.X)

    def test_local_processes_give_the_serial_result(self):
        distributed = explain_distributed(self.explainer, self.X, LocalExecutor(max_workers=2), num_chunks=3)
        self.assertEqual(distributed.shape, (7, 11))
        self.assertLessEqual(np.max(np.abs(distributed - self.serial)), 1e-5)

    def test_ray_tasks_put_the_explainer_once_and_keep_the_rows_in_order(self):
        ray = FakeRay()
        distributed = explain_distributed(self.explainer, self.X, RayExecutor(ray), num_chunks=4)
        self.assertEqual((ray.puts, ray.tasks), (1, 4))
        self.assertLessEqual(np.max(np.abs(distributed - self.serial)), 1e-5)

    def test_an_executor_that_loses_the_order_is_caught_by_the_comparison(self):
        class Reversing:
            def map(self, fn, shared, items):
                return [fn(shared, item) for item in items][::-1]

        shuffled = explain_distributed(self.explainer, self.X, Reversing(), num_chunks=3)
        self.assertGreater(np.max(np.abs(shuffled - self.serial)), 1e-5)


class Chunks(unittest.TestCase):
    def test_rows_are_split_in_order_without_empty_chunks(self):
        X = np.arange(10.0).reshape(5, 2)
        chunks = chunks_of(X, 8)
        self.assertEqual(len(chunks), 5)
        np.testing.assert_array_equal(np.vstack(chunks), X)
        self.assertEqual([len(c) for c in chunks_of(X, 2)], [3, 2])


if __name__ == "__main__":
    unittest.main()
