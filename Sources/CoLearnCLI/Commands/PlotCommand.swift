import ArgumentParser
import Foundation

/// `colearn plot RUN_DIR...`: accuracy against round and against bytes communicated, for any
/// run directories of `colearn train` or `colearn simulate`, as SVG.
struct PlotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plot",
    abstract: "Plot test accuracy against round and against bytes for run directories.",
    discussion: """
      Reads metrics.csv of each run directory and writes accuracy-vs-round.svg, \
      accuracy-vs-bytes.svg (for runs with communication columns: simulate) and the data as \
      accuracy.csv into --out. Each run is one line, labelled with its directory name.
      """)

  @Argument(help: "Run directories (holding metrics.csv).")
  var runs: [String] = []

  @Option(help: "Output directory.")
  var out: String = "plots"

  @Option(help: "Title of the plots.")
  var title: String?

  func validate() throws {
    if runs.isEmpty { throw ValidationError("name at least one run directory") }
  }

  func run() throws {
    let metrics = try runs.map { try RunMetrics(directory: URL(fileURLWithPath: $0)) }
    let entries = zip(runs, metrics).map { path, metrics in
      let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
      return FigureEntry(series: name, run: name, x: nil, paper: nil, metrics: metrics)
    }
    let output = URL(fileURLWithPath: out)
    do {
      try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot create output directory \(out): \(error.localizedDescription)")
    }
    var written: [String] = []
    func write(_ text: String, _ name: String) throws {
      let url = output.appendingPathComponent(name)
      do {
        try Data(text.utf8).write(to: url, options: .atomic)
      } catch {
        throw CLIError("cannot write \(url.path): \(error.localizedDescription)")
      }
      written.append(url.path)
    }
    let rounds = SuiteFigure(
      id: "accuracy-vs-round", title: title ?? "Test accuracy by round", kind: .curve, x: nil,
      xLabel: "round (epoch for train)", xScale: .linear, claims: [], baselines: [], source: nil)
    try write(rounds.chart(entries).svg(), "accuracy-vs-round.svg")
    try write(rounds.csv(entries), "accuracy.csv")
    let communicating = entries.filter(\.metrics.hasBytes)
    if !communicating.isEmpty {
      var bytes = rounds
      bytes.id = "accuracy-vs-bytes"
      bytes.kind = .bytes
      bytes.title = title ?? "Test accuracy by bytes communicated"
      bytes.xLabel = "bytes uploaded and downloaded (all participants)"
      bytes.xScale = .log
      try write(bytes.chart(communicating).svg(), "accuracy-vs-bytes.svg")
    }
    for path in written { print("wrote \(path)") }
  }
}
