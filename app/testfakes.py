"""Fakes of the Ray and shap APIs the job calls, for the tests (neither can be installed here).
Each keeps the real library's rules that matter: Ray pickles a task's arguments, resolves
top-level object refs and hands results back through refs; shap ≥ 0.47's KernelExplainer selects
features unless l1_reg=False."""
import contextlib
import pickle
import sys
import types

import numpy as np

from kernel_shap import KernelShap


class FakeRay:
    class Ref:
        def __init__(self, value):
            self.value = value

    def __init__(self):
        self.events = []  # ("init" | "put" | "task" | "wait" | "get" | "shutdown", detail)

    def init(self, **kwargs):
        self.events.append(("init", kwargs))

    def shutdown(self):
        self.events.append(("shutdown", None))

    @property
    def tasks(self):
        return [name for kind, name in self.events if kind == "task"]

    def put(self, value):
        self.events.append(("put", type(value).__name__))
        return self.Ref(pickle.dumps(value))

    def remote(self, fn):
        fake = self

        class Remote:
            def remote(self, *args):
                fake.events.append(("task", fn.__name__))
                resolved = [pickle.loads(a.value) if isinstance(a, FakeRay.Ref) else pickle.loads(pickle.dumps(a)) for a in args]
                return FakeRay.Ref(pickle.dumps(fn(*resolved)))

        return Remote()

    def wait(self, refs, num_returns=1):
        self.events.append(("wait", len(refs)))
        return list(refs[:num_returns]), list(refs[num_returns:])

    def get(self, refs):
        if isinstance(refs, FakeRay.Ref):
            self.events.append(("get", 1))
            return pickle.loads(refs.value)
        self.events.append(("get", len(refs)))
        return [pickle.loads(r.value) for r in refs]


@contextlib.contextmanager
def installed(name, module):
    """sys.modules[name] is module while inside."""
    saved = sys.modules.get(name)
    sys.modules[name] = module
    try:
        yield module
    finally:
        if saved is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = saved


class InProcess:
    """An executor that runs the graph's calls here, one after another (fakes in sys.modules apply)."""

    name = "this process"

    def __init__(self, change=None):
        self.change = change  # (fn name, call index within that fn, values) -> values: a wrong result injected

    def run(self, calls):
        out, seen = [], {}
        for fn, shared, item in calls:
            value = fn(pickle.loads(pickle.dumps(shared)), item)
            n = seen[fn.__name__] = seen.get(fn.__name__, -1) + 1
            out.append((self.change(fn.__name__, n, value) if self.change else value, 0.0))
        return out


def fake_shap_module(calls):
    """A `shap` module whose KernelExplainer gives exact Shapley values of the same game when every
    coalition fits in nsamples and l1_reg=False; with shap ≥ 0.47's default (l1_reg="num_features(10)")
    the least important feature used gets 0 and its share goes to the most important one (the real
one's feature selection leaves features out of the regression; shap 0.51 differs by ~6e-3)."""
    module = types.ModuleType("shap")

    class KernelExplainer:
        def __init__(self, model, data, **kwargs):
            self.model, self.data = model, np.asarray(data, dtype=float)
            calls.append(("init", kwargs))

        def shap_values(self, X, nsamples="auto", l1_reg="num_features(10)", silent=False):
            calls.append(("shap_values", {"nsamples": nsamples, "l1_reg": l1_reg, "silent": silent}))
            M = self.data.shape[1]
            exact = KernelShap(self.model, self.data, max_coalitions=nsamples - 2).explain(X)
            if l1_reg is not False:  # one feature left out of the regression: its share lands elsewhere
                for row in exact:
                    used = np.flatnonzero(np.abs(row) > 1e-9 * np.max(np.abs(row)))  # features the model uses here
                    if len(used) > 1:
                        drop = used[np.argmin(np.abs(row[used]))]
                        row[np.argmax(np.abs(row))] += row[drop]
                        row[drop] = 0.0
            return exact.reshape(len(X), M)

    module.KernelExplainer = KernelExplainer
    return module


def fake_shap():
    """sys.modules["shap"] is the fake while inside; yields the list of its calls."""
    calls = []
    return _with(installed("shap", fake_shap_module(calls)), calls)


@contextlib.contextmanager
def _with(context, value):
    with context:
        yield value
