import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import Testing

@testable import CoLearnCLI

/// The CSV and SVG writers against golden files in `Golden/`. After an intended change of the
/// output, regenerate them with `COLEARN_UPDATE_GOLDEN=1 swift test --filter FigureWriterTests`
/// and look at the SVGs before committing.
@Suite struct FigureWriterTests {
  static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden")

  /// Compares `text` with the golden file `name` (or rewrites it when asked to).
  func expectGolden(_ text: String, _ name: String) throws {
    let url = Self.golden.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["COLEARN_UPDATE_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(at: Self.golden, withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "\(name) differs from the golden file")
  }

  func metrics(best: Double, accuracies: [Double], bytesPerRound: Double = 0) -> RunMetrics {
    RunMetrics(
      directory: URL(fileURLWithPath: "/runs/x"),
      rows: accuracies.enumerated().map { index, accuracy in
        .init(
          step: index + 1, accuracy: accuracy, cumulativeBytes: bytesPerRound * Double(index + 1))
      }, hasBytes: bytesPerRound > 0, bestAccuracy: best, wallSeconds: 1)
  }

  /// A Figure 9-like summary: two series against log θ_u, a horizontal baseline, and the
  /// paper's points (hollow diamonds) and baseline (dotted).
  func summaryFigure() -> (SuiteFigure, [FigureEntry]) {
    let figure = SuiteFigure(
      id: "figure", title: "Accuracy against θ_u", kind: .summary, x: "upload-fraction",
      xLabel: "θ_u", xScale: .log, claims: [], baselines: ["standalone"], source: nil)
    var entries: [FigureEntry] = []
    for (series, base) in [("round-robin N=30", 0.95), ("async N=30, \"stale\"", 0.93)] {
      for (index, fraction) in [1, 0.1, 0.01, 0.001].enumerated() {
        let best = base - 0.02 * Double(index)
        entries.append(
          FigureEntry(
            series: series, run: "r\(index)", x: fraction,
            paper: series.hasPrefix("round") ? best + 0.01 : nil,
            metrics: metrics(best: best, accuracies: [best - 0.1, best])))
      }
    }
    entries.append(
      FigureEntry(
        series: "standalone", run: "standalone", x: nil, paper: 0.88,
        metrics: metrics(best: 0.86, accuracies: [0.8, 0.86])))
    return (figure, entries)
  }

  @Test func summaryCSVMatchesTheGoldenFile() throws {
    let (figure, entries) = summaryFigure()
    try expectGolden(figure.csv(entries), "summary.csv")
  }

  @Test func summarySVGMatchesTheGoldenFile() throws {
    let (figure, entries) = summaryFigure()
    try expectGolden(figure.chart(entries).svg(), "summary.svg")
  }

  @Test func bytesCurveCSVAndSVGMatchTheGoldenFiles() throws {
    let figure = SuiteFigure(
      id: "bytes", title: "Accuracy by bytes <IID & co>", kind: .bytes, x: nil,
      xLabel: "bytes", xScale: .log, claims: [], baselines: [], source: nil)
    let entries = [
      FigureEntry(
        series: "DSSGD", run: "dssgd", x: nil, paper: nil,
        metrics: metrics(best: 0.9, accuracies: [0.5, 0.8, 0.9], bytesPerRound: 2.5e6)),
      FigureEntry(
        series: "FedAvg", run: "fedavg", x: nil, paper: nil,
        metrics: metrics(best: 0.92, accuracies: [0.6, 0.85, 0.92], bytesPerRound: 3.4e7)),
    ]
    try expectGolden(figure.csv(entries), "bytes.csv")
    try expectGolden(figure.chart(entries).svg(), "bytes.svg")
  }

  @Test func theSVGIsWellFormedXML() throws {
    let (figure, entries) = summaryFigure()
    let parser = XMLParser(data: Data(figure.chart(entries).svg().utf8))
    #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
  }

  @Test func axesGetNiceTicks() {
    let linear = Axis(values: [0.8312, 0.9744], scale: .linear)
    #expect(linear.ticks.map { linear.label($0) } == ["0.80", "0.85", "0.90", "0.95", "1.00"])
    let log = Axis(values: [0.001, 1], scale: .log)
    #expect(log.ticks.map { log.label($0) } == ["0.001", "0.01", "0.1", "1"])
    let single = Axis(values: [0.5], scale: .linear)
    #expect(single.low < 0.5 && single.high > 0.5)
    #expect(Axis.niceStep(0.03) == 0.05)
    #expect(Axis.niceStep(7) == 10)
  }
}
