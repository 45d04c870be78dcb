import ArgumentParser
import CoLearnData
import CoLearnNN
import CoLearnTensor
import Foundation

/// Runs a suite's runs one after another in this process, through the same code as
/// `colearn train` and `colearn simulate`, each into `OUT/runs/NAME/`.
///
/// Resumable: a run whose directory holds a `summary.json` (written last, atomically) and a
/// `suite-run.json` with the same command and arguments is finished and skipped; any other run
/// (never started, interrupted, or run with other settings) is run again from the start.
///
/// Threading: one run at a time, on the caller's thread.
struct SuiteRunner {
  /// What `suite-run.json` records: the command and arguments a run was started with.
  struct Record: Codable, Equatable {
    var suite: String
    var command: String
    var arguments: [String]
  }

  static let recordName = "suite-run.json"

  var suite: ExperimentSuite
  /// The output directory of the suite (runs go into its `runs/` sub-directory).
  var output: URL
  /// `--threads` of runs that do not set it.
  var threads: Int
  /// `--data-dir` to pass on, if given.
  var dataDir: String?
  /// Whether standard error is a terminal (redraw one progress line) or a log (plain lines).
  var isTerminal = isatty(STDERR_FILENO) == 1

  /// The directory of `run`.
  func directory(of run: SuiteRun) -> URL {
    output.appendingPathComponent("runs").appendingPathComponent(run.name)
  }

  /// The arguments `run` is started with (its settings plus `--threads`), as recorded.
  func arguments(of run: SuiteRun) -> [String] {
    run.arguments + (run.value("threads") == nil ? ["--threads", "\(threads)"] : [])
  }

  /// Whether `run` finished earlier with the same command and arguments.
  func isFinished(_ run: SuiteRun) -> Bool {
    let directory = directory(of: run)
    guard
      FileManager.default.fileExists(
        atPath: directory.appendingPathComponent("summary.json").path),
      let data = try? Data(contentsOf: directory.appendingPathComponent(Self.recordName)),
      let record = try? JSONDecoder().decode(Record.self, from: data)
    else { return false }
    return record == Record(suite: suite.name, command: run.command, arguments: arguments(of: run))
  }

  /// Parses `run` as its command would be parsed on the command line (so it is validated the
  /// same way), with `--out` set to its directory.
  ///
  /// - Throws: ``CLIError`` naming the run and the suite file with the parser's message.
  func command(for run: SuiteRun) throws -> (RunObserver) throws -> Void {
    var arguments = arguments(of: run) + ["--out", directory(of: run).path]
    if let dataDir { arguments += ["--data-dir", dataDir] }
    do {
      switch run.command {
      case "train": return try TrainCommand.parse(arguments).execute(observer:)
      default: return try SimulateCommand.parse(arguments).execute(observer:)
      }
    } catch {
      let message =
        run.command == "train"
        ? TrainCommand.message(for: error) : SimulateCommand.message(for: error)
      throw CLIError("\(suite.path): run `\(run.name)` (`\(run.commandLine)`): \(message)")
    }
  }

  /// Runs every unfinished run of `runs`, printing one line per run and a progress line with
  /// the suite's ETA.
  ///
  /// - Returns: The names of the runs that were skipped as finished.
  /// - Throws: The first run's error; finished runs stay finished.
  @discardableResult
  func execute(_ runs: [SuiteRun]) throws -> Set<String> {
    // Parse everything first, so that a bad setting stops the suite before any work.
    let commands = try runs.map { try command(for: $0) }
    let weights = runs.map(Self.estimatedCost)
    var skipped = Set<String>()
    var remaining = zip(runs, weights).filter { !isFinished($0.0) }.map { $0.1 }.reduce(0, +)
    var doneWeight = 0.0
    var activeSeconds = 0.0
    for (index, (run, command)) in zip(runs, commands).enumerated() {
      let label = "[\(index + 1)/\(runs.count)] \(run.name)"
      if isFinished(run) {
        skipped.insert(run.name)
        print("\(label): finished earlier, skipped")
        continue
      }
      let directory = directory(of: run)
      try? FileManager.default.removeItem(at: directory.appendingPathComponent("summary.json"))
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(
        Record(suite: suite.name, command: run.command, arguments: arguments(of: run))
      ).write(to: directory.appendingPathComponent(Self.recordName), options: .atomic)
      print("\(label): \(run.commandLine)")
      fflush(nil)
      let start = monotonicSeconds()
      var lastDraw = -1.0
      let weight = weights[index]
      let isTerminal = isTerminal
      let (done, active, rest) = (doneWeight, activeSeconds, remaining)
      try command(
        .quiet(progress: { fraction in
          guard isTerminal else { return }
          let now = monotonicSeconds()
          guard now - lastDraw >= 0.5 else { return }
          lastDraw = now
          let elapsed = active + now - start
          let finished = done + fraction * weight
          let eta = finished > 0 ? elapsed / finished * (rest - fraction * weight) : 0
          let text =
            "\r\(label)  \(format(100 * fraction, 0))%  suite "
            + "\(format(100 * finished / max(done + rest, 1e-9), 0))%  elapsed "
            + "\(ProgressDisplay.duration(elapsed))  ETA \(ProgressDisplay.duration(eta))   "
          FileHandle.standardError.write(Data(text.utf8))
        }))
      let seconds = monotonicSeconds() - start
      // The suite's record marks the run finished; its simulation checkpoint (tens of MB for
      // large federations) is not needed to read or plot it.
      try? FileManager.default.removeItem(at: directory.appendingPathComponent("checkpoint.bin"))
      activeSeconds += seconds
      doneWeight += weight
      remaining -= weight
      if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
      let metrics = try? RunMetrics(directory: directory)
      let eta = doneWeight > 0 ? activeSeconds / doneWeight * remaining : 0
      print(
        "\(label): best accuracy "
          + (metrics?.bestAccuracy.map { format(100 * $0, 2) + "%" } ?? "?")
          + ", \(format(seconds, 1)) s; suite ETA \(ProgressDisplay.duration(eta))")
      fflush(nil)
    }
    return skipped
  }

  /// Whether `colearn COMMAND` has the setting `key` (the flag `--key`): probed by parsing the
  /// flag alone, which fails with "Unknown option" exactly when the command has no such flag.
  static func command(_ command: String, accepts key: String) -> Bool {
    let arguments = ["--\(key)"]
    do {
      if command == "train" {
        _ = try TrainCommand.parse(arguments)
      } else {
        _ = try SimulateCommand.parse(arguments)
      }
      return true
    } catch {
      let message =
        command == "train" ? TrainCommand.message(for: error) : SimulateCommand.message(for: error)
      return !message.contains("Unknown option")
    }
  }

  /// A rough cost of `run` in mnist-mlp-sample-equivalents, for the ETA: samples trained times
  /// the relative cost of a sample of the model at the run's mini-batch and selection.
  static func estimatedCost(_ run: SuiteRun) -> Double {
    func number(_ key: String) -> Double? { run.value(key).flatMap(Double.init) }
    let model = run.model
    let trainSize = model.defaultData == "svhn" ? 73_257.0 : 60_000
    let samples: Double
    if run.command == "train" {
      samples = (number("epochs") ?? 10) * min(number("train-limit") ?? trainSize, trainSize)
    } else {
      let participants = number("participants") ?? 30
      let shard = number("shard-size") ?? trainSize / 100
      let epochs = run.value("algorithm") == "fedavg" ? (number("local-epochs") ?? 1) : 1
      samples = (number("rounds") ?? 10) * participants * shard * epochs
    }
    let batch = number("batch-size") ?? 32
    let selective = (number("select-fraction") ?? 1) < 1
    var perSample: Double =
      switch model.name {
      case "mnist-mlp": batch == 1 ? (selective ? 40 : 3.5) : 1
      case "svhn-mlp": batch == 1 ? (selective ? 100 : 6) : 2.5
      case "mnist-cnn": batch == 1 && selective ? 45 : 30
      case "svhn-cnn": batch == 1 && selective ? 150 : 130
      // Any other model: its forward multiply–adds against mnist-mlp's 139,904.
      default: Double(model.makeNetwork().forwardMultiplyAdds) / 139_904
      }
    if run.value("selection") == "svt" { perSample *= 3 }
    return samples * perSample
  }

  /// The preset dataset `run` reads that is missing from `directory` (its `data` setting, else
  /// its model's dataset), or nil. The user's own files (`csv:`, `npz:`, …) are not checked
  /// here: the run's loader names a missing or broken file itself.
  static func missingDataset(for run: SuiteRun, in directory: DataDirectory) -> String? {
    let dataset: String
    if let spec = run.value("data") {
      guard case .builtIn(let name)? = try? DataSource(parsing: spec) else { return nil }
      dataset = name.rawValue
    } else {
      dataset = run.model.defaultData ?? "mnist"
    }
    return isPresent(dataset, in: directory) ? nil : dataset
  }

  /// Whether the files of preset `dataset` are in `directory`.
  private static func isPresent(_ dataset: String, in directory: DataDirectory) -> Bool {
    let names = dataset == "svhn" ? ["train_32x32.mat", "test_32x32.mat"] : MNIST.fileNames
    let folder = directory.path + "/" + dataset + "/"
    return names.allSatisfy {
      FileManager.default.fileExists(atPath: folder + $0)
        || FileManager.default.fileExists(atPath: folder + $0 + ".gz")
    }
  }
}
