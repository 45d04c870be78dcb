#!/usr/bin/env python3
"""Cross-check of `colearn audit`'s loss-threshold attack with outside tools (issue 22).

Reads what `colearn audit --save-model` writes into its --out directory:

* model.safetensors — the final global model (read with the `safetensors` package),
* candidates.csv    — member 0/1, label and the features exactly as the model reads them,
* audit.json        — colearn's own numbers,

runs the model's forward pass in NumPy (Linear layers with ReLU between them and a log-softmax
at the end: the mnist-mlp and tabular-mlp presets; anything else is refused), scores every
candidate by log p(y | x) (the negated loss) and computes the ROC AUC with scikit-learn's
roc_auc_score. Prints both AUCs and their difference.

Not used by the product: it exists to check colearn's attack against independent code once
(docs/results/privacy-audit/crosscheck.md records the result). Needs numpy, safetensors and
scikit-learn (1.9.1 was used):

    colearn audit --out /tmp/audit --save-model --participants 3 --shard-size 600 --rounds 3
    python3 scripts/audit-crosscheck.py /tmp/audit
"""
import json
import re
import sys

import numpy as np
from safetensors.numpy import load_file
from sklearn.metrics import roc_auc_score


def layers(tensors):
    """The (weight, bias) pairs in layer order, from colearn's tensor names."""
    def index(name):
        match = re.search(r"(\d+)", name)
        return int(match.group(1)) if match else -1

    weights = sorted((k for k in tensors if k.endswith("weight")), key=index)
    pairs = []
    for name in weights:
        bias = name[: -len("weight")] + "bias"
        if bias not in tensors:
            sys.exit(f"{name} has no {bias}: not a stack of Linear layers")
        pairs.append((tensors[name].astype(np.float64), tensors[bias].astype(np.float64)))
    if not pairs or any(w.ndim != 2 for w, _ in pairs):
        sys.exit(f"tensors {sorted(tensors)}: expected Linear weights [outputs, inputs]")
    return pairs


def log_probabilities(pairs, features):
    activation = features
    for position, (weight, bias) in enumerate(pairs):
        activation = activation @ weight.T + bias
        if position < len(pairs) - 1:
            activation = np.maximum(activation, 0)
    shifted = activation - activation.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: audit-crosscheck.py AUDIT_OUT_DIR (written by colearn audit --save-model)")
    directory = sys.argv[1]
    tensors = load_file(f"{directory}/model.safetensors")
    table = np.loadtxt(f"{directory}/candidates.csv", delimiter=",", skiprows=1, ndmin=2)
    member, labels, features = table[:, 0], table[:, 1].astype(int), table[:, 2:]
    with open(f"{directory}/audit.json") as handle:
        audit = json.load(handle)
    pairs = layers(tensors)
    if pairs[0][0].shape[1] != features.shape[1]:
        sys.exit(f"first layer reads {pairs[0][0].shape[1]} values, candidates have {features.shape[1]}")
    scores = log_probabilities(pairs, features)[np.arange(len(labels)), labels]
    ours = roc_auc_score(member, scores)
    theirs = audit["modelUser"]["auc"]
    print(f"candidates: {int(member.sum())} members, {int((1 - member).sum())} non-members")
    print(f"scikit-learn roc_auc_score (NumPy forward pass): {ours:.12f}")
    print(f"colearn audit (audit.json modelUser.auc):        {theirs:.12f}")
    print(f"difference: {abs(ours - theirs):.3g}")


if __name__ == "__main__":
    main()
