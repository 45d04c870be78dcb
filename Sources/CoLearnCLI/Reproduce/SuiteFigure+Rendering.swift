import Foundation

/// One run as a figure shows it.
struct FigureEntry {
  /// The legend label; runs with the same label form one line.
  var series: String
  var run: String
  /// The run's value of the figure's x setting (summary figures); nil draws it as a baseline.
  var x: Double?
  /// The paper's number for the run.
  var paper: Double?
  var metrics: RunMetrics
}

extension SuiteFigure {
  /// The figure's data as CSV: per run its best accuracy, the paper's number and the
  /// difference (summary), or per evaluated round its accuracy and cumulative bytes (curve,
  /// bytes). Accuracies are fractions, differences ours − paper.
  func csv(_ entries: [FigureEntry]) -> String {
    var lines: [String]
    switch kind {
    case .summary:
      lines = ["series,run,\(x ?? "x"),best_accuracy,paper,difference"]
      for entry in entries {
        let best = entry.metrics.bestAccuracy
        let difference = best.flatMap { ours in entry.paper.map { ours - $0 } }
        lines.append(
          [
            csvField(entry.series), csvField(entry.run), entry.x.map(shortNumber) ?? "",
            best.map { format($0, 5) } ?? "", entry.paper.map { format($0, 4) } ?? "",
            difference.map { format($0, 5) } ?? "",
          ].joined(separator: ","))
      }
    case .curve, .bytes:
      lines = ["series,run,round,bytes,accuracy"]
      for entry in entries {
        for row in entry.metrics.evaluated {
          lines.append(
            [
              csvField(entry.series), csvField(entry.run), "\(row.step)",
              String(format: "%.0f", row.cumulativeBytes), format(row.accuracy ?? 0, 5),
            ].joined(separator: ","))
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The figure as a chart: summary figures draw each series' best accuracies against x (runs
  /// without x as dashed horizontal lines) with the paper's numbers as hollow diamonds (dotted
  /// lines for baselines); curve and bytes figures draw one line per run.
  func chart(_ entries: [FigureEntry]) -> LineChart {
    var chart = LineChart(
      title: title, xLabel: xLabel,
      yLabel: kind == .summary ? "best test accuracy" : "test accuracy", xScale: xScale)
    var labels: [String] = []
    for entry in entries where !labels.contains(entry.series) { labels.append(entry.series) }
    for (color, label) in labels.enumerated() {
      let members = entries.filter { $0.series == label }
      switch kind {
      case .summary:
        let located = members.filter { $0.x != nil }
        if located.isEmpty {
          if let best = members.first?.metrics.bestAccuracy {
            chart.series.append(
              .init(label: label, points: [(0, best)], style: .horizontal, color: color))
          }
        } else {
          let points = located.compactMap { entry in
            entry.metrics.bestAccuracy.map { (x: entry.x ?? 0, y: $0) }
          }.sorted { $0.x < $1.x }
          chart.series.append(.init(label: label, points: points, style: .line, color: color))
        }
        let paper = members.compactMap { entry in entry.paper.map { (x: entry.x ?? 0, y: $0) } }
        if !paper.isEmpty {
          chart.series.append(
            .init(
              label: "paper: \(label)", points: paper.sorted { $0.x < $1.x },
              style: located.isEmpty ? .referenceLine : .reference, color: color))
        }
      case .curve, .bytes:
        for entry in members {
          let points = entry.metrics.evaluated.map { row in
            (x: kind == .curve ? Double(row.step) : row.cumulativeBytes, y: row.accuracy ?? 0)
          }
          let name = members.count > 1 ? "\(label) (\(entry.run))" : label
          chart.series.append(.init(label: name, points: points, style: .line, color: color))
        }
      }
    }
    return chart
  }
}

/// A number as written in a suite (`0.001`, `30`, `1e-05` for very small values).
func shortNumber(_ value: Double) -> String {
  if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.0f", value) }
  return String(format: "%g", value)
}

/// `text` quoted for CSV when it holds a comma or a quote.
func csvField(_ text: String) -> String {
  guard text.contains(",") || text.contains("\"") else { return text }
  return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
