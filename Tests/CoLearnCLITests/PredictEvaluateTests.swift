import CoLearnTestSupport
import Foundation
import Testing

/// Issue 18 through the real binary: `train` and `simulate` leave model.safetensors, and
/// `predict` and `evaluate` use it on new data; the safetensors package reads the file.
@Suite struct PredictEvaluateTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  @Test func evaluateReproducesTrainsTestAccuracyAndPredictWritesEveryRow() throws {
    let root = try makeTemporaryDirectory("colearn-predict")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 240, seed: 1)
    try writeSyntheticTable(root.appendingPathComponent("test.csv"), rows: 61, seed: 2)
    try writeSyntheticTable(root.appendingPathComponent("new.csv"), rows: 7, seed: 3, label: false)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    let out = root.appendingPathComponent("run")
    let train = try runProcess(
      binary(),
      [
        "train", "--model", root.appendingPathComponent("model.toml").path,
        "--data", "csv:\(root.path)/train.csv", "--label-column", "label",
        "--test-data", "csv:\(root.path)/test.csv", "--epochs", "3", "--batch-size", "8",
        "--lr", "0.05", "--out", out.path,
      ])
    #expect(train.status == 0, "\(train.combined)")
    for name in ["model.safetensors", "best-model.safetensors"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path))
    }
    let summary = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
    let trained = try #require(summary?["finalTestAccuracy"] as? Double)

    // evaluate on the same test file gives train's figure exactly (same schema, same forward).
    let report = root.appendingPathComponent("report")
    let evaluate = try runProcess(
      binary(),
      [
        "evaluate", "--model-file", out.appendingPathComponent("model.safetensors").path,
        "--data", "csv:\(root.path)/test.csv", "--out", report.path,
      ])
    #expect(evaluate.status == 0, "\(evaluate.combined)")
    #expect(evaluate.standardOutput.contains("accuracy \(String(format: "%.2f", 100 * trained))%"))
    #expect(evaluate.standardOutput.contains("true \\ predicted"))
    let json = try JSONSerialization.jsonObject(
      with: Data(contentsOf: report.appendingPathComponent("evaluation.json"))) as? [String: Any]
    #expect(json?["accuracy"] as? Double == trained)
    let confusion = try #require(json?["confusion"] as? [[Int]])
    #expect(confusion.flatMap { $0 }.reduce(0, +) == 61)
    let svg = try String(
      contentsOf: report.appendingPathComponent("confusion-matrix.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains(">yes</text>"))

    // predict on rows without labels: one row each, probabilities summing to 1.
    let predictions = root.appendingPathComponent("predictions.csv")
    let predict = try runProcess(
      binary(),
      [
        "predict", "--model-file", out.appendingPathComponent("model.safetensors").path,
        "--data", "csv:\(root.path)/new.csv", "--out", predictions.path,
      ])
    #expect(predict.status == 0, "\(predict.combined)")
    let lines = try String(contentsOf: predictions, encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    #expect(lines.first == ["row", "predicted", "p_no", "p_yes"])
    #expect(lines.count == 8)
    for (index, line) in lines.dropFirst().enumerated() {
      #expect(line[0] == "\(index + 1)")
      #expect(["no", "yes"].contains(line[1]))
      let sum = (Double(line[2]) ?? 0) + (Double(line[3]) ?? 0)
      #expect(abs(sum - 1) < 1e-5, "\(line)")
    }

    // evaluate needs labels; a damaged model file is named.
    let unlabeled = try runProcess(
      binary(),
      [
        "evaluate", "--model-file", out.appendingPathComponent("model.safetensors").path,
        "--data", "csv:\(root.path)/new.csv",
      ])
    #expect(unlabeled.status != 0)
    #expect(unlabeled.standardError.contains("has no label column 'label'"), "\(unlabeled.combined)")
    let damaged = root.appendingPathComponent("damaged.safetensors")
    let bytes = try Data(contentsOf: out.appendingPathComponent("model.safetensors"))
    try bytes.prefix(bytes.count - 10).write(to: damaged)
    let refused = try runProcess(
      binary(), ["predict", "--model-file", damaged.path, "--data", "csv:\(root.path)/new.csv"])
    #expect(refused.status != 0)
    #expect(
      refused.standardError.contains("damaged.safetensors: tensor '2.bias': data_offsets [256, 264] lie outside"),
      "\(refused.combined)")
  }

  /// The safetensors package reads a simulation's global model, every tensor in the documented
  /// (torch) shape. In CI the package is installed by .ci/run and the test must not skip.
  @Test func theSafetensorsPackageReadsTheModel() throws {
    guard try pythonHas("safetensors.numpy") else { return }
    let root = try makeTemporaryDirectory("colearn-safetensors")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 120, seed: 4)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    let out = root.appendingPathComponent("run")
    let simulate = try runProcess(
      binary(),
      [
        "simulate", "--model", root.appendingPathComponent("model.toml").path,
        "--data", "csv:\(root.path)/train.csv", "--label-column", "label",
        "--test-fraction", "0.25", "--participants", "3", "--rounds", "2", "--out", out.path,
      ])
    #expect(simulate.status == 0, "\(simulate.combined)")
    let script = """
      import sys
      from safetensors import safe_open
      from safetensors.numpy import load_file
      tensors = load_file(sys.argv[1])
      for name in sorted(tensors):
          print(name, list(tensors[name].shape), tensors[name].dtype)
      with safe_open(sys.argv[1], "np") as f:
          meta = f.metadata()
      print(meta["format"], meta["colearn.classes"].split("\\n"))
      """
    let read = try runProcess(
      URL(fileURLWithPath: "/usr/bin/env"),
      ["python3", "-c", script, out.appendingPathComponent("model.safetensors").path])
    #expect(read.status == 0, "\(read.combined)")
    #expect(
      read.standardOutput
        == "0.bias [8] float32\n0.weight [8, 5] float32\n2.bias [2] float32\n"
        + "2.weight [2, 8] float32\ncolearn-model/1 ['no', 'yes']\n", "\(read.combined)")
  }
}
