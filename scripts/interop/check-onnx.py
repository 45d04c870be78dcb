#!/usr/bin/env python3
"""Checks an ONNX model written by `colearn export` against `colearn predict` (issue 18).

    check-onnx.py MODEL.onnx PREDICTIONS.csv DATA [--batch-size B] [--tolerance T]

DATA is the raw data colearn predicted on, read here as a user of the ONNX model would:
  mnist:DIR   the MNIST test images DIR/t10k-images-idx3-ubyte.gz (28x28, values 0-255)
  npz:FILE    x_test (else x) of a NumPy archive
  csv:FILE    a CSV table, encoded with the schema in the model's metadata (numeric columns
              raw, categorical ones one-hot in the schema's category order)
PREDICTIONS.csv is `colearn predict --log-probabilities` on the same data with --batch-size B.

It runs onnx.checker (full check, with shape inference), feeds ONNX Runtime the same batches as
colearn (a lone last sample joins the batch before it: batch-normalised models depend on the
batch), and requires the same predicted class for every sample and log-probabilities within
--tolerance (default 1e-4). Exit status 0 on agreement, 1 with the first disagreement named.
Used by the interoperability tests and by hand; never by colearn itself.
"""
import argparse
import csv
import gzip
import json
import sys

import numpy as np
import onnx
import onnxruntime


def raw_inputs(spec, model, input_shape):
    kind, _, path = spec.partition(":")
    if kind == "mnist":
        with gzip.open(f"{path}/t10k-images-idx3-ubyte.gz", "rb") as f:
            data = f.read()
        count = int.from_bytes(data[4:8], "big")
        return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 28, 28).astype(np.float32)
    if kind == "npz":
        archive = np.load(path)
        x = archive["x_test"] if "x_test" in archive else archive["x"]
        return x.astype(np.float32).reshape([x.shape[0]] + input_shape)
    if kind == "csv":
        metadata = {entry.key: entry.value for entry in model.metadata_props}
        schema = json.loads(metadata["colearn.schema"])
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        width = schema["inputShape"][0]
        x = np.zeros((len(rows), width), dtype=np.float32)
        for r, row in enumerate(rows):
            for column in schema["features"]:
                cell = row[column["name"]]
                if column["kind"] == "numeric":
                    x[r, column["offset"]] = float(cell)
                else:
                    x[r, column["offset"] + column["categories"].index(cell)] = 1.0
        return x
    sys.exit(f"check-onnx: unknown data '{spec}' (mnist:DIR, npz:FILE or csv:FILE)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("predictions")
    parser.add_argument("data")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    graph_input = model.graph.input[0]
    input_shape = [d.dim_value for d in graph_input.type.tensor_type.shape.dim[1:]]
    x = raw_inputs(args.data, model, input_shape)

    with open(args.predictions, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    columns = [i for i, name in enumerate(header) if name.startswith("logp_")]
    expected = np.array([[float(row[i]) for i in columns] for row in rows], dtype=np.float64)
    if len(rows) != x.shape[0]:
        sys.exit(f"check-onnx: {len(rows)} predictions but {x.shape[0]} samples in {args.data}")

    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    outputs = []
    start = 0
    while start < x.shape[0]:
        size = min(args.batch_size, x.shape[0] - start)
        if x.shape[0] - start - size == 1:
            size += 1
        log_p, p = session.run(["log_probabilities", "probabilities"], {graph_input.name: x[start:start + size]})
        if not np.allclose(np.exp(log_p), p, rtol=1e-5, atol=1e-7):
            sys.exit("check-onnx: 'probabilities' is not exp('log_probabilities')")
        outputs.append(log_p)
        start += size
    actual = np.concatenate(outputs).astype(np.float64)

    difference = np.abs(actual - expected)
    agree = actual.argmax(axis=1) == expected.argmax(axis=1)
    worst = np.unravel_index(difference.argmax(), difference.shape)
    print(
        f"check-onnx: {x.shape[0]} samples, input '{graph_input.name}' {list(x.shape[1:])}, opset "
        f"{model.opset_import[0].version}: same class for {agree.sum()}/{len(agree)}, max |Δ log p| = "
        f"{difference.max():.3g} (sample {worst[0] + 1}, class {header[columns[worst[1]]][5:]})")
    if not agree.all():
        first = int(np.argmin(agree))
        sys.exit(f"check-onnx: sample {first + 1}: ONNX Runtime predicts class {actual[first].argmax()}, "
                 f"colearn {expected[first].argmax()}")
    if difference.max() > args.tolerance:
        sys.exit(f"check-onnx: log-probabilities differ by {difference.max():.3g} > {args.tolerance}")


if __name__ == "__main__":
    main()
