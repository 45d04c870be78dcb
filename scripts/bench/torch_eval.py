"""Evaluation throughput of the paper's four models in PyTorch (CPU, no_grad forward at batch 1000 on
random data), the peer protocol of ../shared/peers/train_bench.py's bench_eval, without its training
runs. Prints one line per thread count and model: `torch THREADS MODEL SAMPLES_PER_S`.
Usage: python3 scripts/bench/torch_eval.py [--threads 2,1] [--models mnist-mlp,...] [--peers DIR]"""
import argparse
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--threads", default="2,1")
ap.add_argument("--models", default="mnist-mlp,svhn-mlp,mnist-cnn,svhn-cnn")
ap.add_argument("--peers", default=os.path.join(os.path.dirname(__file__), "../../../shared/peers"))
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.peers))

import torch  # noqa: E402
import train_bench  # noqa: E402

with torch.no_grad():
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for name in args.models.split(","):
            rate = train_bench.bench_eval(name)["samples_per_s"]
            print(f"torch {threads} {name} {rate:.0f}", flush=True)
