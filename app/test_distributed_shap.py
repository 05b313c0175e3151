"""The distributed path: chunks on an executor give the serial result, in order."""
import unittest

import numpy as np

from distributed_shap import LocalExecutor, RayExecutor, chunks_of, explain_chunk, explain_distributed, run_graph
from kernel_shap import KernelShap, summarise_background
from testdata import wine_table
from testfakes import FakeRay
from wine_model import split, train


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
        self.assertEqual([k for k, _ in ray.events].count("put"), 1)
        self.assertEqual(ray.tasks, ["explain_chunk"] * 4)
        self.assertLessEqual(np.max(np.abs(distributed - self.serial)), 1e-5)

    def test_an_executor_that_loses_the_order_is_caught_by_the_comparison(self):
        class Reversing:
            def run(self, calls):
                return [(fn(shared, item), 0.0) for fn, shared, item in calls][::-1]

        shuffled = explain_distributed(self.explainer, self.X, Reversing(), num_chunks=3)
        self.assertGreater(np.max(np.abs(shuffled - self.serial)), 1e-5)

    def test_a_graph_submits_every_task_before_awaiting_any_and_puts_each_shared_object_once(self):
        ray = FakeRay()
        chunks = chunks_of(self.X, 3)
        out = run_graph(RayExecutor(ray), {"serial": (explain_chunk, self.explainer, [self.X]), "distributed": (explain_chunk, self.explainer, chunks), "other": (rows_sum, None, chunks)})
        kinds = [k for k, _ in ray.events]
        self.assertEqual(kinds[: kinds.index("wait")].count("task"), 7)  # all of them, before the first wait
        self.assertEqual(kinds.count("put"), 2)  # the explainer once for 4 tasks; None for the other group
        np.testing.assert_array_equal(out["serial"][0][0], self.serial)
        self.assertLessEqual(np.max(np.abs(np.vstack(out["distributed"][0]) - self.serial)), 1e-5)
        np.testing.assert_array_equal(np.concatenate(out["other"][0]), self.X.sum(axis=1))

    def test_local_processes_run_a_graph_and_say_when_each_group_finished(self):
        out = run_graph(LocalExecutor(max_workers=2), {"a": (rows_sum, None, chunks_of(self.X, 2)), "b": (rows_sum, None, [self.X])})
        np.testing.assert_array_equal(out["b"][0][0], self.X.sum(axis=1))
        self.assertTrue(all(seconds > 0 for _, seconds in out.values()))


def rows_sum(_, rows):
    return rows.sum(axis=1)


class Chunks(unittest.TestCase):
    def test_rows_are_split_in_order_without_empty_chunks(self):
        X = np.arange(10.0).reshape(5, 2)
        chunks = chunks_of(X, 8)
        self.assertEqual(len(chunks), 5)
        np.testing.assert_array_equal(np.vstack(chunks), X)
        self.assertEqual([len(c) for c in chunks_of(X, 2)], [3, 2])


if __name__ == "__main__":
    unittest.main()
