"""Seeded training: every source of randomness gets the seed."""

import random

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

SEED = 42
random.seed(SEED)
rng = np.random.default_rng(SEED)
X = rng.normal(size=(100, 3))
y = (X[:, 0] > 0).astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=SEED)
model = RandomForestClassifier(n_estimators=10, random_state=SEED).fit(X_train, y_train)
order = random.sample(range(10), 3)
jitter = np.random.default_rng().normal()  # ml-ci: allow-random
