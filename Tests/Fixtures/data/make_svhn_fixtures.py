#!/usr/bin/env python3
"""Generates the small SVHN-format MATLAB fixtures used by Tests/CoLearnDataTests/SVHNTests.swift.

Run from anywhere:  python3 Tests/Fixtures/data/make_svhn_fixtures.py
Needs numpy and scipy (scipy.io.savemat writes the reference files). Deterministic: the same
numpy/scipy versions give byte-identical output (scipy stamps the header with a creation date,
which the script overwrites with a fixed text).

Files (6 samples of 32 x 32 x 3 uint8, labels y in 1..10 with 10 meaning digit 0):
  svhn_small_uncompressed.mat  scipy, no compression; also holds a char array and a struct
                               before X, which the reader must skip
  svhn_small_compressed.mat    scipy, do_compression=True (miCOMPRESSED elements)
  svhn_small_matlab_style.mat  written by hand like MATLAB does: miCOMPRESSED elements, y of
                               class double *stored as miUINT8*, names in the small-element form
  svhn_small_bigendian.mat     written by hand, big-endian ('MI'), uncompressed, y as miDOUBLE
  svhn_small_truncated.mat     the compressed file cut inside X's zlib stream
  svhn_small_corrupt.mat       the compressed file with bytes of X's zlib stream overwritten
  svhn_small_badheader.mat     the uncompressed file with a header that is not MATLAB 5.0
  svhn_bad_label.mat           uncompressed, y holds 11
  svhn_missing_y.mat           uncompressed, only X
  svhn_small_expected.json     labels (mapped to 0..9) and reference YUV values computed here
"""
import json
import os
import struct
import zlib

import numpy as np
import scipy.io

HERE = os.path.dirname(os.path.abspath(__file__))
N = 6
HEADER_TEXT = b"MATLAB 5.0 MAT-file, Platform: colearn fixtures, Created on: 2024-01-01"

MI_INT8, MI_UINT8, MI_INT32, MI_UINT32, MI_DOUBLE, MI_MATRIX, MI_COMPRESSED = 1, 2, 5, 6, 9, 14, 15
MX_DOUBLE, MX_UINT8 = 6, 9


def make_data():
    rng = np.random.default_rng(20240101)
    # Smooth ramps plus noise: realistic enough that deflate has something to compress.
    rows, columns = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    X = np.empty((32, 32, 3, N), dtype=np.uint8)
    for n in range(N):
        for c in range(3):
            ramp = 4 * rows * (c + 1) + 3 * columns * (n + 1)
            X[:, :, c, n] = np.clip(ramp % 256 + rng.integers(0, 8, size=(32, 32)), 0, 255)
    X[0, 0, :, 0] = [255, 0, 0]      # pure red at (row 0, column 0) of sample 0
    X[0, 1, :, 0] = [0, 255, 0]      # pure green at (row 0, column 1)
    X[1, 0, :, 0] = [0, 0, 255]      # pure blue at (row 1, column 0)
    y = np.array([[10], [1], [2], [3], [9], [10]], dtype=np.float64)
    return X, y


def fix_header(path):
    """Replaces scipy's dated header text by a fixed one so the output is reproducible."""
    with open(path, "r+b") as f:
        f.write(HEADER_TEXT.ljust(116, b" "))


def savemat(name, variables, compress):
    path = os.path.join(HERE, name)
    scipy.io.savemat(path, variables, do_compression=compress, format="5", oned_as="column")
    fix_header(path)
    return path


# MARK: - hand-written MAT v5 (MATLAB's own choices)

def tagged(kind, payload, endian):
    if len(payload) <= 4 and kind != MI_MATRIX:
        word = (len(payload) << 16) | kind
        return struct.pack(endian + "I", word) + payload.ljust(4, b"\0")
    pad = (-len(payload)) % 8
    return struct.pack(endian + "II", kind, len(payload)) + payload + b"\0" * pad


def matrix(name, array_class, dims, storage, data_bytes, endian):
    flags = struct.pack(endian + "II", array_class, 0)
    body = tagged(MI_UINT32, flags, endian)
    body += tagged(MI_INT32, struct.pack(endian + "%di" % len(dims), *dims), endian)
    body += tagged(MI_INT8, name.encode(), endian)
    body += tagged(storage, data_bytes, endian)
    return struct.pack(endian + "II", MI_MATRIX, len(body)) + body


def header(endian):
    indicator = b"IM" if endian == "<" else b"MI"
    version = struct.pack(endian + "H", 0x0100)
    return HEADER_TEXT.ljust(116, b" ") + b"\0" * 8 + version + indicator


def write_by_hand(name, X, y, endian, compress, y_storage):
    x_bytes = X.reshape(-1, order="F").tobytes()
    if y_storage == MI_UINT8:
        y_bytes = y.reshape(-1, order="F").astype(np.uint8).tobytes()
    else:
        y_bytes = y.reshape(-1, order="F").astype(endian + "f8").tobytes()
    elements = [
        matrix("X", MX_UINT8, list(X.shape), MI_UINT8, x_bytes, endian),
        matrix("y", MX_DOUBLE, list(y.shape), y_storage, y_bytes, endian),
    ]
    out = header(endian)
    for raw in elements:
        if compress:
            packed = zlib.compress(raw, 9)
            out += struct.pack(endian + "II", MI_COMPRESSED, len(packed)) + packed
        else:
            out += raw
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(out)


def main():
    X, y = make_data()
    plain = savemat("svhn_small_uncompressed.mat",
                    {"note": "colearn fixture", "info": {"a": 1.0}, "X": X, "y": y}, False)
    packed = savemat("svhn_small_compressed.mat", {"X": X, "y": y}, True)
    write_by_hand("svhn_small_matlab_style.mat", X, y, "<", True, MI_UINT8)
    write_by_hand("svhn_small_bigendian.mat", X, y, ">", False, MI_DOUBLE)

    data = open(packed, "rb").read()
    # The first element after the 128-byte header is X's miCOMPRESSED element.
    kind, size = struct.unpack("<II", data[128:136])
    assert kind == MI_COMPRESSED, kind
    with open(os.path.join(HERE, "svhn_small_truncated.mat"), "wb") as f:
        f.write(data[: 136 + size // 2])
    corrupt = bytearray(data)
    for i in range(136 + size // 3, 136 + size // 3 + 16):
        corrupt[i] ^= 0x5A
    with open(os.path.join(HERE, "svhn_small_corrupt.mat"), "wb") as f:
        f.write(bytes(corrupt))

    bad = bytearray(open(plain, "rb").read())
    bad[0:20] = b"NOT A MATLAB FILE!!!"
    with open(os.path.join(HERE, "svhn_small_badheader.mat"), "wb") as f:
        f.write(bytes(bad))
    y_bad = y.copy()
    y_bad[2, 0] = 11
    savemat("svhn_bad_label.mat", {"X": X, "y": y_bad}, False)
    savemat("svhn_missing_y.mat", {"X": X}, False)

    # Reference values: YUV (BT.601, 0..255 scale) in channels-last [sample][row][column][c].
    rgb = np.transpose(X.astype(np.float64), (3, 0, 1, 2))  # N, row, column, channel
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    yuv = np.stack([0.299 * r + 0.587 * g + 0.114 * b,
                    -0.14713 * r - 0.28886 * g + 0.436 * b,
                    0.615 * r - 0.51499 * g - 0.10001 * b], axis=-1)
    probes = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (3, 5, 17), (5, 31, 31), (2, 16, 8)]
    expected = {
        "count": N,
        "labels": [int(v) % 10 for v in y[:, 0]],
        "probes": [{"sample": s, "row": rr, "column": c,
                    "yuv": [float(v) for v in yuv[s, rr, c]]} for s, rr, c in probes],
        "channelMeans": [float(v) for v in yuv.reshape(-1, 3).mean(axis=0)],
        "channelStds": [float(v) for v in yuv.reshape(-1, 3).std(axis=0)],
        "provenance": "make_svhn_fixtures.py, numpy %s, scipy %s" % (np.__version__,
                                                                     scipy.__version__),
    }
    with open(os.path.join(HERE, "svhn_small_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    # Self-check: scipy reads back what was written by hand.
    for name in ["svhn_small_matlab_style.mat", "svhn_small_bigendian.mat"]:
        m = scipy.io.loadmat(os.path.join(HERE, name))
        assert (m["X"] == X).all() and (m["y"] == y).all(), name


if __name__ == "__main__":
    main()
