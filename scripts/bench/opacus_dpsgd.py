#!/usr/bin/env python3
"""Opacus's DP-SGD training throughput on this machine, for scripts/bench-dpsgd.sh (issue 21).

    opacus_dpsgd.py MODEL SAMPLES BATCH THREADS MNIST_DIR

Trains MODEL (mnist-mlp or mnist-cnn, the peer definitions of ../shared/peers/models.py) on the
first SAMPLES MNIST training images (padded to 32x32, standardised like colearn) for one epoch
of Poisson-sampled batches of expected size BATCH with Opacus 1.6's PrivacyEngine: per-sample
clipping to C = 1, noise multiplier 1.0, plain SGD at lr 0.1 — the settings `colearn train
--privacy dp-sgd` runs with in the same script. Prints one line: `opacus MODEL samples/s X`.
Never used by colearn itself.
"""
import gzip
import sys
import time

import numpy as np
import torch
from opacus import PrivacyEngine

sys.path.insert(0, "../shared/peers")
from models import make_model  # noqa: E402

name, samples, batch, threads, mnist = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)
torch.manual_seed(1)
with gzip.open(f"{mnist}/train-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:samples].astype(np.float32)
with gzip.open(f"{mnist}/train-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)[:samples].astype(np.int64)
x = np.pad(images, ((0, 0), (2, 2), (2, 2)))
x = (x - x.mean()) / x.std()
dataset = torch.utils.data.TensorDataset(torch.from_numpy(x[:, None]), torch.from_numpy(labels))
loader = torch.utils.data.DataLoader(dataset, batch_size=batch)
model = make_model(name)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
engine = PrivacyEngine()
model, optimizer, loader = engine.make_private(
    module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    poisson_sampling=True)
loss_function = torch.nn.NLLLoss()
start = time.perf_counter()
seen = 0
for data, target in loader:
    optimizer.zero_grad()
    loss = loss_function(model(data), target)
    loss.backward()
    optimizer.step()
    seen += len(target)
elapsed = time.perf_counter() - start
print(f"opacus {name} samples/s {seen / elapsed:.0f} (epsilon {engine.get_epsilon(1e-5):.3f})")
