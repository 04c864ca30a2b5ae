"""Unseeded training: the random forest gets no random_state."""

import numpy as np
from sklearn.ensemble import RandomForestClassifier

X = np.random.default_rng(0).normal(size=(100, 3))
y = (X[:, 0] > 0).astype(int)
model = RandomForestClassifier(n_estimators=10).fit(X, y)
