import Foundation

/// PyTorch's training throughput on this machine, from the peer measurements in
/// `../shared/peers/results/pass*/train.json` (see `../shared/peers/RESULTS.md` §2).
///
/// For each model and batch size the figure is the best, over 1 and 2 threads, of the median
/// over the measurement passes — the "median of passes" column of RESULTS.md.
struct PeerFigures {
  struct Key: Hashable {
    var model: String
    var batchSize: Int
  }

  /// samples/s by model and batch, with the thread count that achieved it.
  var training: [Key: (samplesPerSecond: Double, threads: Int)] = [:]
  /// Evaluation samples/s at batch 1000 by model (best thread count).
  var evaluation: [String: Double] = [:]
  /// Where the figures came from.
  var source: String

  private struct File: Decodable {
    struct Row: Decodable {
      var threads: Int
      var model: String
      var batch: Int
      var samples_per_s: Double
      var eval_samples_per_s_b1000: Double?
    }
    var rows: [Row]
  }

  /// Reads every `pass*/train.json` under `directory`.
  /// - Returns: `nil` when the directory holds none (the bench then prints no comparison).
  static func load(from directory: URL) -> PeerFigures? {
    guard
      let passes = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter({ $0.hasPrefix("pass") }).sorted()
    else { return nil }
    var samples: [Key: [Int: [Double]]] = [:]
    var evaluations: [String: [Int: [Double]]] = [:]
    for pass in passes {
      let url = directory.appendingPathComponent(pass).appendingPathComponent("train.json")
      guard let data = try? Data(contentsOf: url),
        let file = try? JSONDecoder().decode(File.self, from: data)
      else { continue }
      for row in file.rows {
        samples[Key(model: row.model, batchSize: row.batch), default: [:]][row.threads, default: []]
          .append(row.samples_per_s)
        if let e = row.eval_samples_per_s_b1000, row.batch == 1 {
          evaluations[row.model, default: [:]][row.threads, default: []].append(e)
        }
      }
    }
    guard !samples.isEmpty else { return nil }
    var figures = PeerFigures(source: directory.path)
    for (key, byThreads) in samples {
      let best = byThreads.map { (median($0.value), $0.key) }.max { $0.0 < $1.0 }
      if let best { figures.training[key] = best }
    }
    for (model, byThreads) in evaluations {
      figures.evaluation[model] = byThreads.values.map(median).max()
    }
    return figures
  }
}

/// The median of a non-empty list (the upper median for even counts, as the peer tables use
/// the middle of three passes).
func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  return sorted[sorted.count / 2]
}
