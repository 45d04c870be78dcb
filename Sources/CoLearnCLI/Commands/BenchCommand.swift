import ArgumentParser
import CoLearnData
import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn bench`: training and evaluation throughput of the paper's four models next to
/// PyTorch's on the same machine.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure training and evaluation throughput (use a release build).",
    discussion: """
      Trains each model on random data of the right shape at each mini-batch size and thread \
      count and reports samples/s (median of 3 timed runs), achieved GFLOP/s and its fraction \
      of the measured SGEMM peak, next to PyTorch's figures from ../shared/peers (for the \
      paper's presets). --model also takes model files, to measure your own architecture; \
      there is no --data: the speed of a dense network does not depend on the values it sees, \
      so random samples of the model's input shape measure exactly what your data would. \
      `colearn bench noise` measures the exact discrete Gaussian sampler of DP-SGD alone.
      """,
    subcommands: [BenchNoiseCommand.self])

  @Option(help: "Models to measure (comma-separated presets or model files).")
  var model: String = ModelSpec.presets.map(\.name).joined(separator: ",")

  @Option(name: .customLong("batch-size"), help: "Mini-batch sizes (comma-separated).")
  var batchSizes: String = "1,32"

  @Option(help: "Thread counts to try (comma-separated); the best is reported. Default: 1 and all cores.")
  var threads: String?

  @Option(help: "Seconds per timed run.")
  var seconds: Double = 1.5

  @Option(
    help: "Passes over all configurations; each figure is the median over passes (the VM's speed drifts).")
  var passes: Int = 3

  @Option(help: "Directory of the PyTorch peer results (pass*/train.json).")
  var peers: String = "../shared/peers/results"

  @Option(help: "Write the results as JSON to this file.")
  var json: String?

  @Flag(help: "Skip the evaluation-throughput measurement.")
  var noEvaluation = false

  @Flag(help: "Skip the training-throughput measurement (evaluation only).")
  var noTraining = false

  @Option(
    name: .customLong("evaluation-data"),
    help: ArgumentHelp(
      "Also measure evaluation on this data's test set (mnist, svhn, csv:FILE, …; every --model "
        + "must fit it): a first dense layer multiplies only the inputs off the background, so "
        + "sparse data such as MNIST's digits evaluates faster than random samples.",
      valueName: "spec"))
  var evaluationData: String?

  @OptionGroup var data: DataOptions

  @Flag(
    help: """
      Also print the time of each layer's forward and backward pass, with its GF/s (layers \
      with multiply-adds) or GB/s (element-wise layers); a convolution that runs the direct \
      kernels is also timed as the im2col GEMMs it replaced, in the same steps.
      """)
  var profile = false

  func parsedModels() throws -> [ModelSpec] {
    try model.split(separator: ",").map { try ModelSpec.argument(String($0)) }
  }

  func parsedIntegers(_ text: String, flag: String) throws -> [Int] {
    try text.split(separator: ",").map { item in
      guard let value = Int(item), value >= 1 else {
        throw ValidationError("--\(flag) expects positive integers separated by commas, got '\(item)'")
      }
      return value
    }
  }

  func validate() throws {
    _ = try parsedModels()
    _ = try parsedIntegers(batchSizes, flag: "batch-size")
    if let threads { _ = try parsedIntegers(threads, flag: "threads") }
    guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
    guard passes >= 1 else { throw ValidationError("--passes must be at least 1, got \(passes)") }
  }

  func run() throws {
    let models = try parsedModels()
    let batches = try parsedIntegers(batchSizes, flag: "batch-size")
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let threadCounts = try threads.map { try parsedIntegers($0, flag: "threads") }
      ?? Array(Set([1, cores])).sorted()
    #if DEBUG
      print("warning: this is a debug build; numbers are 10-100× too slow. Use `swift build -c release`.")
    #endif
    let peerFigures = PeerFigures.load(from: URL(fileURLWithPath: peers))
    var peak: [Int: Double] = [:]
    for t in threadCounts where !noTraining {
      BLAS.setThreadCount(t)
      peak[t] = TrainingBenchmark.gemmPeak()
    }
    print("BLAS: \(BLAS.configuration) — \(BLAS.kernelSelectionNote)")
    print(BLAS.gemmDescription)
    print(KernelInstructions.description)
    print("SGEMM 2048² peak: " + threadCounts.map { "\($0) thr \(format(peak[$0] ?? 0, 1)) GF/s" }
      .joined(separator: ", "))
    // How far apart the cores are now: on this project's VMs two threads sometimes sit on cores
    // far apart, and batch-1 steps then run on one core, or only their big layers on both
    // (StepWidthChooser).
    let roundTrip = threadCounts.contains(where: { $0 > 1 })
      ? WorkerPool.shared.roundTripSeconds() : nil
    if let roundTrip {
      print(
        "Cores: a cache-line round trip between two threads takes \(format(roundTrip * 1e9, 0)) ns"
          + (roundTrip > 300e-9
            ? " (far apart: training then runs small steps on one core, or only their big layers"
              + " on two, when that is faster)" : ""))
    }
    let bench = TrainingBenchmark(seconds: seconds)
    // Evaluation runs on the most threads asked for (all cores by default).
    let evaluationThreads = threadCounts.max() ?? cores
    // The test set of --evaluation-data, standardised as training would (loaded once).
    var realTest: [String: LabeledSamples] = [:]
    if let evaluationData, !noEvaluation {
      let source = try DataSourceOptions.parse(["--data", evaluationData])
      for spec in models {
        realTest[spec.name] = try source.load(
          for: spec, directory: data.dataDirectory, seed: 1
        ).test.labeledSamples
      }
    }
    var realRates: [String: [Double]] = [:]
    var rows: [BenchmarkRow] = []
    var report = Table(headers: [
      "model", "batch", "thr", "colearn samples/s", "best pass", "PyTorch samples/s", "ratio",
      "target", "GF/s", "% of GEMM peak",
    ])
    // Interleave: every pass measures every configuration once, so a slow phase of the VM
    // hits all configurations alike; each figure is then the median over passes.
    var samples: [String: [Double]] = [:]
    var stepTimes: [String: [Double]] = [:]
    var evaluationRates: [String: [Double]] = [:]
    func key(_ spec: ModelSpec, _ batch: Int, _ t: Int) -> String { "\(spec.name)/\(batch)/\(t)" }
    for pass in 1...passes {
      if passes > 1 { FileHandle.standardError.write(Data("pass \(pass)/\(passes)…\n".utf8)) }
      for spec in models {
        if !noEvaluation {
          BLAS.setThreadCount(evaluationThreads)
          evaluationRates[spec.name, default: []].append(bench.measureEvaluation(model: spec))
          if let test = realTest[spec.name] {
            realRates[spec.name, default: []].append(bench.measureEvaluation(model: spec, on: test))
          }
        }
        for batch in batches where !noTraining {
          for t in threadCounts {
            BLAS.setThreadCount(t)
            let measured = try bench.measureTraining(model: spec, batchSize: batch)
            samples[key(spec, batch, t), default: []].append(measured.samplesPerSecond)
            stepTimes[key(spec, batch, t), default: []].append(measured.stepMicroseconds)
          }
        }
      }
    }
    for spec in models {
      let flops = TrainingBenchmark.trainFLOPs(spec.makeNetwork())
      for batch in batches where !noTraining {
        var best: (row: BenchmarkRow, bestPass: Double)?
        for t in threadCounts {
          let perPass = samples[key(spec, batch, t)] ?? [0]
          let rate = median(perPass)
          let gflops = rate * flops / 1e9
          let row = BenchmarkRow(
            model: spec.name, batchSize: batch, threads: t, samplesPerSecond: rate,
            stepMicroseconds: median(stepTimes[key(spec, batch, t)] ?? [0]),
            trainFLOPsPerSample: flops, gigaFLOPsPerSecond: gflops,
            fractionOfGEMMPeak: gflops / (peak[t] ?? .infinity), samplesPerSecondByPass: perPass)
          rows.append(row)
          if best == nil || row.samplesPerSecond > best!.row.samplesPerSecond {
            best = (row, perPass.max() ?? 0)
          }
        }
        guard let (bestRow, bestPass) = best else { continue }
        let peer = spec.isPreset
          ? peerFigures?.training[.init(model: spec.name, batchSize: batch)] : nil
        let target = Self.target(for: spec, batchSize: batch)
        let ratio = peer.map { bestRow.samplesPerSecond / $0.samplesPerSecond }
        report.add([
          spec.name, "\(batch)", "\(bestRow.threads)", format(bestRow.samplesPerSecond, 0),
          format(bestPass, 0),
          peer.map { "\(format($0.samplesPerSecond, 0)) (\($0.threads) thr)" } ?? "—",
          ratio.map { format($0, 2) + "×" } ?? "—",
          target.map { format($0, 1) + "×" + ((ratio ?? 0) >= $0 ? " ✓" : " ✗") } ?? "—",
          format(bestRow.gigaFLOPsPerSecond, 1), format(100 * bestRow.fractionOfGEMMPeak, 1) + "%",
        ])
      }
    }
    if !noTraining {
    print()
    print(
      "Training throughput, median of \(passes) pass(es) at the best thread count "
        + "(PyTorch: best of 1/2 threads, median of its 3 passes):")
    print(report.render())
    }
    if profile {
      for spec in models {
        for batch in batches {
          for t in threadCounts {
            BLAS.setThreadCount(t)
            var table = Table(headers: [
              "layer", "forward µs", "GF/s or GB/s", "backward+update µs", "GF/s or GB/s",
            ])
            let entries = LayerProfile.measure(model: spec, batchSize: batch)
            func rate(_ flops: Double, _ bytes: Double, _ microseconds: Double) -> String {
              guard microseconds > 0 else { return "" }
              if flops > 0 { return format(flops / microseconds / 1e3, 1) + " GF/s" }
              return bytes > 0 ? format(bytes / microseconds / 1e3, 1) + " GB/s" : ""
            }
            for entry in entries {
              table.add([
                entry.layer, format(entry.forwardMicroseconds, 1),
                rate(entry.forwardFlops, entry.forwardBytes, entry.forwardMicroseconds),
                format(entry.backwardMicroseconds, 1),
                rate(entry.backwardFlops, entry.backwardBytes, entry.backwardMicroseconds),
              ])
            }
            let total = entries.filter { !$0.layer.hasPrefix(" ") }.reduce(0) {
              $0 + $1.forwardMicroseconds + $1.backwardMicroseconds
            }
            table.add(["total", "", "", format(total, 1), ""])
            print("\nPer-layer time, \(spec) batch \(batch), \(t) thread(s) (median of 50 steps):")
            print(table.render())
          }
        }
      }
    }
    var evaluationRows: [[String: String]] = []
    if !noEvaluation {
      var table = Table(headers: [
        "model", "eval batch", "colearn samples/s", "per pass", "PyTorch b1000 samples/s", "ratio",
      ])
      for spec in models {
        let perPass = evaluationRates[spec.name] ?? [0]
        let rate = median(perPass)
        let peer = spec.isPreset ? peerFigures?.evaluation[spec.name] : nil
        table.add([
          spec.name, "\(spec.evaluationBatchSize)", format(rate, 0),
          perPass.map { format($0, 0) }.joined(separator: " "), peer.map { format($0, 0) } ?? "—",
          peer.map { format(rate / $0, 2) + "×" } ?? "—",
        ])
        evaluationRows.append([
          "model": spec.name, "batch": "\(spec.evaluationBatchSize)", "samples_per_s": format(rate, 1),
          "samples_per_s_by_pass": perPass.map { format($0, 1) }.joined(separator: ","),
        ])
      }
      print()
      print(
        "Evaluation throughput, median of \(passes) pass(es), \(evaluationThreads) threads (random dense "
          + "samples; PyTorch's stored figure is from another session, compare side by side with "
          + "scripts/bench-eval.sh):")
      print(table.render())
      if let evaluationData, !realRates.isEmpty {
        var real = Table(headers: ["model", "eval batch", "samples", "colearn samples/s", "per pass"])
        for spec in models {
          guard let perPass = realRates[spec.name], let test = realTest[spec.name] else { continue }
          real.add([
            spec.name, "\(spec.evaluationBatchSize)", "\(test.count)", format(median(perPass), 0),
            perPass.map { format($0, 0) }.joined(separator: " "),
          ])
          evaluationRows.append([
            "model": spec.name, "batch": "\(spec.evaluationBatchSize)", "data": evaluationData,
            "samples_per_s": format(median(perPass), 1),
            "samples_per_s_by_pass": perPass.map { format($0, 1) }.joined(separator: ","),
          ])
        }
        print(
          "\nEvaluation throughput on the test set of \(evaluationData), \(evaluationThreads) threads:")
        print(real.render())
      }
    }
    if peerFigures == nil {
      print("\n(no PyTorch figures: \(peers) has no pass*/train.json; pass --peers DIR)")
    }
    if let json {
      struct Output: Encodable {
        var blas: String
        var gemmPeakGFLOPs: [String: Double]
        var roundTripNanoseconds: Double?
        var training: [BenchmarkRow]
        var evaluation: [[String: String]]
      }
      let output = Output(
        blas: BLAS.configuration,
        gemmPeakGFLOPs: Dictionary(uniqueKeysWithValues: peak.map { ("\($0.key)", $0.value) }),
        roundTripNanoseconds: roundTrip.map { $0 * 1e9 }, training: rows, evaluation: evaluationRows)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      do {
        try encoder.encode(output).write(to: URL(fileURLWithPath: json))
      } catch {
        throw ValidationError("could not write \(json): \(error.localizedDescription)")
      }
      print("\nwrote \(json)")
    }
  }

  /// The speed-up over PyTorch the foundation issue asks for.
  static func target(for model: ModelSpec, batchSize: Int) -> Double? {
    switch (model.isConvolutional, batchSize) {
    case (false, 1): return 10
    case (true, 1): return 3
    case (false, 32): return 1.5
    case (true, 32): return 1.2
    default: return nil
    }
  }
}
