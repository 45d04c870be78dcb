#!/usr/bin/env python3
"""Summarise gemm_shapes CSV rows (from run.sh) into markdown tables.

usage: python3 summarize.py results/raw.csv [--quiet-max 0.5]

Per (shape, candidate, threads):
  best GF/s  = max over all passes of the fastest batch
  median us  = median over passes of each pass's median batch
  quiet      = same median, but only over measurements during which other processes used
               < --quiet-max CPUs ("foreign" column); '-' if there were none
"""
import csv, statistics, sys
from collections import defaultdict

path = sys.argv[1]
qmax = float(sys.argv[sys.argv.index("--quiet-max") + 1]) if "--quiet-max" in sys.argv else 0.5
rows = list(csv.DictReader(open(path)))
order_shapes, order_libs = [], []
d = defaultdict(list)
for r in rows:
    if r["shape"] not in order_shapes: order_shapes.append(r["shape"])
    if r["lib"] not in order_libs: order_libs.append(r["lib"])
    d[(r["shape"], r["lib"], int(r["thr"]))].append(r)

core = {r["lib"]: r["core"] for r in rows}
passes = sorted({r["pass"] for r in rows})
fg = [float(r["foreign"]) for r in rows]
print(f"passes: {len(passes)}; rows: {len(rows)}; other processes' CPU use during measurements: "
      f"median {statistics.median(fg):.2f}, min {min(fg):.2f}, max {max(fg):.2f} CPUs; "
      f"quiet (< {qmax}) rows: {sum(f < qmax for f in fg)}\n")
print("candidates: " + ", ".join(f"{l} (kernel {core[l]})" for l in order_libs) + "\n")

def stat(shape, lib, thr):
    rs = d.get((shape, lib, thr), [])
    if not rs: return None
    best = max(float(r["gf_best"]) for r in rs)
    best_us = min(float(r["best_us"]) for r in rs)
    med = statistics.median(float(r["median_us"]) for r in rs)
    q = [float(r["median_us"]) for r in rs if float(r["foreign"]) < qmax]
    return best, best_us, med, (statistics.median(q) if q else None), statistics.median(float(r["cpu_per_wall"]) for r in rs)

def fmt_us(x):
    return "-" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")

print("### best GF/s, 1 thread / 2 threads (max over passes)\n")
print("| shape | " + " | ".join(order_libs) + " |")
print("|---|" + "---|" * len(order_libs))
for s in order_shapes:
    cells = []
    for l in order_libs:
        a, b = stat(s, l, 1), stat(s, l, 2)
        cells.append(f"{a[0]:.1f} / {b[0]:.1f}" if a and b else "-")
    print(f"| {s} | " + " | ".join(cells) + " |")

print("\n### microseconds per call: best / median over passes, 1 thread | 2 threads\n")
print("| shape | " + " | ".join(order_libs) + " |")
print("|---|" + "---|" * len(order_libs))
for s in order_shapes:
    cells = []
    for l in order_libs:
        a, b = stat(s, l, 1), stat(s, l, 2)
        cells.append(f"{fmt_us(a[1])}/{fmt_us(a[2])} \\| {fmt_us(b[1])}/{fmt_us(b[2])}" if a and b else "-")
    print(f"| {s} | " + " | ".join(cells) + " |")

print("\n### 1 vs 2 threads per candidate: ratio best_us(2 thr) / best_us(1 thr) (< 1: 2 threads faster); "
      "cpu/wall of the 2-thread median batch in brackets\n")
print("| shape | " + " | ".join(order_libs) + " |")
print("|---|" + "---|" * len(order_libs))
for s in order_shapes:
    cells = []
    for l in order_libs:
        a, b = stat(s, l, 1), stat(s, l, 2)
        cells.append(f"{b[1] / a[1]:.2f} ({b[4]:.1f})" if a and b else "-")
    print(f"| {s} | " + " | ".join(cells) + " |")
