import ArgumentParser
import CoLearnData
import CoLearnNN
import CoLearnPrivacy
import CoLearnSplit
import CoLearnTensor
import Foundation

extension SplitBoundary: ExpressibleByArgument {}

/// `colearn split`: differentially private split learning (Jiang et al.; SPEC §9).
struct SplitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "split",
    abstract: "Differentially private split learning (participants' CNN front, coordinator's dense back).",
    subcommands: [
      SplitSimulateCommand.self, SplitServeCommand.self, SplitParticipateCommand.self,
      SplitKeygenCommand.self,
    ])
}

/// `colearn split simulate`: N participants and one coordinator on one machine, for one ε or a
/// sweep of them.
struct SplitSimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Simulate differentially private split learning on MNIST.",
    discussion: """
      Split learning runs the fixed architecture of Jiang et al. on MNIST only: it takes no \
      --model file and no --data (those are for simulate, train and participate).

      Participants hold IID shards of the training set and identical copies of the \
      convolutional front (conv 30 → pool → conv 80 → pool → BatchNorm). In turn, each runs its \
      front on a mini-batch, adds Laplace noise of scale S/ε to every feature (S = 2·√(B−1)), \
      and sends features and labels to the coordinator, which trains the dense back and returns \
      the feature gradient; every participant then applies the same front update. \
      --boundary pixels noises the raw pixels instead (S = 255) and the coordinator trains the \
      whole network, the paper's comparison. The test set is evaluated locally (front + back, \
      nothing noised). Writes config.json, metrics.csv (one row per epoch), summary.json, \
      privacy.json and audit.csv (one row per step: what crossed the boundary and its privacy \
      parameters) to --out; --epsilon with a comma list runs a sweep into --out/epsilon-E/.

      Settings can also come from --config FILE (flat YAML or TOML; keys are the flag \
      names without dashes); flags on the command line win over the file.
      """)

  @OptionGroup var data: DataOptions

  @Option(
    help: """
      ε of every value sent, or a comma list for a sweep (e.g. inf,5,2,1); inf sends the values \
      without noise.
      """)
  var epsilon: String = "inf"

  @Option(help: "What crosses to the coordinator: features (the paper's design) or pixels.")
  var boundary: SplitBoundary = .features

  @Option(help: "Number of participants N (IID shards of the training set).")
  var participants: Int = 5

  @Option(name: .customLong("shard-size"), help: "Training samples per participant (default: all of them split evenly).")
  var shardSize: Int?

  @Option(name: .customLong("batch-size"), help: "Mini-batch size B (also BatchNorm's batch: S = 2·√(B−1)).")
  var batchSize: Int = 64

  @Option(help: "Learning rate α (front and back; the paper uses 0.01).")
  var lr: Float = 0.01

  @Option(name: .customLong("lr-decay"), help: "Torch7 learning-rate decay d: α_t = α / (1 + t·d).")
  var lrDecay: Float = 1e-7

  @Option(help: "Epochs (every sample is sent once per epoch).")
  var epochs: Int = 5

  @Option(name: .customLong("eval-every"), help: "Evaluate every this many epochs.")
  var evalEvery: Int = 1

  @Option(help: "Seed of every random choice (initialisation, shards, order; seeded noise).")
  var seed: UInt64 = 1

  @Option(help: "Threads for the linear algebra (default: all cores).")
  var threads: Int?

  @Option(help: "δ′ of the advanced-composition totals in privacy.json.")
  var delta: Double = 1e-5

  @Flag(
    name: .customLong("insecure-seeded-noise"),
    help: """
      Draw privacy noise from the seeded generator (reproducible runs). The result is NOT \
      differentially private: anyone with the seed can remove the noise.
      """)
  var insecureSeededNoise = false

  @Flag(
    name: .customLong("audit-values"),
    help: """
      Also dump every value and label sent to the coordinator (audit-values.f32, \
      audit-labels.i32, little-endian; audit.csv gives each step's offset). Large: 4 bytes per \
      value, about 300 MB per MNIST epoch.
      """)
  var auditValues = false

  @Option(name: .customLong("train-limit"), help: "Use only the first N training samples.")
  var trainLimit: Int?

  @Option(name: .customLong("test-limit"), help: "Evaluate on only the first N test samples.")
  var testLimit: Int?

  @Option(help: "Output directory (default: runs/split-BOUNDARY-N-SEED).")
  var out: String?

  /// The ε values of the sweep; nil stands for ∞.
  func epsilons() throws -> [Double?] {
    try epsilon.split(separator: ",").map { text -> Double? in
      let word = text.trimmingCharacters(in: .whitespaces).lowercased()
      if ["inf", "infinity", "∞", "none"].contains(word) { return nil }
      guard let value = Double(word), value > 0, value.isFinite else {
        throw ValidationError(
          "invalid --epsilon \(text): expected numbers above 0 or inf, separated by commas")
      }
      return value
    }
  }

  func splitConfiguration(epsilon: Double?) throws -> SplitConfiguration {
    do {
      return try SplitConfiguration(
        participants: participants, batchSize: batchSize, learningRate: lr,
        learningRateDecay: lrDecay, epsilon: epsilon, boundary: boundary)
    } catch {
      throw ValidationError(error.description)
    }
  }

  func validate() throws {
    let values = try epsilons()
    guard !values.isEmpty else { throw ValidationError("--epsilon needs at least one value") }
    for value in values { _ = try splitConfiguration(epsilon: value) }
    try requireAtLeast(1, epochs, flag: "epochs")
    try requireAtLeast(1, evalEvery, flag: "eval-every")
    try requireAtLeast(2, shardSize, flag: "shard-size")
    try requireAtLeast(1, trainLimit, flag: "train-limit")
    try requireAtLeast(1, testLimit, flag: "test-limit")
    if let threads, threads < 1 {
      throw ValidationError("invalid --threads \(threads): expected an integer ≥ 1")
    }
    if !(delta > 0 && delta < 1) {
      throw ValidationError("invalid --delta \(delta): expected a number in (0, 1)")
    }
    if insecureSeededNoise, values.allSatisfy({ $0 == nil }) {
      throw ValidationError("--insecure-seeded-noise needs a finite --epsilon: ε = inf adds no noise")
    }
  }

  func run() throws {
    let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
    BLAS.setThreadCount(threads)
    let values = try epsilons()
    let data = try loadSplitData()
    let outPath = out ?? "runs/split-\(boundary.rawValue)-N\(participants)-\(seed)"
    print(
      "colearn split simulate: \(boundary.rawValue) boundary, N = \(participants) × "
        + "\(data.shardSize) samples, B = \(batchSize), α = \(lr), \(epochs) epochs, ε ∈ "
        + "{\(values.map(Self.name).joined(separator: ", "))}")
    for line in Self.privacyWarnings(epsilons: values, insecureSeededNoise: insecureSeededNoise) {
      print(line)
    }
    var results: [SplitRunRecord.SweepRow] = []
    for value in values {
      let path = values.count == 1 ? outPath : outPath + "/epsilon-\(Self.name(value))"
      let summary = try runOne(epsilon: value, data: data, outPath: path, threads: threads)
      results.append(
        SplitRunRecord.SweepRow(
          epsilon: Self.name(value), finalTestAccuracy: summary.finalTestAccuracy,
          bestTestAccuracy: summary.bestTestAccuracy, wallSeconds: summary.wallSeconds,
          directory: path))
    }
    if values.count > 1 {
      var table = Table(headers: ["ε", "final test acc", "best test acc", "seconds"])
      for row in results {
        table.add([
          row.epsilon, format(100 * row.finalTestAccuracy, 2) + "%",
          format(100 * row.bestTestAccuracy, 2) + "%", format(row.wallSeconds, 0),
        ])
      }
      print(table.render())
      var csv = "epsilon,final_test_accuracy,best_test_accuracy,wall_seconds,directory\n"
      for row in results {
        csv += [
          row.epsilon, format(row.finalTestAccuracy, 5), format(row.bestTestAccuracy, 5),
          format(row.wallSeconds, 1), row.directory,
        ].joined(separator: ",") + "\n"
      }
      let path = URL(fileURLWithPath: outPath).appendingPathComponent("sweep.csv")
      do {
        try Data(csv.utf8).write(to: path, options: .atomic)
      } catch {
        throw CLIError("cannot write \(path.path): \(error.localizedDescription)")
      }
    }
  }

  /// The warnings `split simulate` and `split participate` print before training: for values
  /// sent without noise (ε = inf, the default) and for seeded noise; and the scope of every ε.
  static func privacyWarnings(epsilons: [Double?], insecureSeededNoise: Bool) -> [String] {
    var lines: [String] = []
    if epsilons.contains(where: { $0 == nil }) {
      lines.append(
        "WARNING: ε = inf\(epsilons.count == 1 ? " (the default of --epsilon)" : ""): the values "
          + "cross to the coordinator WITHOUT noise, with their labels: no formal guarantee; "
          + "pass --epsilon E to noise them")
    }
    if insecureSeededNoise {
      lines.append(
        "WARNING: --insecure-seeded-noise: the noise comes from the seeded generator. This run "
          + "is NOT differentially private; use it only to reproduce experiments.")
    }
    if epsilons.contains(where: { $0 != nil }) {
      lines.append(
        "privacy: ε is per value and per crossing of the boundary; it excludes the labels (sent "
          + "in the clear) and the un-noised front updates, so it is not an upper bound per image "
          + "(see the split README, \"What ε means\")")
    }
    return lines
  }

  static func name(_ epsilon: Double?) -> String {
    epsilon.map { String(format: "%g", $0) } ?? "inf"
  }
}
