from __future__ import annotations

import numpy as np

from companion.assistant.nlu.linear import (
    fit_softmax,
    fit_temperature,
    lbfgs,
    softmax,
    stratified_folds,
)


def test_lbfgs_minimises_a_quadratic() -> None:
    target = np.array([3.0, -2.0, 0.5])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        diff = theta - target
        return float(diff @ diff), 2 * diff

    assert np.allclose(lbfgs(objective, np.zeros(3)), target, atol=1e-5)


def test_softmax_regression_separates_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    labels = np.repeat(np.arange(3), 30)
    features = centres[labels] + rng.normal(0, 0.5, size=(90, 2))
    model = fit_softmax(features, labels, 3, c=10.0)
    assert (model.logits(features).argmax(axis=1) == labels).mean() == 1.0
    warm = fit_softmax(features, labels, 3, c=10.0, init=model)
    assert np.allclose(warm.weights, model.weights, atol=1e-2)


def test_stronger_regularisation_shrinks_weights() -> None:
    features = np.array([[1.0, 0.0], [0.0, 1.0]] * 5)
    labels = np.array([0, 1] * 5)
    loose = fit_softmax(features, labels, 2, c=100.0)
    tight = fit_softmax(features, labels, 2, c=0.01)
    assert np.abs(tight.weights).sum() < np.abs(loose.weights).sum()


def test_softmax_rows_sum_to_one_and_temperature_sharpens() -> None:
    logits = np.array([[2.0, 1.0, 0.0]])
    assert np.isclose(softmax(logits).sum(), 1.0)
    assert softmax(logits, 0.5)[0, 0] > softmax(logits, 1.0)[0, 0] > softmax(logits, 2.0)[0, 0]


def test_fit_temperature_cools_overconfident_logits() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=400)
    # Right 70% of the time but with huge margins: overconfident.
    predicted = np.where(rng.random(400) < 0.7, labels, 1 - labels)
    logits = np.zeros((400, 2))
    logits[np.arange(400), predicted] = 10.0
    assert fit_temperature(logits, labels) > 5.0


def test_stratified_folds_partition_and_balance() -> None:
    labels = np.array([0] * 10 + [1] * 5)
    folds = stratified_folds(labels, 5, seed=3)
    joined = np.sort(np.concatenate(folds))
    assert (joined == np.arange(15)).all()
    assert all((labels[f] == 0).sum() == 2 and (labels[f] == 1).sum() == 1 for f in folds)
