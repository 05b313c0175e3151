"""The model to explain: a small random forest on the wine table, with a fixed split."""
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

from wine_data import FEATURES, TARGET


@dataclass
class Split:
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def split(table, test_size=0.2, seed=0):
    """Train/test split of the table's features (in FEATURES order) and target; fixed by seed."""
    X = table[list(FEATURES)].to_numpy(dtype=float)
    y = table[TARGET].to_numpy(dtype=float)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed)
    return Split(X_train, X_test, y_train, y_test)


def train(X_train, y_train):
    # The original app's forest: small on purpose, so explaining it dominates the run time.
    model = RandomForestRegressor(max_depth=6, n_estimators=10, random_state=0)
    return model.fit(X_train, y_train)
