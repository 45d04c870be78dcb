import CoLearnTensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A deterministic mutation fuzzer: the same target, seed and iteration count run the same
/// inputs on every machine (what the test suite runs; `scripts/fuzz.sh` runs libFuzzer where the
/// toolchain has it, with this as the fallback).
///
/// Each input is a corpus entry (the target's seeds, then inputs the reader accepted) changed by
/// one to four mutations: bit flips, bytes and little-endian fields of 2, 4 or 8 bytes replaced
/// by boundary values (0, 1, 0x7F…, 0x80…, 0xFF…), truncation, extension, insertion and deletion
/// of runs, duplicated runs, and splices with another entry.
///
/// Besides the target's own checks it flags an input the reader took longer than
/// ``Limits/slowInput`` over (a hang), and a growth of the process's peak resident memory beyond
/// ``Limits/memoryGrowthMegabytes`` (an allocation the input's size does not justify).
public struct MutationFuzzer {
  /// When to call an input a hang or a huge allocation.
  public struct Limits: Sendable {
    public var slowInput: Duration = .seconds(1)
    public var memoryGrowthMegabytes = 512
    /// The longest input made.
    public var maximumLength = 1 << 16

    public init() {}
  }

  /// What a run did.
  public struct Summary: Sendable, CustomStringConvertible {
    public var target: FuzzTarget
    public var executions = 0
    /// Inputs the reader accepted (the rest it refused with a typed error).
    public var accepted = 0
    public var corpus = 0
    public var seconds = 0.0
    public var failures: [String] = []

    public var description: String {
      "target=\(target.rawValue) executions=\(executions) accepted=\(accepted) corpus=\(corpus) "
        + "seconds=\((seconds * 10).rounded() / 10) findings=\(failures.count)"
    }
  }

  public let target: FuzzTarget
  public var limits = Limits()
  /// Called with every input before it runs (a driver saves it, to keep the input of a trap).
  public var beforeEachInput: (([UInt8]) -> Void)?
  private var generator: SeededGenerator
  private var corpus: [[UInt8]]

  public init(target: FuzzTarget, seed: UInt64) {
    self.target = target
    generator = SeededGenerator(seed: seed)
    corpus = target.seeds()
  }

  /// Runs until `iterations` inputs or `duration` have passed (whichever comes first), or
  /// `maximumFailures` findings.
  public mutating func run(
    iterations: Int = .max, duration: Duration = .seconds(1 << 40), maximumFailures: Int = 10
  ) -> Summary {
    var summary = Summary(target: target)
    let clock = ContinuousClock()
    let start = clock.now
    let baseline = Self.peakResidentMegabytes()
    var inputs = corpus.makeIterator()  // the seeds themselves first
    while summary.executions < iterations, summary.failures.count < maximumFailures {
      if summary.executions % 256 == 0, clock.now - start >= duration { break }
      let input = inputs.next() ?? mutated()
      beforeEachInput?(input)
      let before = clock.now
      do {
        if try target.run(input) {
          summary.accepted += 1
          if corpus.count < 4096, !corpus.contains(input) { corpus.append(input) }
        }
      } catch {
        summary.failures.append(error.description)
      }
      summary.executions += 1
      let took = clock.now - before
      if took > limits.slowInput {
        summary.failures.append(
          FuzzFailure(target: target, message: "took \(took)", input: input).description)
      }
      if Self.peakResidentMegabytes() - baseline > limits.memoryGrowthMegabytes
      {
        summary.failures.append(
          FuzzFailure(
            target: target, message: "peak memory grew beyond \(limits.memoryGrowthMegabytes) MB",
            input: input
          ).description)
        break
      }
    }
    summary.corpus = corpus.count
    let elapsed = clock.now - start
    summary.seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return summary
  }

  // MARK: - Mutations

  private static let interestingBytes: [UInt8] = [0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF, 0x20, 0x0A]
  private static let interestingWords: [UInt64] = [
    0, 1, 2, 9, 16, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
    0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, .max,
  ]

  private mutating func mutated() -> [UInt8] {
    var input = corpus[Int.random(in: 0..<corpus.count, using: &generator)]
    let keepControl = Bool.random(using: &generator)
    let control = input.first
    for _ in 0..<Int.random(in: 1...4, using: &generator) {
      mutate(&input)
    }
    if keepControl, let control, !input.isEmpty { input[0] = control }
    if input.count > limits.maximumLength { input.removeLast(input.count - limits.maximumLength) }
    return input
  }

  private mutating func pick<Element>(_ choices: [Element]) -> Element {
    choices[Int.random(in: 0..<choices.count, using: &generator)]
  }

  private mutating func mutate(_ input: inout [UInt8]) {
    func position(_ extra: Int = 0) -> Int {
      Int.random(in: 0..<max(1, input.count - extra), using: &generator)
    }
    switch Int.random(in: 0..<10, using: &generator) {
    case 0 where !input.isEmpty:
      input[position()] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
    case 1 where !input.isEmpty:
      input[position()] = pick(Self.interestingBytes)
    case 2 where input.count >= 8:
      // A little-endian field of 2, 4 or 8 bytes set to a boundary value.
      let width = pick([2, 4, 8])
      let at = position(width - 1)
      var value = pick(Self.interestingWords)
      if Bool.random(using: &generator) {
        value &+= UInt64.random(in: 0...2, using: &generator) &- 1  // or one off it
      }
      for shift in 0..<min(width, input.count - at) {
        input[at + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift))
      }
    case 3 where !input.isEmpty:
      input.removeLast(Int.random(in: 1...min(input.count, 16), using: &generator))
    case 4:
      input += (0..<Int.random(in: 1...16, using: &generator)).map { _ in
        UInt8.random(in: 0...255, using: &generator)
      }
    case 5 where input.count > 1:
      let at = position()
      input.removeSubrange(at..<min(input.count, at + Int.random(in: 1...8, using: &generator)))
    case 6:
      let at = Int.random(in: 0...input.count, using: &generator)
      let run = (0..<Int.random(in: 1...8, using: &generator)).map { _ in
        pick(Self.interestingBytes)
      }
      input.insert(contentsOf: run, at: at)
    case 7 where input.count > 1:
      // A run duplicated (a repeated record or field).
      let from = position()
      let length = Int.random(in: 1...min(64, input.count - from), using: &generator)
      let at = Int.random(in: 0...input.count, using: &generator)
      input.insert(contentsOf: input[from..<(from + length)], at: at)
    case 8:
      // A splice: this input's head, another entry's tail.
      let other = corpus[Int.random(in: 0..<corpus.count, using: &generator)]
      let cut = Int.random(in: 0...input.count, using: &generator)
      let otherCut = Int.random(in: 0...other.count, using: &generator)
      input = Array(input[..<cut] + other[otherCut...])
    default:
      if !input.isEmpty { input[position()] = UInt8.random(in: 0...255, using: &generator) }
    }
  }

  /// The process's peak resident memory so far, in megabytes.
  static func peakResidentMegabytes() -> Int {
    var usage = rusage()
    #if canImport(Darwin)
      getrusage(RUSAGE_SELF, &usage)
      return Int(usage.ru_maxrss) >> 20
    #else
      getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
      return Int(usage.ru_maxrss) >> 10
    #endif
  }
}
