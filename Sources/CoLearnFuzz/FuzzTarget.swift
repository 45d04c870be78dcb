import CoLearnTensor

/// A reader of untrusted bytes that the fuzzers exercise: each target feeds one input to the
/// reader and checks what it returned (see each case). A target never traps on its own: a trap,
/// a hang or a huge allocation while it runs is a bug in the reader.
public enum FuzzTarget: String, CaseIterable, Sendable {
  /// `SparseCodec.decode` and `SparseVector(proto:dimension:)` (what the server decodes uploads
  /// and the client downloads with): a vector read is valid for its dimension, holds no more
  /// entries than the bytes can encode, and encodes back to a vector that reads the same.
  case sparse
  /// The `uploads.wal` reader: records, damage and tail partition the file, numbers increase,
  /// every intact record encodes back to its bytes.
  case wal
  /// The `snapshot.bin` reader: a state read is finite and of the model's dimension, and reads
  /// back the same once written.
  case snapshot
  /// The server's token file (`TokenFile(text:path:)`): a file read writes back to a file that
  /// reads the same.
  case tokens
  /// The simulation checkpoint (`SimulationCheckpoint(decoding:path:)`): a checkpoint read has
  /// vectors of one dimension and encodes back to a checkpoint that reads the same.
  case checkpoint

  /// Runs the reader on `input` and checks the result.
  ///
  /// - Returns: true when the reader accepted the input (false: it threw a typed error).
  /// - Throws: ``FuzzFailure`` when the reader returned something inconsistent.
  public func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
    switch self {
    case .sparse: return try SparseVectorTarget.run(input)
    case .wal: return try StateFileTargets.runLog(input)
    case .snapshot: return try StateFileTargets.runSnapshot(input)
    case .tokens: return try TokenFileTarget.run(input)
    case .checkpoint: return try CheckpointTarget.run(input)
    }
  }

  /// Valid inputs made by the real encoders: the seed corpus the mutations start from.
  public func seeds() -> [[UInt8]] {
    var generator = SeededGenerator(seed: 0x5EED)
    switch self {
    case .sparse: return SparseVectorTarget.seeds(using: &generator)
    case .wal: return StateFileTargets.logSeeds(using: &generator)
    case .snapshot: return StateFileTargets.snapshotSeeds(using: &generator)
    case .tokens: return TokenFileTarget.seeds()
    case .checkpoint: return CheckpointTarget.seeds(using: &generator)
    }
  }
}

/// A reader returned something its format does not allow (the input is kept to reproduce it).
public struct FuzzFailure: Error, CustomStringConvertible {
  public var target: FuzzTarget
  public var message: String
  public var input: [UInt8]

  public init(target: FuzzTarget, message: String, input: [UInt8]) {
    self.target = target
    self.message = message
    self.input = input
  }

  public var description: String {
    "\(target.rawValue): \(message) (input of \(input.count) bytes: "
      + input.prefix(64).map { String($0, radix: 16) }.joined(separator: " ")
      + (input.count > 64 ? " …)" : ")")
  }
}
