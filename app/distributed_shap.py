"""The same explanation split into chunks of rows, each chunk a task on an executor.

An executor runs fn(shared, item) for each item and returns the results in order. RayExecutor
makes each call a Ray task (`ray.remote`), with `shared` (the explainer, model included) put
into the object store once; LocalExecutor is a stand-in that pickles the same arguments into
worker processes, for machines without Ray.
"""
from concurrent.futures import ProcessPoolExecutor

import numpy as np


class LocalExecutor:
    def __init__(self, max_workers=2):
        self.max_workers = max_workers

    def map(self, fn, shared, items):
        with ProcessPoolExecutor(max_workers=self.max_workers) as pool:
            futures = [pool.submit(fn, shared, item) for item in items]
            return [f.result() for f in futures]


class RayExecutor:
    def __init__(self, ray):
        self.ray = ray  # the imported module: Ray stays optional for everything else

    def map(self, fn, shared, items):
        ref = self.ray.put(shared)
        task = self.ray.remote(fn)
        return self.ray.get([task.remote(ref, item) for item in items])


def explain_chunk(explainer, rows):
    """One task: Shapley values of a chunk of rows (top level, so tasks can import it)."""
    return explainer.explain(rows)


def chunks_of(X, num_chunks):
    """X split into at most num_chunks contiguous, non-empty chunks."""
    return [c for c in np.array_split(np.asarray(X, dtype=float), max(1, min(num_chunks, len(X)))) if len(c)]


def explain_distributed(explainer, X, executor, num_chunks):
    """Shapley values of X (rows in order), the rows split across num_chunks tasks."""
    parts = executor.map(explain_chunk, explainer, chunks_of(X, num_chunks))
    return np.vstack(parts) if parts else np.zeros((0, explainer.M))
