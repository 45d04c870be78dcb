import Foundation

/// How an axis maps values to positions.
enum AxisScale: String, Sendable {
  case linear
  /// Powers of ten equally spaced; values ≤ 0 are left out.
  case log
}

/// A line chart rendered as a standalone SVG document, with no dependencies: axes with ticks
/// and labels, a title, a legend, lines with markers, horizontal lines for baselines, and
/// unconnected markers for reference points (the paper's numbers).
///
/// The output is deterministic (fixed number formats, series in the order given), so charts
/// can be compared with golden files.
struct LineChart {
  /// How a series is drawn.
  enum Style: Equatable {
    /// Points joined by a line, each with a marker.
    case line
    /// One value drawn as a dashed line across the whole plot (a baseline such as standalone).
    case horizontal
    /// Hollow markers, not joined (reference points such as the paper's numbers).
    case reference
    /// One reference value drawn as a dotted line across the plot (the paper's baseline).
    case referenceLine
  }

  struct Series {
    var label: String
    var points: [(x: Double, y: Double)]
    var style: Style = .line
    /// The colour index; series that belong together (ours and the paper's) share one.
    var color: Int
  }

  var title: String
  var xLabel: String
  var yLabel: String
  var xScale: AxisScale = .linear
  var series: [Series] = []

  /// The colours of the series, cycled (Tableau 10, readable on white).
  static let palette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
  ]

  // Layout, in SVG user units.
  static let width = 900.0
  static let height = 480.0
  static let plotLeft = 70.0
  static let plotRight = 610.0
  static let plotTop = 50.0
  static let plotBottom = 420.0

  /// The chart as an SVG document.
  func svg() -> String {
    let xs = series.filter { $0.style == .line || $0.style == .reference }.flatMap {
      $0.points.map(\.x)
    }
    .filter { xScale == .linear || $0 > 0 }
    let ys = series.flatMap { $0.points.map(\.y) }
    let xAxis = Axis(values: xs.isEmpty ? [0, 1] : xs, scale: xScale)
    let yAxis = Axis(values: ys.isEmpty ? [0, 1] : ys, scale: .linear)
    func px(_ x: Double) -> Double {
      Self.plotLeft + xAxis.position(of: x) * (Self.plotRight - Self.plotLeft)
    }
    func py(_ y: Double) -> Double {
      Self.plotBottom - yAxis.position(of: y) * (Self.plotBottom - Self.plotTop)
    }
    var out: [String] = []
    out.append(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(Self.width))\" "
        + "height=\"\(n(Self.height))\" viewBox=\"0 0 \(n(Self.width)) \(n(Self.height))\" "
        + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">")
    out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
    out.append(
      "<text x=\"\(n((Self.plotLeft + Self.plotRight) / 2))\" y=\"28\" text-anchor=\"middle\" "
        + "font-size=\"15\" font-weight=\"bold\">\(xmlEscaped(title))</text>")
    // Grid, ticks and tick labels.
    for tick in xAxis.ticks {
      let x = px(tick)
      out.append(
        "<line x1=\"\(n(x))\" y1=\"\(n(Self.plotTop))\" x2=\"\(n(x))\" y2=\"\(n(Self.plotBottom))\" "
          + "stroke=\"#e5e5e5\"/>")
      out.append(
        "<text x=\"\(n(x))\" y=\"\(n(Self.plotBottom + 18))\" text-anchor=\"middle\">"
          + "\(xAxis.label(tick))</text>")
    }
    for tick in yAxis.ticks {
      let y = py(tick)
      out.append(
        "<line x1=\"\(n(Self.plotLeft))\" y1=\"\(n(y))\" x2=\"\(n(Self.plotRight))\" y2=\"\(n(y))\" "
          + "stroke=\"#e5e5e5\"/>")
      out.append(
        "<text x=\"\(n(Self.plotLeft - 8))\" y=\"\(n(y + 4))\" text-anchor=\"end\">"
          + "\(yAxis.label(tick))</text>")
    }
    out.append(
      "<rect x=\"\(n(Self.plotLeft))\" y=\"\(n(Self.plotTop))\" "
        + "width=\"\(n(Self.plotRight - Self.plotLeft))\" "
        + "height=\"\(n(Self.plotBottom - Self.plotTop))\" fill=\"none\" stroke=\"black\"/>")
    out.append(
      "<text x=\"\(n((Self.plotLeft + Self.plotRight) / 2))\" y=\"\(n(Self.plotBottom + 42))\" "
        + "text-anchor=\"middle\">\(xmlEscaped(xLabel))</text>")
    let middle = (Self.plotTop + Self.plotBottom) / 2
    out.append(
      "<text x=\"18\" y=\"\(n(middle))\" text-anchor=\"middle\" "
        + "transform=\"rotate(-90 18 \(n(middle)))\">\(xmlEscaped(yLabel))</text>")
    // Series.
    for item in series {
      let color = Self.palette[item.color % Self.palette.count]
      let points = item.points.filter { xScale == .linear || $0.x > 0 || item.style.isAcross }
      switch item.style {
      case .horizontal:
        guard let y = points.first?.y else { continue }
        out.append(horizontal(py(y), color: color, dash: "8 4"))
      case .referenceLine:
        guard let y = points.first?.y else { continue }
        out.append(horizontal(py(y), color: color, dash: "2 3"))
      case .reference:
        for point in points {
          out.append(marker(px(point.x), py(point.y), color: color, hollow: true))
        }
      case .line:
        if points.count > 1 {
          let path = points.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
          out.append(
            "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>")
        }
        if points.count <= 40 {
          for point in points { out.append(marker(px(point.x), py(point.y), color: color)) }
        }
      }
    }
    // Legend.
    let legendX = Self.plotRight + 20
    for (index, item) in series.enumerated() {
      let y = Self.plotTop + 8 + Double(index) * 20
      let color = Self.palette[item.color % Self.palette.count]
      switch item.style {
      case .line:
        out.append(
          "<line x1=\"\(n(legendX))\" y1=\"\(n(y))\" x2=\"\(n(legendX + 24))\" y2=\"\(n(y))\" "
            + "stroke=\"\(color)\" stroke-width=\"2\"/>")
        out.append(marker(legendX + 12, y, color: color))
      case .horizontal, .referenceLine:
        out.append(
          "<line x1=\"\(n(legendX))\" y1=\"\(n(y))\" x2=\"\(n(legendX + 24))\" y2=\"\(n(y))\" "
            + "stroke=\"\(color)\" stroke-width=\"2\" "
            + "stroke-dasharray=\"\(item.style == .horizontal ? "8 4" : "2 3")\"/>")
      case .reference:
        out.append(marker(legendX + 12, y, color: color, hollow: true))
      }
      out.append(
        "<text x=\"\(n(legendX + 32))\" y=\"\(n(y + 4))\">\(xmlEscaped(item.label))</text>")
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  private func horizontal(_ y: Double, color: String, dash: String) -> String {
    "<line x1=\"\(n(Self.plotLeft))\" y1=\"\(n(y))\" x2=\"\(n(Self.plotRight))\" y2=\"\(n(y))\" "
      + "stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\"/>"
  }

  private func marker(_ x: Double, _ y: Double, color: String, hollow: Bool = false) -> String {
    if hollow {
      return "<rect x=\"\(n(x - 5))\" y=\"\(n(y - 5))\" width=\"10\" height=\"10\" "
        + "fill=\"white\" stroke=\"\(color)\" stroke-width=\"2\" transform=\"rotate(45 \(n(x)) \(n(y)))\"/>"
    }
    return "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"3.5\" fill=\"\(color)\"/>"
  }
}

extension LineChart.Style {
  /// Whether the series is one value drawn across the plot rather than points at x positions.
  var isAcross: Bool { self == .horizontal || self == .referenceLine }
}

/// `value` with one decimal, as SVG coordinates are written.
private func n(_ value: Double) -> String {
  let text = String(format: "%.1f", value)
  return text == "-0.0" ? "0.0" : text
}

/// `text` with the XML special characters escaped.
func xmlEscaped(_ text: String) -> String {
  text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// An axis fitted to data: its range, its ticks and their labels.
struct Axis {
  let scale: AxisScale
  let low: Double
  let high: Double
  let ticks: [Double]
  private let decimals: Int

  /// An axis covering `values` with about five "nice" ticks (1, 2 or 5 × 10^k apart), or one
  /// tick per power of ten on a log axis (every second or third power beyond eight decades).
  init(values: [Double], scale: AxisScale) {
    self.scale = scale
    var minimum = values.min() ?? 0
    var maximum = values.max() ?? 1
    switch scale {
    case .log:
      minimum = max(minimum, 1e-300)
      maximum = max(maximum, minimum)
      var lowPower = (log10(minimum) + 1e-9).rounded(.down)
      var highPower = (log10(maximum) - 1e-9).rounded(.up)
      if highPower <= lowPower {
        lowPower -= 1
        highPower += 1
      }
      // A fifth of a decade of margin, so that points on a decade are not drawn on the frame.
      low = pow(10, lowPower - 0.2)
      high = pow(10, highPower + 0.2)
      let stride = max(1, Int(((highPower - lowPower) / 8).rounded(.up)))
      ticks = Swift.stride(from: Int(lowPower), through: Int(highPower), by: stride)
        .map { pow(10, Double($0)) }
      decimals = 0
    case .linear:
      if maximum - minimum < 1e-12 {
        let pad = max(abs(maximum) * 0.05, 0.01)
        minimum -= pad
        maximum += pad
      }
      // A little room below the lowest value, so that a baseline is not drawn on the frame.
      minimum -= (maximum - minimum) * 0.02
      let step = Axis.niceStep((maximum - minimum) / 5)
      let first = (minimum / step + 1e-9).rounded(.down) * step
      let last = (maximum / step - 1e-9).rounded(.up) * step
      low = first
      high = last
      let count = Int(((last - first) / step).rounded())
      ticks = (0...count).map { first + Double($0) * step }
      decimals = max(0, Int((-log10(step) + 1e-9).rounded(.up)))
    }
  }

  /// 1, 2 or 5 × 10^k, the smallest such step ≥ `raw`.
  static func niceStep(_ raw: Double) -> Double {
    let power = pow(10, log10(raw).rounded(.down))
    for factor in [1.0, 2, 5, 10] where factor * power >= raw * (1 - 1e-9) {
      return factor * power
    }
    return 10 * power
  }

  /// Where `value` lies on the axis, 0 at the low end and 1 at the high end.
  func position(of value: Double) -> Double {
    switch scale {
    case .linear: return (value - low) / (high - low)
    case .log: return (log10(max(value, 1e-300)) - log10(low)) / (log10(high) - log10(low))
    }
  }

  /// The label of a tick: fixed decimals on a linear axis, `0.001`, `1`, `1000`, `1e+06` on a
  /// log axis.
  func label(_ tick: Double) -> String {
    switch scale {
    case .linear: return String(format: "%.\(decimals)f", tick)
    case .log: return String(format: "%g", tick)
    }
  }
}
