"""Train a calibrated binary classifier on any feature table with a label column.

    model = train_classifier(frame, label="label", time_column="point_at")

The split is by time when the table has a time column with enough distinct points
(oldest 60 % train, next 20 % validation, newest 20 % test), otherwise stratified at
random (a table with one cohort, such as Telco or the churn mart with one cut-off).
Two scikit-learn pipelines compete: a regularised logistic regression (its C chosen on
validation) and a histogram gradient-boosted tree model. The one with the better
validation ROC AUC is calibrated on the validation rows (isotonic when they are many,
Platt otherwise) and judged once on the test rows, which nothing else has seen.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from ml.drift import reference_profile
from ml.evaluate import classification_metrics

# One BLAS and OpenMP thread: on the shared 2-core machine (API, dbt and the pipeline side
# by side) threaded fits and predictions oversubscribe the cores; measured 4-5 times
# slower than single-threaded under load (tests/ml went from about 60 s to 12 s).
single_threaded = threadpool_limits.wrap(limits=1)

SPLIT = (0.6, 0.2, 0.2)
LOGISTIC_C = (0.03, 0.3, 3.0)
MAX_CATEGORIES = 50


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns of a feature table are features, which the label and the time."""

    label: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    time_column: str | None = None

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


def infer_spec(
    frame: pl.DataFrame | pd.DataFrame,
    label: str,
    *,
    time_column: str | None = None,
    exclude: tuple[str, ...] = (),
) -> FeatureSpec:
    """Numeric and boolean columns are numeric features; strings of few values categorical.

    Strings with many distinct values (ids, names) and the excluded columns are left out.
    """
    frame = _polars(frame)
    skip = {label, *exclude} | ({time_column} if time_column else set())
    numeric, categorical = [], []
    for name, dtype in frame.schema.items():
        if name in skip:
            continue
        if dtype.is_numeric() or dtype == pl.Boolean:
            numeric.append(name)
        elif dtype in (pl.String, pl.Categorical, pl.Enum):
            distinct = frame[name].n_unique()
            if distinct <= MAX_CATEGORIES and distinct < max(2, 0.5 * len(frame)):
                categorical.append(name)
    if not numeric and not categorical:
        raise ValueError("the table has no usable feature column")
    return FeatureSpec(
        label=label, numeric=tuple(numeric), categorical=tuple(categorical), time_column=time_column
    )


class SkewedToLog(TransformerMixin, BaseEstimator):
    """log1p of the columns that look like counts or amounts (non-negative, long right tail).

    A linear model sees the tenth web visit as worth less than the first; columns that
    are already on a log or bounded scale (trends, scores, flags) are left alone.
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        low = np.nanmin(X, axis=0) if len(X) else np.zeros(X.shape[1])
        high = np.nanquantile(X, 0.99, axis=0) if len(X) else np.zeros(X.shape[1])
        self.skewed_ = (low >= 0) & (high > 20)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        X = np.array(X, dtype=float, copy=True)
        X[:, self.skewed_] = np.log1p(X[:, self.skewed_])
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(
            input_features if input_features is not None else [f"x{i}" for i in range(self.n_features_in_)],
            dtype=object,
        )


def logistic_pipeline(spec: FeatureSpec, C: float) -> Pipeline:
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("log", SkewedToLog()),
            ("scale", StandardScaler()),
        ]
    )
    categorical = OneHotEncoder(handle_unknown="ignore", min_frequency=5)
    columns = ColumnTransformer(
        [("numeric", numeric, list(spec.numeric)), ("categorical", categorical, list(spec.categorical))]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression(C=C, max_iter=5000))])


def boosting_pipeline(spec: FeatureSpec, seed: int) -> Pipeline:
    categorical = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    columns = ColumnTransformer(
        [("categorical", categorical, list(spec.categorical)), ("numeric", "passthrough", list(spec.numeric))]
    )
    model = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=400,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=list(range(len(spec.categorical))) or None,
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=30,
        random_state=seed,
    )
    return Pipeline([("columns", columns), ("model", model)])


@dataclass
class TrainedModel:
    """A fitted, calibrated model and everything the registry and the report need."""

    estimator: Any  # calibrated: predict_proba gives probabilities
    base_estimator: Any  # the chosen pipeline before calibration: reasons use its log-odds
    spec: FeatureSpec
    algorithm: str
    params: dict[str, Any]
    validation_auc: dict[str, float]
    test_metrics: dict[str, Any]
    split: dict[str, Any]
    reference: dict[str, Any]  # feature profile of the training rows (drift, reasons)
    data_hash: str
    train_seconds: float
    test_frame: pl.DataFrame = field(repr=False)  # the test rows, for reports and comparisons

    @single_threaded
    def predict_proba(self, frame: pl.DataFrame | pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(to_pandas(frame, self.spec))[:, 1]


def to_pandas(frame: pl.DataFrame | pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The feature columns as scikit-learn wants them: floats and object strings."""
    frame = _polars(frame)
    columns = [pl.col(c).cast(pl.Float64) for c in spec.numeric] + [
        pl.col(c).cast(pl.String) for c in spec.categorical
    ]
    out = frame.select(columns).to_pandas()
    for c in spec.categorical:
        out[c] = out[c].astype(object).where(out[c].notna(), np.nan)
    return out


def data_hash(frame: pl.DataFrame) -> str:
    """A hash of the training rows that does not depend on their order."""
    hashed = np.sort(frame.hash_rows(seed=0).to_numpy())
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(",".join(f"{k}:{v}" for k, v in frame.schema.items()).encode())
    return digest.hexdigest()


def split_frame(
    frame: pl.DataFrame, spec: FeatureSpec, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Train, validation and test rows: by time when possible, else stratified at random."""
    y = frame[spec.label]
    if spec.time_column and frame[spec.time_column].n_unique() >= 5:
        times = frame[spec.time_column]
        first, second = times.quantile(SPLIT[0], "lower"), times.quantile(SPLIT[0] + SPLIT[1], "lower")
        train = frame.filter(pl.col(spec.time_column) <= first)
        valid = frame.filter((pl.col(spec.time_column) > first) & (pl.col(spec.time_column) <= second))
        test = frame.filter(pl.col(spec.time_column) > second)
        if all(part[spec.label].n_unique() == 2 and len(part) >= 10 for part in (train, valid, test)):
            return (
                train,
                valid,
                test,
                {
                    "method": "time",
                    "time_column": spec.time_column,
                    "train_window": [str(times.min()), str(first)],
                    "validation_window": [_after(first), str(second)],
                    "test_window": [_after(second), str(times.max())],
                },
            )
    if y.n_unique() < 2:
        raise ValueError(f"the label {spec.label!r} has one value only: nothing to learn")
    index = np.arange(len(frame))
    stratify = y.to_numpy() if min(y.sum(), len(y) - y.sum()) >= 3 else None
    rest, test_index = train_test_split(index, test_size=SPLIT[2], random_state=seed, stratify=stratify)
    rest_y = stratify[rest] if stratify is not None else None
    train_index, valid_index = train_test_split(
        rest, test_size=SPLIT[1] / (SPLIT[0] + SPLIT[1]), random_state=seed, stratify=rest_y
    )
    method = {"method": "random (stratified)", "reason": "no time column with enough distinct points"}
    if spec.time_column:
        times = frame[spec.time_column]
        method["window"] = [str(times.min()), str(times.max())]
    return frame[train_index], frame[valid_index], frame[test_index], method


def _after(value: Any) -> str:
    return f"after {value}"


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


@single_threaded
def train_classifier(
    frame: pl.DataFrame | pd.DataFrame,
    label: str = "label",
    *,
    spec: FeatureSpec | None = None,
    time_column: str | None = None,
    exclude: tuple[str, ...] = (),
    seed: int = 0,
    candidates: tuple[str, ...] = ("logistic_regression", "gradient_boosting"),
) -> TrainedModel:
    """Fit the candidates on the oldest rows, pick one on validation, calibrate, test."""
    started = time.perf_counter()
    frame = _polars(frame).filter(pl.col(label).is_not_null()).with_columns(pl.col(label).cast(pl.Int8))
    # the same rows in any order give the same split and the same model
    frame = frame.sort([c for c, t in frame.schema.items() if not t.is_nested() and t != pl.Object])
    spec = spec or infer_spec(frame, label, time_column=time_column, exclude=exclude)
    train, valid, test, split = split_frame(frame, spec, seed)
    given, (spec, dropped) = spec, _informative(spec, train)
    x_train, x_valid, x_test = (to_pandas(part, spec) for part in (train, valid, test))
    y_train, y_valid, y_test = (part[label].to_numpy() for part in (train, valid, test))

    fitted: dict[str, tuple[Pipeline, dict[str, Any], float]] = {}
    if "logistic_regression" in candidates:
        best = None
        for C in LOGISTIC_C:
            pipe = logistic_pipeline(spec, C).fit(x_train, y_train)
            auc = _auc(y_valid, pipe.predict_proba(x_valid)[:, 1])
            if best is None or (auc > best[2]) or np.isnan(best[2]):
                best = (pipe, {"C": C}, auc)
        fitted["logistic_regression"] = best
    if "gradient_boosting" in candidates:
        pipe = boosting_pipeline(spec, seed).fit(x_train, y_train)
        params = {"iterations": int(pipe.named_steps["model"].n_iter_)}
        fitted["gradient_boosting"] = (pipe, params, _auc(y_valid, pipe.predict_proba(x_valid)[:, 1]))

    validation_auc = {name: round(auc, 4) for name, (_, _, auc) in fitted.items()}
    # the first candidate wins ties and undefined AUCs: the simpler model
    algorithm = max(fitted, key=lambda name: -1.0 if np.isnan(fitted[name][2]) else fitted[name][2])
    base, params, _ = fitted[algorithm]

    method = "isotonic" if len(valid) >= 1000 else "sigmoid"
    if len(np.unique(y_valid)) == 2:
        estimator = CalibratedClassifierCV(FrozenEstimator(base), method=method).fit(x_valid, y_valid)
    else:
        estimator, method = base, "none (one class in the validation rows)"
    p_test = estimator.predict_proba(x_test)[:, 1]
    test_metrics = classification_metrics(y_test, p_test)
    test_metrics["roc_auc_uncalibrated"] = round(_auc(y_test, base.predict_proba(x_test)[:, 1]), 4)
    split |= {
        "rows": {"train": len(train), "validation": len(valid), "test": len(test)},
        "positives": {
            "train": int(y_train.sum()),
            "validation": int(y_valid.sum()),
            "test": int(y_test.sum()),
        },
        "calibration": method,
        "dropped_features": dropped,
    }
    return TrainedModel(
        estimator=estimator,
        base_estimator=base,
        spec=spec,
        algorithm=algorithm,
        params=params,
        validation_auc=validation_auc,
        test_metrics=test_metrics,
        split=split,
        reference=reference_profile(train, spec),
        data_hash=data_hash(frame.select(*spec.features, label)),
        train_seconds=round(time.perf_counter() - started, 2),
        # only what the report needs: features, label and time, no identifiers
        test_frame=test.select(*given.features, label, *([spec.time_column] if spec.time_column else [])),
    )


def _informative(spec: FeatureSpec, train: pl.DataFrame) -> tuple[FeatureSpec, list[str]]:
    """Leave out features with no information in the training rows (all missing, or constant)."""
    dropped = [name for name in spec.features if train[name].drop_nulls().n_unique() < 2]
    if len(dropped) == len(spec.features):
        raise ValueError("no feature varies in the training rows")
    keep = lambda names: tuple(n for n in names if n not in dropped)  # noqa: E731
    return FeatureSpec(spec.label, keep(spec.numeric), keep(spec.categorical), spec.time_column), dropped


def _polars(frame: pl.DataFrame | pd.DataFrame) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
