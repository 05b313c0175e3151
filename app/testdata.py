"""The wine table for tests: the shared copy beside the project (../shared/data) when present,
else a generated table of the same shape, so the tests pass on any machine. The project keeps
no copy of the table: users put it in their bucket or give a local path."""
import os

import numpy as np
import pandas as pd

from wine_data import FEATURES, load_local

APP = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(APP, "..", "..", "shared", "data", "winequality-red.csv"))


def shared_table_path():
    """The shared copy of the UCI table, or None when this machine has none."""
    return SHARED if os.path.exists(SHARED) else None


def wine_table(rows=400, seed=0):
    """The UCI table when available, else `rows` generated rows whose quality depends on the features."""
    path = shared_table_path()
    if path:
        return load_local(path)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, len(FEATURES))) * [1.7, 0.18, 0.2, 1.4, 0.05, 10, 33, 0.002, 0.15, 0.17, 1.1] + [8.3, 0.53, 0.27, 2.5, 0.09, 16, 46, 0.997, 3.3, 0.66, 10.4]
    quality = np.clip(np.round(5.6 + 0.3 * (X[:, 10] - 10.4) - 1.0 * (X[:, 1] - 0.53) + rng.normal(scale=0.4, size=rows)), 3, 8)
    return pd.DataFrame(np.column_stack([X, quality]), columns=[*FEATURES, "quality"])
