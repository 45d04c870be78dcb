import CZlib
import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The simulation checkpoint reader (``FuzzTarget/checkpoint``). The input's first byte, with
/// its high bit set, recomputes the trailing CRC the mutations broke, so that they reach the
/// header and the vectors behind it.
enum CheckpointTarget {
  static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
    guard let control = input.first else { return false }
    var bytes = Array(input.dropFirst())
    if control & 0x80 != 0, bytes.count >= 4 {
      let checksum = bytes.withUnsafeBufferPointer {
        UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count - 4)))
      }
      for shift in 0..<4 {
        bytes[bytes.count - 4 + shift] = UInt8(truncatingIfNeeded: checksum >> (8 * shift))
      }
    }
    guard let checkpoint = try? SimulationCheckpoint(decoding: bytes, path: "checkpoint.bin")
    else { return false }
    func fail(_ message: String) -> FuzzFailure {
      FuzzFailure(target: .checkpoint, message: message, input: input)
    }
    let dimension = checkpoint.models.first?.parameters.count ?? checkpoint.global?.count ?? 0
    guard checkpoint.models.allSatisfy({ $0.parameters.count == dimension }),
      checkpoint.global.map({ $0.count == dimension }) ?? true,
      checkpoint.stat.map({ $0.count == dimension }) ?? true
    else { throw fail("read vectors of different lengths") }
    let floats = 4 * dimension * (checkpoint.models.count + 2)
    guard floats <= bytes.count + 8 else {
      throw fail("read \(floats) bytes of vectors from \(bytes.count) bytes")
    }
    let encoded: [UInt8]
    do {
      encoded = try checkpoint.encoded()
    } catch {
      throw fail("the checkpoint read cannot be written again (\(error))")
    }
    guard let reread = try? SimulationCheckpoint(decoding: encoded, path: "checkpoint.bin"),
      same(reread, checkpoint)
    else { throw fail("the checkpoint read does not read back the same once written") }
    return true
  }

  /// Equal, with floats compared bit for bit (a NaN read must read back as the same NaN).
  /// (The bytes themselves need not repeat: the JSON header's key order may change.)
  private static func same(_ a: SimulationCheckpoint, _ b: SimulationCheckpoint) -> Bool {
    func bits(_ values: [Float]?) -> [UInt32]? { values?.map(\.bitPattern) }
    return a.roundsCompleted == b.roundsCompleted
      && a.models.map(\.stepCount) == b.models.map(\.stepCount)
      && a.models.map { bits($0.parameters) } == b.models.map { bits($0.parameters) }
      && a.generators == b.generators && a.ledgers == b.ledgers
      && bits(a.global) == bits(b.global) && bits(a.stat) == bits(b.stat)
      && a.uploadCount == b.uploadCount && a.updatedParameterCount == b.updatedParameterCount
      && a.annotation == b.annotation
  }

  static func seeds(using generator: inout SeededGenerator) -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for (participants, dimension, dssgd, privacy) in [
      (1, 0, false, false), (1, 3, false, false), (2, 5, true, false), (3, 4, true, true),
    ] {
      let models = (0..<participants).map { number in
        LocalModel(
          parameters: (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) },
          stepCount: 10 * number)
      }
      let generators = (0...participants).map { SeededGenerator(seed: UInt64($0) + 1) }
      var checkpoint = SimulationCheckpoint(
        roundsCompleted: 7, models: models, generators: generators)
      if dssgd {
        checkpoint.global = [Float](repeating: 0.25, count: dimension)
        checkpoint.stat = [Float](repeating: 1, count: dimension)
        checkpoint.uploadCount = 12
        checkpoint.updatedParameterCount = 30
      }
      if privacy, let budget = try? PrivacyBudget(totalEpsilon: 10) {
        checkpoint.ledgers = (0..<participants).map { _ in
          var ledger = PrivacyLedger(budget: budget)
          _ = ledger.beginEpoch(epsilon: 1, capacity: 4)
          ledger.chargeUpload()
          return ledger
        }
      }
      checkpoint.annotation = Data("{\"rounds\":7}".utf8)
      if let bytes = try? checkpoint.encoded() {
        seeds.append([0x80] + bytes)
        seeds.append([0] + bytes)
      }
    }
    return seeds
  }
}
