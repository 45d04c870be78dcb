#!/usr/bin/env python3
"""Golden fixture for SubtractiveNormalization (Tests/CoLearnNNTests/SubtractiveNormalizationTests.swift).

Provenance: a NumPy port of the peer reference /work/shared/peers/models.py `SubtractiveNorm` (Torch7
nn.SpatialSubtractiveNormalization(C, image.gaussian1D(7))): horizontal zero-padded pass of g/C summed over channels,
vertical pass of g, divided by the same two passes applied to an all-ones image (border correction), subtracted from
every channel. The peer uses PyTorch, which is not installed here; when it is, this script also runs the peer module on
a square input and asserts agreement with the port.

Layout: NHWC (colearn is channels-last), input 2x7x9x3 with seeded uniform(-1, 1) float32 values; the output is
computed in float64. Run from the repository root:  python3 Tests/Fixtures/nn/make_subtractive_norm.py
Writes Tests/Fixtures/nn/subtractive_norm.json.
"""
import json
import math
import os

import numpy as np


def gaussian1d(size=7, sigma=0.25):
    # Torch7 image.gaussian1D(size): amplitude 1, mean 0.5, sigma 0.25, both relative to the size.
    center = 0.5 * size + 0.5
    return np.array([math.exp(-(((i - center) / (sigma * size)) ** 2) / 2) for i in range(1, size + 1)])


def correlate_rows(plane, g):
    """Zero-padded 'same' correlation of every row (last axis) with g (odd length)."""
    pad = len(g) // 2
    padded = np.pad(plane, [(0, 0)] * (plane.ndim - 1) + [(pad, pad)])
    width = plane.shape[-1]
    return sum(g[j] * padded[..., j:j + width] for j in range(len(g)))


def subtractive_norm_nhwc(x, size=7):
    """x: (B, H, W, C) float64 -> (B, H, W, C)."""
    g = gaussian1d(size)
    g = g / g.sum()
    b, h, w, c = x.shape
    mean = x.sum(axis=3) / c                                     # (B, H, W)
    m = correlate_rows(mean, g)                                  # horizontal pass
    m = np.swapaxes(correlate_rows(np.swapaxes(m, 1, 2), g), 1, 2)  # vertical pass
    ones = np.ones((1, h, w))
    coef = correlate_rows(ones, g)
    coef = np.swapaxes(correlate_rows(np.swapaxes(coef, 1, 2), g), 1, 2)
    return x - (m / coef)[..., None]


def subtractive_norm_direct(x, size=7):
    """The textbook definition, one output at a time: m(h, w) = sum over in-image taps of g_i g_j x_c / (C mass)."""
    g = gaussian1d(size)
    g = g / g.sum()
    pad = size // 2
    b, h, w, c = x.shape
    y = np.empty_like(x)
    for n in range(b):
        for r in range(h):
            for s in range(w):
                total, mass = 0.0, 0.0
                for i in range(size):
                    for j in range(size):
                        rr, ss = r + i - pad, s + j - pad
                        if 0 <= rr < h and 0 <= ss < w:
                            total += g[i] * g[j] * x[n, rr, ss, :].sum()
                            mass += g[i] * g[j]
                y[n, r, s, :] = x[n, r, s, :] - total / (c * mass)
    return y


def cross_check_with_peer():
    try:
        import sys
        import torch
        sys.path.insert(0, "/work/shared/peers")
        from models import SubtractiveNorm
    except ImportError:
        print("torch or the peer models.py not available: skipping the cross-check with the peer module")
        return
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(2, 3, 8, 8))                    # NCHW, square (the peer assumes H == W)
    peer = SubtractiveNorm(3, 8).double()(torch.from_numpy(x)).detach().numpy()
    ours = subtractive_norm_nhwc(np.transpose(x, (0, 2, 3, 1)))
    assert np.allclose(np.transpose(ours, (0, 3, 1, 2)), peer, atol=1e-12), "port disagrees with the peer"
    print("cross-check with the peer SubtractiveNorm passed")


def main():
    cross_check_with_peer()
    rng = np.random.default_rng(20240601)
    shape = (2, 7, 9, 3)
    x = rng.uniform(-1, 1, size=shape).astype(np.float32)
    y = subtractive_norm_nhwc(x.astype(np.float64))
    assert np.allclose(y, subtractive_norm_direct(x.astype(np.float64)), atol=1e-12), "separable != direct"
    fixture = {
        "provenance": "Tests/Fixtures/nn/make_subtractive_norm.py (NumPy port of peers/models.py SubtractiveNorm)",
        "shape": list(shape),
        "kernelSize": 7,
        "input": [float(v) for v in x.ravel()],
        "output": [round(float(v), 9) for v in y.ravel()],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "subtractive_norm.json")
    with open(path, "w") as f:
        json.dump(fixture, f)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
