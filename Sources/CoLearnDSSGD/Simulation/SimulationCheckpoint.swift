import CZlib
import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import Foundation

/// Everything a simulation needs to continue exactly where it stopped: every participant's model,
/// step count, random stream and privacy ledger, the server's w_global and `stat`, and the
/// algorithm's own streams. Resuming from it gives, round for round, the run that never stopped
/// (bit for bit for `round-robin`, `random-order` and the baselines, at the same thread count).
///
/// Not included: a seeded privacy-noise source (`--insecure-seeded-noise`), whose buffered bits
/// would have to be saved too; such runs are refused (``CheckpointError/unsupported(_:)``).
/// Secure noise needs no state: a resumed participant draws fresh bits from the system, as a
/// restarted real participant would.
public struct SimulationCheckpoint: Sendable, Equatable {
  /// Rounds completed when the checkpoint was taken.
  public var roundsCompleted: Int
  /// The participants' models (the centralized model for `centralized`).
  public var models: [LocalModel]
  /// The participants' random streams, then the algorithm's own (turn order, shuffling).
  public var generators: [SeededGenerator]
  /// The participants' privacy ledgers (empty without privacy).
  public var ledgers: [PrivacyLedger]
  /// w_global (DSSGD) or the global model (FedAvg).
  public var global: [Float]?
  /// The server's decayed update counts (DSSGD).
  public var stat: [Float]?
  /// The server's counters (DSSGD): uploads applied, and parameters updated by them.
  public var uploadCount = 0
  public var updatedParameterCount = 0
  /// The caller's own record (the command line's settings and running totals), kept verbatim.
  public var annotation: Data = Data()

  public init(roundsCompleted: Int, models: [LocalModel], generators: [SeededGenerator]) {
    self.roundsCompleted = roundsCompleted
    self.models = models
    self.generators = generators
    ledgers = []
  }
}

/// Why a checkpoint could not be taken, read or used.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  /// The file is not a colearn simulation checkpoint, or is damaged.
  case unreadable(path: String, reason: String)
  /// The checkpoint does not fit this simulation (another model, N, algorithm).
  case mismatch(String)
  /// This kind of run cannot be checkpointed.
  case unsupported(String)
  /// Writing failed.
  case io(String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason):
      return "\(path) is not a usable simulation checkpoint (\(reason)); "
        + "start the run again without --resume, or in another --out directory"
    case .mismatch(let reason):
      return "the checkpoint does not belong to this simulation: \(reason)"
    case .unsupported(let reason): return reason
    case .io(let reason): return reason
    }
  }
}

/// A simulation that can save its state and continue from it.
public protocol CheckpointableSimulation: FederatedAlgorithm {
  /// The state after the last completed round.
  func checkpoint() throws(CheckpointError) -> SimulationCheckpoint
  /// Replaces the state by `checkpoint`'s (taken from a simulation built with the same settings).
  func restore(from checkpoint: SimulationCheckpoint) throws(CheckpointError)
}

extension SimulationCheckpoint {
  private static let magic = Array("CLSIMCK1".utf8)

  /// The JSON header: everything but the float vectors.
  private struct Header: Codable {
    var roundsCompleted: Int
    var stepCounts: [Int]
    var generators: [[UInt64]]
    var ledgers: [PrivacyLedger]
    var dimension: Int
    var hasGlobal: Bool
    var hasStat: Bool
    var uploadCount: Int
    var updatedParameterCount: Int
    var annotation: Data
  }

  /// The file: magic, header length (8 bytes) and JSON header, the model vectors, w_global and
  /// stat as little-endian float32, and a CRC-32 of all of it.
  public func encoded() throws(CheckpointError) -> [UInt8] {
    let dimension = models.first?.parameters.count ?? global?.count ?? 0
    guard models.allSatisfy({ $0.parameters.count == dimension }),
      global.map({ $0.count == dimension }) ?? true, stat.map({ $0.count == dimension }) ?? true
    else { throw .unsupported("checkpoint vectors of different lengths") }
    let header = Header(
      roundsCompleted: roundsCompleted, stepCounts: models.map(\.stepCount),
      generators: generators.map(\.stateWords), ledgers: ledgers, dimension: dimension,
      hasGlobal: global != nil, hasStat: stat != nil, uploadCount: uploadCount,
      updatedParameterCount: updatedParameterCount, annotation: annotation)
    let json: Data
    do {
      json = try JSONEncoder().encode(header)
    } catch {
      throw .io("cannot encode the checkpoint header: \(error)")
    }
    var writer = ByteWriter()
    writer.bytes.reserveCapacity(16 + json.count + 4 * dimension * (models.count + 2) + 4)
    writer.bytes += Self.magic
    writer.append(UInt64(json.count))
    writer.bytes += json
    func appendFloats(_ values: [Float]) {
      for value in values { writer.append(UInt64(value.bitPattern), bytes: 4) }
    }
    for model in models { appendFloats(model.parameters) }
    if let global { appendFloats(global) }
    if let stat { appendFloats(stat) }
    let checksum = writer.bytes.withUnsafeBufferPointer {
      UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count)))
    }
    writer.append(UInt64(checksum), bytes: 4)
    return writer.bytes
  }

  /// Parses a file written by ``encoded()``.
  public init(decoding bytes: [UInt8], path: String) throws(CheckpointError) {
    func fail(_ reason: String) -> CheckpointError { .unreadable(path: path, reason: reason) }
    guard bytes.count >= Self.magic.count + 12, Array(bytes.prefix(Self.magic.count)) == Self.magic
    else { throw fail("no colearn checkpoint header") }
    let body = bytes.count - 4
    var trailer = ByteReader(bytes: bytes, offset: body)
    let stored = trailer.next(4).map { UInt32($0) }
    let computed = bytes.withUnsafeBufferPointer {
      UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt(body)))
    }
    guard stored == computed else { throw fail("checksum mismatch: the file is damaged") }
    var reader = ByteReader(bytes: bytes, offset: Self.magic.count, end: body)
    // Every size is checked before it becomes an Int or is multiplied: a damaged file must not
    // trap the simulation.
    guard let length = reader.next(8).flatMap(Int.init(exactly:)), length <= body - reader.offset
    else { throw fail("truncated header") }
    let header: Header
    do {
      header = try JSONDecoder().decode(
        Header.self, from: Data(bytes[reader.offset..<(reader.offset + length)]))
    } catch {
      throw fail("malformed header")
    }
    reader.offset += length
    let vectors = header.stepCounts.count + (header.hasGlobal ? 1 : 0) + (header.hasStat ? 1 : 0)
    let (floats, overflow) = header.dimension.multipliedReportingOverflow(by: vectors)
    guard header.dimension >= 0, header.roundsCompleted >= 0, !overflow,
      floats <= (body - reader.offset) / 4, body - reader.offset == 4 * floats
    else { throw fail("the vectors do not have the sizes the header gives") }
    var generators: [SeededGenerator] = []
    for words in header.generators {
      guard let generator = SeededGenerator(stateWords: words) else {
        throw fail("invalid random-stream state")
      }
      generators.append(generator)
    }
    func nextFloats() -> [Float] {
      let start = reader.offset
      reader.offset += 4 * header.dimension
      return [Float](unsafeUninitializedCapacity: header.dimension) { buffer, count in
        bytes.withUnsafeBytes { raw in
          for i in 0..<header.dimension {
            buffer[i] = Float(
              bitPattern: UInt32(
                littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
          }
        }
        count = header.dimension
      }
    }
    let models = header.stepCounts.map { LocalModel(parameters: nextFloats(), stepCount: $0) }
    self.init(roundsCompleted: header.roundsCompleted, models: models, generators: generators)
    ledgers = header.ledgers
    global = header.hasGlobal ? nextFloats() : nil
    stat = header.hasStat ? nextFloats() : nil
    uploadCount = header.uploadCount
    updatedParameterCount = header.updatedParameterCount
    annotation = header.annotation
  }

  /// Writes the checkpoint to `path` atomically (temporary file, fsync, rename): a crash while
  /// writing leaves the previous checkpoint.
  public func write(to path: String) throws(CheckpointError) {
    let bytes = try encoded()
    let directory = (path as NSString).deletingLastPathComponent
    do {
      try DurableFile.replace(path, with: bytes, directory: directory.isEmpty ? "." : directory)
    } catch {
      throw .io("cannot write the checkpoint: \(error)")
    }
  }

  /// The checkpoint at `path`, or nil if there is none.
  public static func read(from path: String) throws(CheckpointError) -> SimulationCheckpoint? {
    let bytes: [UInt8]?
    do {
      bytes = try DurableFile.read(path)
    } catch {
      throw .unreadable(path: path, reason: "\(error)")
    }
    guard let bytes else { return nil }
    return try SimulationCheckpoint(decoding: bytes, path: path)
  }

  /// Checks that the checkpoint has `participants` models of `dimension` parameters and
  /// `generators` streams.
  func check(participants: Int, dimension: Int, generators count: Int) throws(CheckpointError) {
    guard models.count == participants else {
      throw .mismatch("it holds \(models.count) participants, the simulation has \(participants)")
    }
    guard models.allSatisfy({ $0.parameters.count == dimension }) else {
      throw .mismatch("its models have another number of parameters than \(dimension)")
    }
    guard generators.count == count else {
      throw .mismatch("it holds \(generators.count) random streams, expected \(count)")
    }
  }
}
