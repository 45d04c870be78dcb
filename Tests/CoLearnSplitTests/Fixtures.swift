import CoLearnData
import CoLearnNN
import CoLearnSplit
import CoLearnTensor
import CoLearnTestSupport

/// A small split network for fast tests: 16×16 inputs, conv 3×3 to 4 channels, pool 2 (7×7),
/// conv 3×3 to 6 channels, pool 2: 2×2×6 = 24 features; back 24→16→10.
let smallArchitecture = SplitArchitecture(
  inputShape: .image(height: 16, width: 16, channels: 1), convolutionChannels: [4, 6],
  kernelSize: 3, poolSize: 2, hiddenWidths: [16], classCount: 10)

/// Learnable synthetic shards of `architecture`'s input shape.
func syntheticShards(
  _ architecture: SplitArchitecture, participants: Int, perParticipant: Int, seed: UInt64 = 3
) -> (shards: [LabeledSamples], test: LabeledSamples) {
  let (train, test) = SyntheticData.make(
    shape: architecture.inputShape.dimensions, trainCount: participants * perParticipant,
    testCount: 60, noise: 0.3, seed: seed)
  let shards = (0..<participants).map { p in
    let part = train.subset(Array((p * perParticipant)..<((p + 1) * perParticipant)))
    return LabeledSamples(features: part.features, labels: part.labels, sampleSize: part.sampleSize)
  }
  return (shards, LabeledSamples(features: test.features, labels: test.labels, sampleSize: test.sampleSize))
}

/// Initial front and back vectors drawn from `seed`.
func initialParameters(_ architecture: SplitArchitecture, seed: UInt64 = 9) -> (front: [Float], back: [Float]) {
  var generator = SeededGenerator(seed: seed)
  let front = architecture.makeFront()
  let back = architecture.makeBack()
  var f = [Float](repeating: 0, count: front.parameterCount)
  var b = [Float](repeating: 0, count: back.parameterCount)
  front.initialize(&f, using: &generator)
  back.initialize(&b, using: &generator)
  return (f, b)
}
