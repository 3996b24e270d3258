"""Multinomial logistic regression in numpy: L2-regularised softmax fitted with L-BFGS,
plus temperature scaling for calibrated probabilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


@dataclass(frozen=True)
class LinearModel:
    """Weights (features x classes) and biases of a softmax classifier."""

    weights: FloatArray
    bias: FloatArray

    def logits(self, features: npt.NDArray[np.floating]) -> FloatArray:
        """Raw class scores, one row per input."""
        return np.asarray(features, dtype=np.float64) @ self.weights + self.bias


def softmax(logits: FloatArray, temperature: float = 1.0) -> FloatArray:
    """Row-wise softmax of ``logits / temperature``."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def fit_softmax(
    features: npt.NDArray[np.floating],
    labels: IntArray,
    n_classes: int,
    *,
    c: float = 10.0,
    max_iter: int = 500,
    tol: float = 1e-6,
    init: LinearModel | None = None,
) -> LinearModel:
    """Minimise sum(cross-entropy) + ||W||^2 / (2c) (sklearn's ``C`` convention).

    ``init`` warm-starts the optimiser (the problem is convex: only speed changes).
    """
    x = np.asarray(features, dtype=np.float64)
    n, d = x.shape
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), labels] = 1.0
    lam = 1.0 / c

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        w = theta[: d * n_classes].reshape(d, n_classes)
        b = theta[d * n_classes :]
        z = x @ w + b
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1, keepdims=True))
        log_p = z - log_norm
        loss = -float((onehot * log_p).sum()) + 0.5 * lam * float((w * w).sum())
        residual = np.exp(log_p) - onehot
        grad_w = x.T @ residual + lam * w
        grad_b = residual.sum(axis=0)
        return loss, np.concatenate([grad_w.ravel(), grad_b])

    start = np.zeros(d * n_classes + n_classes)
    if init is not None:
        start = np.concatenate([init.weights.ravel(), init.bias])
    theta = lbfgs(objective, start, max_iter=max_iter, tol=tol)
    return LinearModel(
        weights=theta[: d * n_classes].reshape(d, n_classes).copy(),
        bias=theta[d * n_classes :].copy(),
    )


def lbfgs(
    objective: Objective,
    theta0: FloatArray,
    *,
    max_iter: int = 500,
    tol: float = 1e-6,
    memory: int = 10,
) -> FloatArray:
    """Limited-memory BFGS with a backtracking (Armijo) line search; returns the minimiser."""
    theta = theta0.copy()
    loss, grad = objective(theta)
    s_hist: list[FloatArray] = []
    y_hist: list[FloatArray] = []
    scale = max(1.0, abs(loss))
    for _ in range(max_iter):
        if float(np.max(np.abs(grad))) <= tol * scale:
            break
        direction = _two_loop(grad, s_hist, y_hist)
        slope = _dot(grad, direction)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            direction = -grad
            slope = _dot(grad, direction)
        step = 1.0 if s_hist else 1.0 / max(1.0, float(np.linalg.norm(grad)))
        while True:
            candidate = theta + step * direction
            new_loss, new_grad = objective(candidate)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = candidate - theta, new_grad - grad
        if _dot(s, y) > 1e-10:
            s_hist.append(s)
            y_hist.append(y)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        improvement = loss - new_loss
        theta, loss, grad = candidate, new_loss, new_grad
        if 0 <= improvement <= 1e-10 * scale:
            break
    return theta


def _two_loop(grad: FloatArray, s_hist: list[FloatArray], y_hist: list[FloatArray]) -> FloatArray:
    """The L-BFGS search direction -H·grad from the stored curvature pairs."""
    q = grad.copy()
    alphas = []
    for s, y in zip(reversed(s_hist), reversed(y_hist), strict=True):
        rho = 1.0 / _dot(y, s)
        alpha = rho * _dot(s, q)
        q -= alpha * y
        alphas.append((rho, alpha))
    if s_hist:
        q *= _dot(s_hist[-1], y_hist[-1]) / _dot(y_hist[-1], y_hist[-1])
    for (s, y), (rho, alpha) in zip(
        zip(s_hist, y_hist, strict=True), reversed(alphas), strict=True
    ):
        beta = rho * _dot(y, q)
        q += (alpha - beta) * s
    return -q


def _dot(a: FloatArray, b: FloatArray) -> float:
    # Not BLAS: a multi-threaded OpenBLAS wakes its threads for every 1-D dot, which on a
    # small VM costs milliseconds per call, far more than the arithmetic.
    return float(np.multiply(a, b).sum())


def fit_temperature(logits: FloatArray, labels: IntArray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out logits."""
    best_t, best_nll = 1.0, float("inf")
    rows = np.arange(len(labels))
    for t in np.exp(np.linspace(np.log(0.05), np.log(20.0), 121)):
        nll = -float(np.log(softmax(logits, float(t))[rows, labels] + 1e-12).mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def stratified_folds(labels: IntArray, k: int, seed: int = 0) -> list[IntArray]:
    """``k`` disjoint index sets, each class spread evenly over them (seeded shuffle)."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        rng.shuffle(members)
        for i, index in enumerate(members):
            folds[(offset + i) % k].append(int(index))
        offset += len(members)
    return [np.array(sorted(f), dtype=np.int64) for f in folds]
