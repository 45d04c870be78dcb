import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// ``SparseRows``: each sample's entries off the background, listed once, and epochs that read
/// their batches from the listing.
@Suite struct SparseRowsTests {
  @Test func listsTheEntriesOffTheFirstValueBitForBit() throws {
    let c: Float = -0.25
    let features: [Float] = [
      c, c, 1, c, 2,  // two entries
      c, c, c, c, c,  // none
      -0.0, c, .nan, c, .infinity,  // −0, NaN and ∞ are entries
      c, 0.75, c, c, c,
    ]
    let rows = try #require(SparseRows(features: features, sampleSize: 5))
    #expect(rows.background == c && rows.count == 4 && rows.entryCount == 6)
    let first = rows.entries(ofSample: 0)
    #expect(Array(first.inputs) == [2, 4] && Array(first.values) == [1.25, 2.25] && first.sum == 3.5)
    let empty = rows.entries(ofSample: 1)
    #expect(empty.inputs.isEmpty && empty.sum == 0)
    let odd = rows.entries(ofSample: 2)
    #expect(Array(odd.inputs) == [0, 2, 4])
    #expect(odd.values.first == 0.25 && odd.values.dropFirst().first!.isNaN)
    #expect(odd.values.last == .infinity)
    #expect(Array(rows.entries(ofSample: 3).values) == [1])
  }

  @Test func aNonFiniteFirstValueMeansBackgroundZero() throws {
    let rows = try #require(SparseRows(features: [.nan, 0, 0, 0, 0, 0, 0, 3], sampleSize: 4))
    #expect(rows.background == 0)
    #expect(Array(rows.entries(ofSample: 0).inputs) == [0])
    #expect(Array(rows.entries(ofSample: 1).inputs) == [3])
  }

  @Test func declinesDataDenserThanTheLimit() {
    // 3 of 10 values off the background: at the limit of 0.3, then just above it.
    let atLimit: [Float] = [0, 1, 0, 0, 0, 0, 2, 0, 3, 0]
    #expect(SparseRows(features: atLimit, sampleSize: 5) != nil)
    var denser = atLimit
    denser[3] = 4
    #expect(SparseRows(features: denser, sampleSize: 5) == nil)
    let samples = LabeledSamples(features: denser, labels: [0, 1], sampleSize: 5)
    #expect(samples.indexingSparseRows().sparseRows == nil)
  }

  /// Epochs reading the listing equal epochs scanning the gathered batches, bit for bit: same
  /// entries in the same order, same background, same sums.
  @Test(arguments: [5, 1, 12])
  func epochsFromTheListingEqualScannedEpochs(batchSize: Int) throws {
    // Every sample's first input stays background (a padded image's corner), so a scanned batch
    // takes the same background as the listing.
    let fixture = SparseMLPFixture(
      outputs: 70, background: -0.4242, density: 0.15, backgroundFirstInputs: true, seed: 23)
    let (first, network, plain, w) = (fixture.first, fixture.network, fixture.samples, fixture.initial)
    let count = plain.count
    let configuration = try SGDConfiguration(learningRate: 0.2, batchSize: batchSize)
    let indexed = plain.indexingSparseRows()
    #expect(indexed.sparseRows?.count == count)

    let trainer = Trainer(network: network, configuration: configuration)
    var scanned = LocalModel(parameters: w)
    var listed = LocalModel(parameters: w)
    var scannedOrder = SeededGenerator(seed: 3)
    var listedOrder = SeededGenerator(seed: 3)
    for _ in 0..<3 {
      let a = trainer.trainEpoch(&scanned, on: plain, using: &scannedOrder)
      let scannedEntries = first.lastSparseEntries
      let b = trainer.trainEpoch(&listed, on: indexed, using: &listedOrder)
      #expect(first.lastSparseEntries != nil && first.lastSparseEntries == scannedEntries)
      #expect(a.meanLoss == b.meanLoss && a.trainingAccuracy == b.trainingAccuracy)
    }
    #expect(listed == scanned, "bit for bit")
    #expect(maximumAbsoluteDifference(listed.parameters, w) > 1e-2, "training moved the weights")
  }

  /// `trainEpoch(changes:)` gives w_new − w_old exactly (Float subtraction of the two vectors),
  /// and trains exactly as without it: the sparse first layer's fused write-back (listed rows),
  /// the scanned sparse epoch, the dense path and selective SGD (no epoch).
  @Test(arguments: [(true, 1.0), (false, 1.0), (false, 0.5)] as [(Bool, Double)])
  func changesAreTheDifferenceOfTheEpoch(listed: Bool, selectFraction: Double) throws {
    let fixture = SparseMLPFixture(
      outputs: 70, background: 0.3, density: 0.2, backgroundFirstInputs: false, seed: 29)
    let (network, plain, w) = (fixture.network, fixture.samples, fixture.initial)
    let configuration = try SGDConfiguration(
      learningRate: 0.2, batchSize: 5, selectFraction: selectFraction)
    let samples = listed ? plain.indexingSparseRows() : plain
    #expect((samples.sparseRows != nil) == listed)

    let trainer = Trainer(network: network, configuration: configuration)
    var tracked = LocalModel(parameters: w)
    var untracked = LocalModel(parameters: w)
    var trackedOrder = SeededGenerator(seed: 4)
    var untrackedOrder = SeededGenerator(seed: 4)
    var changes = [Float](repeating: .nan, count: w.count)
    for _ in 0..<2 {
      let before = tracked.parameters
      changes.withUnsafeMutableBufferPointer {
        _ = trainer.trainEpoch(&tracked, on: samples, using: &trackedOrder, changes: $0)
      }
      _ = trainer.trainEpoch(&untracked, on: samples, using: &untrackedOrder)
      let expected = zip(tracked.parameters, before).map { $0 - $1 }
      #expect(changes == expected, "Δw bit for bit")
      #expect(tracked == untracked, "tracking the changes does not change the training")
    }
    #expect(changes.contains { abs($0) > 1e-3 }, "the epoch changed the weights")
  }
}

/// An MLP (`inputs` (default 80) → `outputs` → ReLU → 3, log-softmax) with seeded initial
/// weights, and 12 samples that are `background` but for about `density` of their inputs (0…2.8).
struct SparseMLPFixture {
  let first: Linear
  let network: Network
  let samples: LabeledSamples
  let initial: [Float]

  /// - Parameter backgroundFirstInputs: every sample's first input stays background (else only
  ///   the first sample's is).
  init(
    inputs: Int = 80, outputs: Int, background: Float, density: Double,
    backgroundFirstInputs: Bool, seed: UInt64
  ) {
    let count = 12
    first = Linear(inputs: inputs, outputs: outputs)
    let relu = ReLU(input: first.outputShape)
    let last = Linear(input: relu.outputShape, outputs: 3)
    network = Network(layers: [first, relu, last, LogSoftmax(input: last.outputShape)])
    var generator = SeededGenerator(seed: seed)
    var features = [Float](repeating: background, count: count * inputs)
    for index in 1..<features.count
    where !(backgroundFirstInputs && index % inputs == 0)
      && Double.random(in: 0..<1, using: &generator) < density
    {
      features[index] = Float.random(in: 0...2.8, using: &generator)
    }
    samples = LabeledSamples(
      features: features, labels: (0..<count).map { Int32($0 % 3) }, sampleSize: inputs)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    initial = w
  }
}
