import ArgumentParser
import Foundation

/// `colearn compare RUN...`: what each participant gained by collaborating — the final test
/// accuracy of every participant in simulate runs of the same federation (same --seed,
/// --participants and --partition, so participant i holds the same shard in each), side by side,
/// with the gain of the first run over a standalone run.
struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Per-participant accuracy of simulate runs side by side, and the gain over standalone.",
    discussion: """
      Give the runs of one federation made with different --algorithm values, e.g. dssgd, \
      standalone and centralized with the same --seed, --participants and --partition: \
      participant i then holds the same shard in each. The first run is compared with the \
      standalone one (the run whose config.json says algorithm standalone).
      """)

  @Argument(help: "simulate run directories (holding config.json and summary.json).")
  var runs: [String] = []

  func validate() throws {
    if runs.count < 2 { throw ValidationError("name at least two run directories to compare") }
  }

  struct Run {
    var name: String
    var algorithm: String
    var shards: String
    var summary: SimulationRecord.Summary
  }

  func run() throws {
    let loaded = try runs.map(Self.read)
    let reference = loaded[0]
    for other in loaded.dropFirst()
    where !reference.shards.hasPrefix(other.shards) && !other.shards.hasPrefix(reference.shards) {
      throw CLIError(
        "\(other.name) is not the same federation as \(reference.name) (\(other.shards) against "
          + "\(reference.shards)): use the same --seed, --participants, --partition and data")
    }
    let standalone = loaded.first { $0.algorithm == "standalone" }
    var table = Table(
      headers: ["participant"] + loaded.map { "\($0.algorithm) %" }
        + (standalone != nil && reference.algorithm != "standalone" ? ["gain (points)"] : []))
    let count = reference.summary.finalParticipantAccuracies.count
    var gains: [Double] = []
    for i in 0..<count {
      var row = ["\(i + 1)"]
      for run in loaded {
        let accuracies = run.summary.finalParticipantAccuracies
        // The centralized model is every participant's: the same figure on each row.
        let value = run.algorithm == "centralized" ? accuracies.first : (i < accuracies.count ? accuracies[i] : nil)
        row.append(value.map { format(100 * $0, 2) } ?? "")
      }
      if let standalone, reference.algorithm != "standalone",
        i < standalone.summary.finalParticipantAccuracies.count
      {
        let gain =
          100 * (reference.summary.finalParticipantAccuracies[i]
            - standalone.summary.finalParticipantAccuracies[i])
        gains.append(gain)
        row.append((gain >= 0 ? "+" : "") + format(gain, 2))
      }
      table.add(row)
    }
    var mean = ["mean"]
    for run in loaded { mean.append(format(100 * run.summary.finalMeanAccuracy, 2)) }
    if !gains.isEmpty {
      let average = gains.reduce(0, +) / Double(gains.count)
      mean.append((average >= 0 ? "+" : "") + format(average, 2))
    }
    table.add(mean)
    print(table.render())
    if !gains.isEmpty {
      let better = gains.filter { $0 > 0 }.count
      print(
        "\(reference.algorithm): \(better) of \(gains.count) participants gained by "
          + "collaborating (mean \(format(gains.reduce(0, +) / Double(gains.count), 2)) points, "
          + "least \(format(gains.min() ?? 0, 2)), most \(format(gains.max() ?? 0, 2)))")
    }
    for run in loaded {
      if let global = run.summary.finalGlobalAccuracy {
        print("\(run.name): global model \(format(100 * global, 2))%")
      }
    }
  }

  static func read(_ path: String) throws -> Run {
    let folder = URL(fileURLWithPath: path)
    let name = folder.standardizedFileURL.lastPathComponent
    do {
      let config = try JSONSerialization.jsonObject(
        with: Data(contentsOf: folder.appendingPathComponent("config.json"))) as? [String: Any]
      let summary = try JSONDecoder().decode(
        SimulationRecord.Summary.self,
        from: Data(contentsOf: folder.appendingPathComponent("summary.json")))
      guard let config, config["command"] as? String == "simulate" else {
        throw CLIError("\(path) is not a colearn simulate run (config.json says otherwise)")
      }
      let shards = ["dataset", "partition", "shardSize", "seed"].map { "\(config[$0] ?? "?")" }
        .joined(separator: ", ")
      let algorithm = config["algorithm"] as? String ?? "?"
      // A centralized run trains one model on the pooled shards: one "participant".
      let participants =
        algorithm == "centralized" ? "" : ", N = \(summary.finalParticipantAccuracies.count)"
      return Run(name: name, algorithm: algorithm, shards: shards + participants, summary: summary)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError(
        "cannot read \(path)/summary.json and config.json (a finished colearn simulate run "
          + "directory): \(error.localizedDescription)")
    }
  }
}
