import CoLearnDSSGD
import CoLearnTensor

/// The server's state files (``FuzzTarget/wal``, ``FuzzTarget/snapshot``). The input's first
/// byte chooses the model's dimension (its low two bits) and, with its high bit set, recomputes
/// the checksums the mutations broke, so that they reach the fields behind them.
enum StateFileTargets {
  static let dimensions = [1, 5, 40, 1000]

  static func runLog(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
    guard let control = input.first else { return false }
    var bytes = Array(input.dropFirst())
    if control & 0x80 != 0 { StateFileReaders.fixLogChecksums(&bytes) }
    do {
      return try StateFileReaders.checkLog(bytes, dimension: dimensions[Int(control & 3)]) != nil
    } catch {
      throw FuzzFailure(target: .wal, message: error.description, input: input)
    }
  }

  static func runSnapshot(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
    guard let control = input.first else { return false }
    var bytes = Array(input.dropFirst())
    if control & 0x80 != 0 { StateFileReaders.fixSnapshotChecksum(&bytes) }
    do {
      return try StateFileReaders.checkSnapshot(bytes, dimension: dimensions[Int(control & 3)])
        == nil
    } catch {
      throw FuzzFailure(target: .snapshot, message: error.description, input: input)
    }
  }

  static func logSeeds(using generator: inout SeededGenerator) -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for (choice, dimension) in dimensions.enumerated() {
      for (records, base) in [(0, (UInt64(0), UInt64(0))), (3, (0, 0)), (12, (7, 5))] {
        let log = StateFileReaders.sampleLog(
          dimension: dimension, records: records, base: base, using: &generator)
        seeds.append([UInt8(choice) | 0x80] + log)
        seeds.append([UInt8(choice)] + log)
      }
    }
    return seeds
  }

  static func snapshotSeeds(using generator: inout SeededGenerator) -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for (choice, dimension) in dimensions.enumerated() where dimension <= 40 {
      for participants in [0, 1, 3] {
        let snapshot = StateFileReaders.sampleSnapshot(
          dimension: dimension, participants: participants, using: &generator)
        seeds.append([UInt8(choice) | 0x80] + snapshot)
        seeds.append([UInt8(choice)] + snapshot)
      }
    }
    return seeds
  }
}
