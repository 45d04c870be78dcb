#!/usr/bin/env python3
"""Golden values for colearn's Rényi-DP accountant (Sources/CoLearnPrivacy/Accounting).

Computes, for a grid of (q, sigma, steps, delta), the epsilon of `steps` Poisson-sampled Gaussian steps
(sampling rate q, noise multiplier sigma, add/remove-one neighbours) with the two reference implementations:

  * Opacus 1.6.0: opacus.accountants.RDPAccountant (its DEFAULT_ALPHAS), get_epsilon(delta);
  * dp-accounting 0.6.0: dp_accounting.rdp.RdpAccountant fed
    SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), steps), get_epsilon(delta),
    once with Opacus's orders (same orders as Opacus, so the two are comparable one to one) and once with
    dp-accounting's own DEFAULT_RDP_ORDERS (adds 11 and 128..1024), once with the integer orders of
    Opacus's list only (where both references sum the same finite binomial expansion), and once with its
    fractional-order series patched to Opacus's signed coefficients and up to 1e5 terms (to show that
    those two are the whole difference between the references);

plus the per-order RDP of one step for a few (q, sigma) (Opacus's compute_rdp), and the noise multiplier
from Opacus's get_noise_multiplier for a few targets, with its default epsilon_tolerance (0.01) and with a
fine one (1e-4).

Python is used here only: the Swift tests read the JSON this writes. Run from anywhere (CPU torch, opacus and
dp-accounting pip-installed):

    python3 scripts/golden/privacy-accountant.py

Writes Tests/Fixtures/privacy/rdp_accountant.json.
"""
import json
import math
import os
import warnings

from absl import logging

import dp_accounting
import opacus
from dp_accounting import dp_event
from dp_accounting.rdp import rdp_privacy_accountant
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis import rdp as opacus_rdp
from opacus.accountants.utils import get_noise_multiplier
from scipy import special

warnings.filterwarnings("ignore")  # Opacus warns when the optimal order is at the end of the list
# dp-accounting logs each fractional order whose series does not converge within 1000 terms (q = 0.1 with
# small sigma at orders below about 1.6); it excludes those orders, and so does colearn.
logging.set_verbosity(logging.ERROR)

SAMPLING_RATES = [0.001, 0.01, 0.1, 1.0]
NOISE_MULTIPLIERS = [0.5, 0.8, 1.1, 2.0, 5.0]
STEPS = [1, 100, 10000]
DELTAS = [1e-5, 1e-6]
OPACUS_ORDERS = RDPAccountant.DEFAULT_ALPHAS
DP_ACCOUNTING_ORDERS = rdp_privacy_accountant.DEFAULT_RDP_ORDERS
# The integer orders of Opacus's list (2..10, 12..63): there both references sum the same finite binomial
# expansion, so they agree with each other (and with colearn) to rounding.
INTEGER_ORDERS = [a for a in OPACUS_ORDERS if float(a).is_integer()]


def opacus_epsilon(q, sigma, steps, delta):
    accountant = RDPAccountant()
    accountant.history = [(sigma, q, steps)]
    eps, order = accountant.get_privacy_spent(delta=delta)
    return float(eps), float(order)


def dp_accounting_epsilon(q, sigma, steps, delta, orders):
    accountant = rdp_privacy_accountant.RdpAccountant(orders=orders)
    event = dp_event.SelfComposedDpEvent(
        dp_event.PoissonSampledDpEvent(q, dp_event.GaussianDpEvent(sigma)), steps)
    accountant.compose(event)
    eps, order = accountant.get_epsilon_and_optimal_order(delta)
    # Orders whose fractional series did not converge in 1000 terms get RDP = inf (excluded).
    excluded = [float(a) for a, r in zip(orders, accountant.rdp) if r == float("inf")]
    return float(eps), float(order), excluded


def signed_log_a_frac(q, sigma, alpha):
    """dp-accounting's _compute_log_a_frac with the two differences from Opacus removed: signed generalized
    binomial coefficients (dp-accounting adds |C(alpha, i)|, a looser bound) and up to 1e5 terms (it gives up
    after 1000 and excludes the order). Used only to show that those two are the whole difference."""
    pos0 = pos1 = neg0 = neg1 = -math.inf
    z0 = sigma**2 * math.log(1 / q - 1) + 0.5
    last0 = last1 = -math.inf
    for i in range(100000):
        coef = special.binom(alpha, i)
        log_coef = math.log(abs(coef))
        j = alpha - i
        log_t0 = log_coef + i * math.log(q) + j * math.log1p(-q)
        log_t1 = log_coef + j * math.log(q) + i * math.log1p(-q)
        log_e0 = math.log(0.5) + rdp_privacy_accountant._log_erfc((i - z0) / (math.sqrt(2) * sigma))
        log_e1 = math.log(0.5) + rdp_privacy_accountant._log_erfc((z0 - j) / (math.sqrt(2) * sigma))
        s0 = log_t0 + (i * i - i) / (2 * sigma**2) + log_e0
        s1 = log_t1 + (j * j - j) / (2 * sigma**2) + log_e1
        if coef > 0:
            pos0, pos1 = rdp_privacy_accountant._log_add(pos0, s0), rdp_privacy_accountant._log_add(pos1, s1)
        else:
            neg0, neg1 = rdp_privacy_accountant._log_add(neg0, s0), rdp_privacy_accountant._log_add(neg1, s1)
        if s0 < last0 and s1 < last1 and max(s0, s1) < -30:
            break
        last0, last1 = s0, s1
    pos = rdp_privacy_accountant._log_add(pos0, pos1)
    neg = rdp_privacy_accountant._log_add(neg0, neg1)
    return pos if neg == -math.inf else pos + math.log1p(-math.exp(neg - pos))


def dp_accounting_signed_epsilon(q, sigma, steps, delta):
    original = rdp_privacy_accountant._compute_log_a_frac
    rdp_privacy_accountant._compute_log_a_frac = signed_log_a_frac
    try:
        return dp_accounting_epsilon(q, sigma, steps, delta, OPACUS_ORDERS)[0]
    finally:
        rdp_privacy_accountant._compute_log_a_frac = original


def main():
    cases = []
    for q in SAMPLING_RATES:
        for sigma in NOISE_MULTIPLIERS:
            for steps in STEPS:
                for delta in DELTAS:
                    o_eps, o_order = opacus_epsilon(q, sigma, steps, delta)
                    d_eps, d_order, excluded = dp_accounting_epsilon(q, sigma, steps, delta, OPACUS_ORDERS)
                    dd_eps, dd_order, _ = dp_accounting_epsilon(q, sigma, steps, delta, DP_ACCOUNTING_ORDERS)
                    di_eps, _, _ = dp_accounting_epsilon(q, sigma, steps, delta, INTEGER_ORDERS)
                    ds_eps = dp_accounting_signed_epsilon(q, sigma, steps, delta)
                    cases.append({
                        "q": q, "sigma": sigma, "steps": steps, "delta": delta,
                        "opacusEpsilon": o_eps, "opacusOrder": o_order,
                        "dpAccountingEpsilon": d_eps, "dpAccountingOrder": d_order,
                        "dpAccountingExcludedOrders": excluded if sigma > 0 and q < 1 else [],
                        "dpAccountingDefaultOrdersEpsilon": dd_eps, "dpAccountingDefaultOrdersOrder": dd_order,
                        "dpAccountingIntegerOrdersEpsilon": di_eps,
                        "dpAccountingSignedSeriesEpsilon": ds_eps,
                    })

    rdp_curves = []
    for q, sigma in [(0.01, 1.1), (0.001, 5.0), (0.1, 0.5), (0.5, 2.0)]:
        values = opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=OPACUS_ORDERS)
        rdp_curves.append({"q": q, "sigma": sigma, "orders": list(map(float, OPACUS_ORDERS)),
                           "rdp": [float(v) for v in values]})

    calibrations = []
    for target, delta, q, steps in [(1.0, 1e-5, 256 / 60000, 2344), (2.0, 1e-5, 256 / 60000, 2344),
                                    (8.0, 1e-5, 256 / 60000, 2344), (4.0, 1e-5, 0.01, 1000),
                                    (0.5, 1e-6, 0.001, 10000), (3.0, 1e-5, 1.0, 10)]:
        coarse = get_noise_multiplier(target_epsilon=target, target_delta=delta, sample_rate=q, steps=steps)
        fine = get_noise_multiplier(target_epsilon=target, target_delta=delta, sample_rate=q, steps=steps,
                                    epsilon_tolerance=1e-4)
        calibrations.append({"targetEpsilon": target, "delta": delta, "q": q, "steps": steps,
                             "opacusSigma": float(coarse), "opacusSigmaFine": float(fine),
                             "opacusEpsilonAtFine": opacus_epsilon(q, fine, steps, delta)[0]})

    fixture = {
        "provenance": "scripts/golden/privacy-accountant.py with opacus %s and dp-accounting %s"
                      % (opacus.__version__, getattr(dp_accounting, "__version__", "0.6.0")),
        "opacusOrders": list(map(float, OPACUS_ORDERS)),
        "dpAccountingOrders": list(map(float, DP_ACCOUNTING_ORDERS)),
        "integerOrders": list(map(float, INTEGER_ORDERS)),
        "cases": cases,
        "rdpCurves": rdp_curves,
        "calibrations": calibrations,
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "Tests", "Fixtures", "privacy", "rdp_accountant.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote %s: %d cases, %d RDP curves, %d calibrations" % (path, len(cases), len(rdp_curves),
                                                                   len(calibrations)))


if __name__ == "__main__":
    main()
