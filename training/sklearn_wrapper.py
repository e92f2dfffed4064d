"""A fitted torch classifier seen through scikit-learn's estimator interface.

Fairlearn's ThresholdOptimizer (prefit) post-processes any estimator with predict_proba;
this wrapper lets it use the registered model itself, on already-encoded inputs, without
retraining or changing it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from training.train import predict_proba


class TorchProbaClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, module=None, classes=None):
        self.module = module
        self.classes = classes

    def fit(self, X, y=None):  # already trained: fitting only records the classes
        self.classes_ = np.asarray(self.classes if self.classes is not None else [0, 1])
        return self

    def predict_proba(self, X):
        # float64: fairlearn writes float64 thresholds into arrays shaped like these, and
        # pandas 3 refuses to downcast them into float32.
        return predict_proba(self.module, np.asarray(X, dtype=np.float32)).astype(np.float64)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
