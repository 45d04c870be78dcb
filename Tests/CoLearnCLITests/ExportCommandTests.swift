import CoLearnTestSupport
import Foundation
import Testing

/// `colearn export` (issue 18) checked by the real consumers: for (a) mnist-cnn trained a few
/// epochs, (b) a file-defined tabular MLP with a categorical column and (c) a model with every
/// layer kind, batch normalisation and both poolings among them, onnx.checker accepts the
/// exported file and ONNX Runtime, fed the raw data in the batches `colearn predict` used, gives
/// the same class for every sample and log-probabilities within 1e-4
/// (`scripts/interop/check-onnx.py`). NumPy reads the `.npz` export. In CI the Python packages
/// are installed by .ci/run and these tests must not skip.
@Suite struct ExportCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  static let checkScript = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("scripts/interop/check-onnx.py")

  /// A model with every layer kind for the 8×8 digits.
  static let digitsModel = """
    name = "digits-every-layer"
    input = [8, 8, 1]
    classes = 10
    layers = [
      { type = "conv2d", channels = 6, kernel = 3, stride = 1, padding = 1 },
      { type = "batchnorm", per_channel = true },
      { type = "relu" },
      { type = "subtractive-norm", kernel = 3 },
      { type = "maxpool", size = 2, stride = 2 },
      { type = "conv2d", channels = 8, kernel = 3, stride = 1, padding = 1 },
      { type = "sigmoid" },
      { type = "l2pool", size = 2, stride = 2 },
      { type = "flatten" },
      { type = "linear", outputs = 16 },
      { type = "batchnorm" },
      { type = "tanh" },
      { type = "linear", outputs = 10 },
      { type = "log-softmax" },
    ]
    """

  enum Case: String, CaseIterable, CustomTestStringConvertible {
    case mnistCNN = "mnist-cnn", tabularMLP = "tabular MLP", everyLayerKind = "every layer kind"
    var testDescription: String { rawValue }
  }

  @Test(
    .enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with mnist/ and digits/"),
    arguments: Case.allCases)
  func onnxRuntimeReproducesPredict(_ model: Case) throws {
    guard try pythonHas("onnx, onnxruntime, numpy") else { return }
    let data = try #require(realDataDirectory())
    let root = try makeTemporaryDirectory("colearn-export")
    defer { try? FileManager.default.removeItem(at: root) }
    let run = root.appendingPathComponent("run")
    let train: [String]
    let predictData: String
    let checkData: String
    switch model {
    case .mnistCNN:
      train = ["--model", "mnist-cnn", "--epochs", "3", "--train-limit", "3000", "--test-limit", "200"]
      predictData = "mnist"
      checkData = "mnist:\(data)/mnist"
    case .tabularMLP:
      try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 300, seed: 5)
      try writeSyntheticTable(root.appendingPathComponent("new.csv"), rows: 1000, seed: 6)
      try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
      train = [
        "--model", root.appendingPathComponent("model.toml").path, "--data",
        "csv:\(root.path)/train.csv", "--label-column", "label", "--test-fraction", "0.2", "--epochs", "3",
        "--batch-size", "8", "--lr", "0.05",
      ]
      predictData = "csv:\(root.path)/new.csv"
      checkData = predictData
    case .everyLayerKind:
      try Data(Self.digitsModel.utf8).write(to: root.appendingPathComponent("model.toml"))
      let digits = "npz:\(data)/digits/digits.npz"
      train = [
        "--model", root.appendingPathComponent("model.toml").path, "--data", digits,
        "--test-fraction", "0.2", "--epochs", "3", "--lr", "0.05",
      ]
      predictData = digits
      checkData = digits
    }
    let trained = try runProcess(binary(), ["train"] + train + ["--out", run.path])
    try #require(trained.status == 0, "\(trained.combined)")
    let saved = run.appendingPathComponent("model.safetensors").path
    let onnx = root.appendingPathComponent("model.onnx").path
    let export = try runProcess(binary(), ["export", "--model-file", saved, "--out", onnx])
    try #require(export.status == 0, "\(export.combined)")
    let predictions = root.appendingPathComponent("predictions.csv").path
    let predict = try runProcess(
      binary(),
      [
        "predict", "--model-file", saved, "--data", predictData, "--batch-size", "100",
        "--log-probabilities", "--out", predictions,
      ])
    try #require(predict.status == 0, "\(predict.combined)")
    let check = try runProcess(
      URL(fileURLWithPath: "/usr/bin/env"),
      ["python3", Self.checkScript.path, onnx, predictions, checkData, "--batch-size", "100"])
    #expect(check.status == 0, "\(check.combined)")
    let expectedCount = ["mnist-cnn": 10_000, "tabular MLP": 1000, "every layer kind": 1797][model.rawValue]!
    #expect(
      check.standardOutput.contains("same class for \(expectedCount)/\(expectedCount)"),
      "\(check.combined)")
  }

  /// The other formats, the default output name and a damaged input.
  @Test func npzAndSafetensorsExportsAndAClearErrorForADamagedModel() throws {
    let root = try makeTemporaryDirectory("colearn-export-formats")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 60, seed: 7)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    let run = root.appendingPathComponent("run")
    let trained = try runProcess(
      binary(),
      [
        "train", "--model", root.appendingPathComponent("model.toml").path, "--data",
        "csv:\(root.path)/train.csv", "--label-column", "label", "--test-fraction", "0.2",
        "--epochs", "1", "--out", run.path,
      ])
    try #require(trained.status == 0, "\(trained.combined)")
    let saved = run.appendingPathComponent("model.safetensors")

    // safetensors: validated and re-encoded to the same bytes; the default name never
    // overwrites the input.
    let again = try runProcess(binary(), ["export", "--model-file", saved.path, "--format", "safetensors"])
    #expect(again.status == 0, "\(again.combined)")
    let copy = run.appendingPathComponent("model-export.safetensors")
    #expect(try Data(contentsOf: copy) == Data(contentsOf: saved))

    // npz next to the model by default: NumPy reads every tensor in the torch shape.
    let npz = try runProcess(binary(), ["export", "--model-file", saved.path, "--format", "npz"])
    #expect(npz.status == 0, "\(npz.combined)")
    let archive = run.appendingPathComponent("model.npz")
    #expect(FileManager.default.fileExists(atPath: archive.path))
    if try pythonHas("numpy") {
      let read = try runProcess(
        URL(fileURLWithPath: "/usr/bin/env"),
        [
          "python3", "-c",
          "import sys, numpy as np\na = np.load(sys.argv[1])\n"
            + "print(' '.join(f'{k}{list(a[k].shape)}{a[k].dtype}' for k in sorted(a.files)))",
          archive.path,
        ])
      #expect(
        read.standardOutput == "0.bias[8]float32 0.weight[8, 5]float32 2.bias[2]float32 2.weight[2, 8]float32\n",
        "\(read.combined)")
    }

    // A damaged model file is refused with the file and the problem named, and nothing is written.
    let damaged = root.appendingPathComponent("damaged.safetensors")
    try Data(contentsOf: saved).prefix(20).write(to: damaged)
    let refused = try runProcess(binary(), ["export", "--model-file", damaged.path])
    #expect(refused.status != 0)
    #expect(refused.standardError.contains("damaged.safetensors:"), "\(refused.combined)")
    #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("damaged.onnx").path))
  }
}
