#!/usr/bin/env python3
"""Loads a colearn mnist-cnn model file into the equivalent torch.nn.Sequential and compares it
with `colearn predict --log-probabilities` on the MNIST test images (issue 18).

    check-torch-mnist-cnn.py MODEL.safetensors PREDICTIONS.csv MNIST_DIR

Needs torch (CPU wheels: pip install torch --index-url https://download.pytorch.org/whl/cpu)
and safetensors; not part of CI, which cannot rely on that index. Prints how many classes agree
and the largest log-probability difference; exit status 1 if any class differs or the
difference exceeds 1e-4.
"""
import csv
import gzip
import json
import sys

import numpy as np
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file

model_path, predictions, mnist = sys.argv[1:4]
# mnist-cnn (colearn model show mnist-cnn), layer for layer: index I holds I.weight/I.bias.
net = nn.Sequential(
    nn.Conv2d(1, 32, 5), nn.Tanh(), nn.MaxPool2d(3, 3), nn.Conv2d(32, 64, 5), nn.Tanh(),
    nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(256, 200), nn.Tanh(), nn.Linear(200, 10),
    nn.LogSoftmax(dim=1))
net.load_state_dict(load_file(model_path))
with safe_open(model_path, "np") as f:
    normalization = json.loads(f.metadata()["colearn.schema"])["normalization"]
with gzip.open(f"{mnist}/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28).astype(np.float32)
# As colearn's mnist source: pad to 32x32 with zeros, then standardise.
x = np.pad(images, ((0, 0), (2, 2), (2, 2)))
x = (x - normalization["mean"][0]) / normalization["standardDeviation"][0]
with torch.no_grad():
    actual = net(torch.from_numpy(x[:, None])).numpy().astype(np.float64)
rows = list(csv.reader(open(predictions)))
columns = [i for i, name in enumerate(rows[0]) if name.startswith("logp_")]
expected = np.array([[float(r[i]) for i in columns] for r in rows[1:]])
same = int((actual.argmax(1) == expected.argmax(1)).sum())
difference = float(np.abs(actual - expected).max())
print(f"check-torch: same class for {same}/{len(expected)}, max |Δ log p| = {difference:.3g}")
sys.exit(0 if same == len(expected) and difference <= 1e-4 else 1)
