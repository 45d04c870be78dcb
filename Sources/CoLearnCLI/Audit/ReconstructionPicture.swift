import CoLearnAudit
import CoLearnNN
import Foundation

/// One row of the audit's reconstruction figure (reconstructions.svg): a participant's record
/// beside the best-matching input the server rebuilt from its upload's linear first layer.
struct ReconstructionPicture {
  var participant: Int
  var round: Int
  /// The record's position in the participant's shard.
  var record: Int
  /// The cosine similarity of the reconstruction with the record.
  var similarity: Double
  var original: [Float]
  var reconstruction: [Float]
  /// The image's height, width and channels (channels-last, as ``TensorShape``).
  var height: Int
  var width: Int
  var channels: Int

  /// The image layout of `shape`: [H, W, C] as it is, a flat vector of a square length (MNIST's
  /// 784) as a square grey image; nil for anything else (tabular data is not drawn).
  static func imageLayout(_ shape: TensorShape) -> (height: Int, width: Int, channels: Int)? {
    let dimensions = shape.dimensions
    if dimensions.count == 3, dimensions[2] == 1 || dimensions[2] == 3 {
      return (dimensions[0], dimensions[1], dimensions[2])
    }
    guard dimensions.count == 1, dimensions[0] >= 64 else { return nil }
    let side = Int(Double(dimensions[0]).squareRoot().rounded())
    return side * side == dimensions[0] ? (side, side, 1) : nil
  }

  /// Up to `count` rows for one upload: the records of `records` that the reconstructions of
  /// `change` match best, best first. Empty when the input is not an image or no row was usable.
  static func best(
    _ attack: LinearLayerReconstruction, change: [Float], records: LabeledSamples,
    inputShape: TensorShape, participant: Int, round: Int, count: Int
  ) throws -> [ReconstructionPicture] {
    guard let layout = imageLayout(inputShape), count > 0 else { return [] }
    let candidates = try attack.reconstructions(from: change)
    guard !candidates.isEmpty else { return [] }
    let size = records.sampleSize
    var matches: [(record: Int, candidate: Int, similarity: Double)] = []
    for record in 0..<records.count {
      let x = records.features[record * size..<(record + 1) * size]
      var best = (candidate: 0, similarity: -2.0)
      for (index, candidate) in candidates.enumerated() {
        let similarity = cosineSimilarity(x, candidate)
        if similarity > best.similarity { best = (index, similarity) }
      }
      matches.append((record, best.candidate, best.similarity))
    }
    return matches.sorted { $0.similarity > $1.similarity }.prefix(count).map { match in
      ReconstructionPicture(
        participant: participant, round: round, record: match.record,
        similarity: match.similarity,
        original: Array(records.features[match.record * size..<(match.record + 1) * size]),
        reconstruction: candidates[match.candidate], height: layout.height,
        width: layout.width, channels: layout.channels)
    }
  }

  /// The figure: one row per picture, original | reconstruction, each image scaled to its own
  /// minimum and maximum (a reconstruction is the record up to a positive factor).
  static func svg(_ pictures: [ReconstructionPicture]) -> String {
    let pixel = 4
    let margin = 10
    let label = 150
    guard let first = pictures.first else { return "" }
    let cell = max(first.height, first.width) * pixel
    let rowHeight = cell + margin
    let width = label + 2 * (cell + margin) + margin
    let height = 30 + pictures.count * rowHeight + margin
    var out = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        + "font-family=\"sans-serif\" font-size=\"11\">",
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
      "<text x=\"\(label + margin)\" y=\"18\">original</text>",
      "<text x=\"\(label + cell + 2 * margin)\" y=\"18\">reconstruction</text>",
    ]
    for (row, picture) in pictures.enumerated() {
      let top = 30 + row * rowHeight
      out.append(
        "<text x=\"4\" y=\"\(top + cell / 2)\">participant \(picture.participant), round "
          + "\(picture.round)</text>")
      out.append(
        "<text x=\"4\" y=\"\(top + cell / 2 + 14)\">record \(picture.record), cos "
          + "\(format(picture.similarity, 3))</text>")
      for (column, image) in [picture.original, picture.reconstruction].enumerated() {
        let left = label + margin + column * (cell + margin)
        out += picture.pixels(image, left: left, top: top, size: pixel)
      }
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// One `rect` per pixel of `image`, grey or RGB, scaled to [0, 255].
  private func pixels(_ image: [Float], left: Int, top: Int, size: Int) -> [String] {
    let low = image.min() ?? 0
    let high = image.max() ?? 1
    let scale = high > low ? 255 / (high - low) : 0
    var rects: [String] = []
    for y in 0..<height {
      for x in 0..<width {
        let base = (y * width + x) * channels
        let levels = (0..<3).map { c -> Int in
          let value = image[base + (channels == 3 ? c : 0)]
          return Int(((value - low) * scale).rounded()).clamped(0, 255)
        }
        rects.append(
          "<rect x=\"\(left + x * size)\" y=\"\(top + y * size)\" width=\"\(size)\" "
            + "height=\"\(size)\" fill=\"rgb(\(levels[0]),\(levels[1]),\(levels[2]))\"/>")
      }
    }
    return rects
  }
}

extension Int {
  fileprivate func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(self, low), high) }
}
