#!/usr/bin/env python3
"""Generates the small NumPy fixtures used by Tests/CoLearnDataTests/NPYArrayTests.swift,
NPZArchiveTests.swift and LoadedSourceTests.swift.

Run from anywhere:  python3 Tests/Fixtures/data/make_numpy_fixtures.py
Needs numpy only (written with numpy 2.4.6). The values are simple formulas the Swift tests
recompute, so the tests need no Python at run time. The .npz files carry ZIP timestamps, so
rerunning changes their bytes but not their content.

  npy_f4_v1.npy        float32 [3, 2] = arange(6) * 0.5 - 1, format 1.0
  npy_f8_v2.npy        float64 [3, 2], same values, format 2.0
  npy_u1_v3.npy        uint8 [2, 2, 2] = arange(8) * 30, format 3.0
  npy_i8.npy           int64 [4] = [3, 1, 2, 3]
  npy_i4.npy           int32 [4] = [-1, 0, 7, 1000]
  npy_b1.npy           bool [3] = [True, False, True]
  npy_fortran.npy      float32 [2, 3] in Fortran order
  npy_bigendian.npy    >f4 [2]
  npy_truncated.npy    npy_f4_v1.npy without its last 5 bytes
  npz_stored.npz       np.savez: x_train uint8 [6, 2, 2] (sample n: n*10 + 0..3), y_train int64
                       [0,1,2,0,1,2], x_test uint8 [3, 2, 2] (n*10 + 100 + 0..3), y_test [2,1,0]
  npz_deflated.npz     np.savez_compressed: x float64 [4, 3] = arange(12) / 4, y int32 [5,7,5,7]
  npz_missing_y.npz    np.savez_compressed: only x_train
  npz_zip64.npz        written by hand, stored, ZIP64 directory: x float32 [[1, 2], [3, 4]], y [0, 1]
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


def write(name, array, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


values = (np.arange(6) * 0.5 - 1).reshape(3, 2)
write("npy_f4_v1.npy", values.astype("<f4"), (1, 0))
write("npy_f8_v2.npy", values.astype("<f8"), (2, 0))
write("npy_u1_v3.npy", (np.arange(8) * 30).astype("u1").reshape(2, 2, 2), (3, 0))
write("npy_i8.npy", np.array([3, 1, 2, 3], dtype="<i8"), (1, 0))
write("npy_i4.npy", np.array([-1, 0, 7, 1000], dtype="<i4"), (1, 0))
write("npy_b1.npy", np.array([True, False, True]), (1, 0))
write("npy_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)), (1, 0))
write("npy_bigendian.npy", np.array([1, 2], dtype=">f4"), (1, 0))
with open(path("npy_f4_v1.npy"), "rb") as f:
    whole = f.read()
with open(path("npy_truncated.npy"), "wb") as f:
    f.write(whole[:-5])

x_train = np.array([[n * 10 + k for k in range(4)] for n in range(6)], dtype="u1").reshape(6, 2, 2)
y_train = np.array([0, 1, 2, 0, 1, 2], dtype="<i8")
x_test = np.array([[n * 10 + 100 + k for k in range(4)] for n in range(3)], dtype="u1").reshape(3, 2, 2)
y_test = np.array([2, 1, 0], dtype="<i8")
np.savez(path("npz_stored.npz"), x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
np.savez_compressed(
    path("npz_deflated.npz"),
    x=(np.arange(12) / 4).reshape(4, 3).astype("<f8"),
    y=np.array([5, 7, 5, 7], dtype="<i4"))
np.savez_compressed(path("npz_missing_y.npz"), x_train=x_train)


def zip64_archive(entries):
    """A stored ZIP written by hand whose central directory saturates every size and offset
    field (0xFFFFFFFF) and gives them in ZIP64 extra fields, with a ZIP64 end record and
    locator: the layout of archives over 4 GiB, in a few hundred bytes."""
    import struct
    import zlib
    out = b""
    directory = b""
    for name, data in entries:
        name = name.encode()
        crc = zlib.crc32(data)
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, len(data), len(data),
                           len(name), 0) + name + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc,
                                 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0,
                                 0xFFFFFFFF) + name + extra
    start = len(out)
    out += directory
    record = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                       len(directory), start)
    out += struct.pack("<IIQI", 0x07064B50, 0, record, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return out


def npy_bytes(array):
    import io
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=(1, 0))
    return buffer.getvalue()


with open(path("npz_zip64.npz"), "wb") as f:
    f.write(zip64_archive([
        ("x.npy", npy_bytes(np.array([[1, 2], [3, 4]], dtype="<f4"))),
        ("y.npy", npy_bytes(np.array([0, 1], dtype="<i8"))),
    ]))
check = np.load(path("npz_zip64.npz"))
assert check["x"].tolist() == [[1, 2], [3, 4]] and check["y"].tolist() == [0, 1]
