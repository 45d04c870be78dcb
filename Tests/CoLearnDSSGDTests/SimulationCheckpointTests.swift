import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

@Suite struct SimulationCheckpointTests {
  func sample() -> SimulationCheckpoint {
    var generator = SeededGenerator(seed: 7)
    let models = (0..<3).map { id in
      LocalModel(
        parameters: (0..<5).map { _ in Float.random(in: -1...1, using: &generator) },
        stepCount: 10 * id)
    }
    var checkpoint = SimulationCheckpoint(
      roundsCompleted: 4, models: models,
      generators: [generator.derived(stream: 1), generator.derived(stream: 2)])
    checkpoint.global = [1, -2, .infinity, 0, -0.0]
    checkpoint.stat = [0.8, 0, 1.6, 0, 0.64]
    checkpoint.uploadCount = 12
    checkpoint.updatedParameterCount = 24
    checkpoint.annotation = Data("{\"note\":1}".utf8)
    return checkpoint
  }

  @Test func encodingRoundTripsExactly() throws {
    let checkpoint = sample()
    let decoded = try SimulationCheckpoint(decoding: checkpoint.encoded(), path: "x")
    #expect(decoded == checkpoint)
    // −0 and the generator states survive bit for bit.
    #expect(decoded.global![4].sign == .minus)
    var a = decoded.generators[1]
    var b = checkpoint.generators[1]
    #expect(a.next() == b.next())
  }

  @Test func damagedOrForeignFilesAreRefused() throws {
    let bytes = try sample().encoded()
    var flipped = bytes
    flipped[bytes.count / 2] ^= 0x10
    #expect(throws: CheckpointError.self) { try SimulationCheckpoint(decoding: flipped, path: "c") }
    #expect(throws: CheckpointError.self) {
      try SimulationCheckpoint(decoding: Array(bytes.prefix(bytes.count - 9)), path: "c")
    }
    #expect(throws: CheckpointError.self) {
      try SimulationCheckpoint(decoding: Array("not a checkpoint at all".utf8), path: "c")
    }
    do {
      _ = try SimulationCheckpoint(decoding: flipped, path: "/runs/a/checkpoint.bin")
    } catch {
      #expect(error.description.contains("/runs/a/checkpoint.bin"))
      #expect(error.description.contains("damaged"))
    }
  }

  /// Fuzzing found (docs/FUZZING.md): behind a valid checksum, a header length above Int.max
  /// and a header |w| whose vector size overflows trapped the reader.
  @Test func impossibleSizesAreRefusedNotTrappedOn() throws {
    let bytes = try sample().encoded()
    var hugeLength = bytes  // the header's length (u64 after the 8-byte magic)
    putLittleEndian(.max, into: &hugeLength, at: 8, width: 8)
    #expect(throws: CheckpointError.unreadable(path: "c", reason: "truncated header")) {
      try SimulationCheckpoint(decoding: withTrailingCRC32(hugeLength), path: "c")
    }
    // The JSON header with |w| = 2⁶² (4 · |w| · 5 vectors overflows).
    let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16
    let json = String(decoding: bytes[16..<(16 + length)], as: UTF8.self)
    #expect(json.contains("\"dimension\":5"))
    let huge = Array(
      json.replacingOccurrences(of: "\"dimension\":5", with: "\"dimension\":4611686018427387904")
        .utf8)
    var patched = Array(bytes[0..<8]) + [UInt8](repeating: 0, count: 8) + huge
      + bytes[(16 + length)...]
    putLittleEndian(UInt64(huge.count), into: &patched, at: 8, width: 8)
    #expect(
      throws: CheckpointError.unreadable(
        path: "c", reason: "the vectors do not have the sizes the header gives")
    ) { try SimulationCheckpoint(decoding: withTrailingCRC32(patched), path: "c") }
  }

  @Test func writeAndReadThroughTheFileSystem() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("colearn-ckpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("checkpoint.bin").path
    #expect(try SimulationCheckpoint.read(from: path) == nil)
    try sample().write(to: path)
    #expect(try SimulationCheckpoint.read(from: path) == sample())
  }

  /// A DSSGD simulation restored into a fresh one continues exactly as the original.
  @Test func aRestoredSimulationContinuesExactly() throws {
    var generator = SeededGenerator(seed: 3)
    let spec = ModelSpec.mnistMLP
    let network = spec.makeNetwork()
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    let sampleSize = network.inputShape.count
    let shards = (0..<2).map { (id: Int) -> LabeledSamples in
      var features = [Float](repeating: 0, count: 8 * sampleSize)
      for i in features.indices { features[i] = Float((i * 7 + id) % 13) / 13 - 0.5 }
      var labels = [Int32](repeating: 0, count: 8)
      for i in labels.indices { labels[i] = Int32((i + id) % 10) }
      return LabeledSamples(features: features, labels: labels, sampleSize: sampleSize)
    }
    let configuration = try DSSGDConfiguration(participants: 2, uploadFraction: 0.1)
    func make() -> DSSGDSimulation {
      DSSGDSimulation(
        makeNetwork: { spec.makeNetwork() },
        training: try! SGDConfiguration(learningRate: 0.05, batchSize: 4),
        configuration: configuration, initialParameters: initial, shards: shards,
        generator: generator)
    }
    let original = make()
    _ = try original.runRound()
    let saved = try original.checkpoint()
    _ = try original.runRound()
    let resumed = make()
    try resumed.restore(from: saved)
    #expect(resumed.roundsCompleted == 1)
    _ = try resumed.runRound()
    #expect(resumed.server.parameters == original.server.parameters)
    #expect(resumed.server.stat == original.server.stat)
    #expect(resumed.participants.map(\.model) == original.participants.map(\.model))
    // A checkpoint of another federation size is refused.
    let other = DSSGDSimulation(
      makeNetwork: { spec.makeNetwork() },
      training: try! SGDConfiguration(learningRate: 0.05, batchSize: 4),
      configuration: try DSSGDConfiguration(participants: 1, uploadFraction: 0.1),
      initialParameters: initial, shards: [shards[0]], generator: generator)
    #expect(throws: CheckpointError.self) { try other.restore(from: saved) }
  }
}
