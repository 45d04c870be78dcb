#!/usr/bin/env python3
"""Golden values for colearn's audit metrics and canary bound (Sources/CoLearnAudit).

1. ROC AUC with scikit-learn's roc_auc_score, and TPR at 1% / 0.1% FPR as the largest TPR of
   roc_curve(..., drop_intermediate=False) among the points with FPR <= the rate (the convention of
   Carlini et al.'s LiRA code), on score sets with many ties.
2. The one-run canary p-value and epsilon lower bound (Steinke, Nasr & Jagielski 2023, Theorems 3.1
   and 5.2), written here independently with scipy.stats.binom and scipy.optimize.brentq.

Python is used here only: Tests/CoLearnAuditTests pin the printed values. Run from anywhere with
scikit-learn and scipy pip-installed (scikit-learn 1.9.1, scipy 1.17.1 wrote the pinned values):

    python3 scripts/golden/audit-metrics.py
"""
import math

import numpy as np
import scipy.optimize
import scipy.stats
from sklearn.metrics import roc_auc_score, roc_curve

# The same sets are built in Tests/CoLearnAuditTests/MembershipMetricsTests.swift.
SETS = {
    "hand": ([0.9, 0.8, 0.8, 0.7, 0.5, 0.5, 0.3], [0.8, 0.6, 0.5, 0.5, 0.4, 0.2, 0.1, 0.1]),
    "modular": (
        [((i * 7919) % 1009) / 8.0 for i in range(500)],
        [((i * 104729) % 997) / 10.0 for i in range(2000)],
    ),
}


def tpr_at(fpr, tpr, rate):
    return float(np.max(tpr[fpr <= rate]))


print("ROC (name auc tpr@1% tpr@0.1%)")
for name, (members, non_members) in SETS.items():
    y = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    s = np.r_[members, non_members]
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    print(f"{name} {roc_auc_score(y, s)!r} {tpr_at(fpr, tpr, 0.01)!r} {tpr_at(fpr, tpr, 0.001)!r}")


def p_value(m, r, v, eps, delta):
    """P[Binomial(r, q) >= v] + 2 m delta max_i P[v - i <= Binomial(r, q) < v] / i."""
    if v == 0:
        return 1.0
    q = math.exp(eps) / (1 + math.exp(eps)) if eps < 700 else 1.0
    tail = scipy.stats.binom.sf(v - 1, r, q)
    if delta == 0:
        return min(tail, 1.0)
    pmf = scipy.stats.binom.pmf(np.arange(v - 1, -1, -1), r, q)  # v-1, v-2, ..., 0
    worst = np.max(np.cumsum(pmf) / np.arange(1, v + 1))
    return min(tail + 2 * m * delta * worst, 1.0)


def lower_bound(m, r, v, delta, beta):
    f = lambda eps: p_value(m, r, v, eps, delta) - beta
    if f(0) >= 0:
        return 0.0
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return scipy.optimize.brentq(f, 0, hi, xtol=1e-12)


print("canary (m r v delta beta p(eps=1) lower-bound)")
for m, r, v, delta, beta in [
    (1000, 1000, 1000, 0.0, 0.05),
    (1000, 100, 90, 0.0, 0.05),
    (1000, 100, 90, 1e-5, 0.05),
    (10000, 2000, 1400, 1e-5, 0.05),
    (500, 500, 260, 0.0, 0.05),
]:
    print(f"{m} {r} {v} {delta!r} {beta!r} {float(p_value(m, r, v, 1.0, delta))!r} {float(lower_bound(m, r, v, delta, beta))!r}")
