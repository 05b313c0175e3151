"""Explanations as one graph of tasks on an executor, rows split into chunks.

An executor runs a list of calls fn(shared, item) concurrently: every call is submitted before any
result is awaited, so all the workers get work from the start (the HPA sees the load at once).
It returns each call's result, in order, and when it finished (seconds after the first submit).
RayExecutor makes each call a Ray task (`ray.remote`), each shared object put into the object
store once; LocalExecutor is a stand-in that pickles the same arguments into worker processes,
for machines without Ray.
"""
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import numpy as np


class LocalExecutor:
    name = "local processes"

    def __init__(self, max_workers=2):
        self.max_workers = max_workers

    def run(self, calls):
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=self.max_workers) as pool:
            futures = [pool.submit(fn, shared, item) for fn, shared, item in calls]
            finished = {}
            left = set(futures)
            while left:
                done, left = wait(left, return_when=FIRST_COMPLETED)
                for f in done:
                    finished[f] = time.perf_counter() - started
            return [(f.result(), finished[f]) for f in futures]


class RayExecutor:
    name = "Ray"

    def __init__(self, ray):
        self.ray = ray  # the imported module: Ray stays optional for everything else

    def run(self, calls):
        ray = self.ray
        started = time.perf_counter()
        refs, remotes, shared_refs = [], {}, {}
        for fn, shared, item in calls:
            if id(shared) not in shared_refs:
                shared_refs[id(shared)] = ray.put(shared)
            if fn not in remotes:
                remotes[fn] = ray.remote(fn)
            refs.append(remotes[fn].remote(shared_refs[id(shared)], item))
        order = {r: i for i, r in enumerate(refs)}  # ObjectRefs hash by their id
        finished = [0.0] * len(refs)
        left = list(refs)
        while left:
            done, left = ray.wait(left, num_returns=1)
            for r in done:
                finished[order[r]] = time.perf_counter() - started
        return list(zip(ray.get(refs), finished))


def run_graph(executor, groups):
    """groups: {name: (fn, shared, items)}, all run as one graph on the executor.
    Returns {name: (results in item order, seconds until the group's last task finished)}."""
    calls, spans = [], {}
    for name, (fn, shared, items) in groups.items():
        spans[name] = (len(calls), len(calls) + len(items))
        calls.extend((fn, shared, item) for item in items)
    done = executor.run(calls) if calls else []
    out = {}
    for name, (a, b) in spans.items():
        part = done[a:b]
        out[name] = ([r for r, _ in part], max((t for _, t in part), default=0.0))
    return out


def explain_chunk(explainer, rows):
    """One task: Shapley values of a chunk of rows (top level, so tasks can import it)."""
    return explainer.explain(rows)


def chunks_of(X, num_chunks):
    """X split into at most num_chunks contiguous, non-empty chunks."""
    return [c for c in np.array_split(np.asarray(X, dtype=float), max(1, min(num_chunks, len(X)))) if len(c)]


def stack(parts, M):
    return np.vstack(parts) if parts else np.zeros((0, M))


def explain_distributed(explainer, X, executor, num_chunks):
    """Shapley values of X (rows in order), the rows split across num_chunks tasks."""
    parts, _ = run_graph(executor, {"distributed": (explain_chunk, explainer, chunks_of(X, num_chunks))})["distributed"]
    return stack(parts, explainer.M)
