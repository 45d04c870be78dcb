import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor

/// DP-SGD's noise (issue 21) as colearn draws it: the clipped gradient sum is put on the grid
/// g = 2^e, exact discrete Gaussian noise N_ℤ(0, σ_u²) is added in grid units from a
/// ``NoiseSource`` (the OS generator, or a seeded one for reproducible, **non-private**
/// experiments), and the result is the noised sum k·g (``GridGaussianNoise``).
///
/// The sum is rounded as a whole (``GridGaussianNoise/Rounding/sumNearest``: ``DPSGDTrainer``
/// forms the clipped sum in one batched pass, never per-record vectors), so one record moves the
/// rounded sum by at most C/g + √d grid units. g is chosen so that this exceeds C/g by at most
/// 0.1% (``GridGaussianNoise/granularityExponent(clipNorm:dimension:inflation:)`` with inflation
/// 0.0005), and the accountant charges ``effectiveNoiseMultiplier`` = σ_u / (C/g + √d), slightly
/// below the σ asked for — never the nominal σ.
///
/// Threading: a value type; one trainer's thread at a time.
public struct DiscreteGaussianGradientNoise: GradientNoise, Sendable {
  /// The grid and the noise law.
  public let grid: GridGaussianNoise
  /// The law's prepared sampler (built once: every step draws from the same law).
  private let sampler: DiscreteGaussianSampler
  /// C, d and σ as configured.
  public let clipNorm: Double
  public let dimension: Int
  public let noiseMultiplier: Double
  /// One source per stream: the coordinates are cut into ``streams`` contiguous ranges, each
  /// drawn from its own source, on as many cores as --threads allows (the exact sampler,
  /// ``DiscreteGaussianSampler``, costs about 40–60 ns a value). The split is fixed, so a
  /// seeded run gives the same noise on any number of threads.
  private var sources: [NoiseSource]
  /// The number of independent noise streams.
  static let streams = 2

  /// Noise for sums of `dimension` coordinates of records clipped to `clipNorm`, with noise
  /// multiplier σ = `noiseMultiplier` (> 0), drawn from `source`.
  ///
  /// The grid is the finest of: the one for 0.05% inflation, and the one that keeps σ below 2²¹
  /// grid units (the exact sampler's range; only very wide models with large σ need it, and
  /// their inflation stays below √d·σ/2²¹).
  ///
  /// - Throws: ``PrivacyError/noiseOutOfRange(standardDeviation:granularity:)`` if σ·C is so
  ///   small that it is under 1/32 of a grid step (σ < 0.01 with C and d of real models never is).
  public init(clipNorm: Double, noiseMultiplier: Double, dimension: Int, source: NoiseSource)
    throws(PrivacyError)
  {
    precondition(noiseMultiplier > 0 && clipNorm > 0 && clipNorm.isFinite, "σ > 0 and a finite C")
    self.clipNorm = clipNorm
    self.dimension = dimension
    self.noiseMultiplier = noiseMultiplier
    let standardDeviation = noiseMultiplier * clipNorm
    let fine = GridGaussianNoise.granularityExponent(
      clipNorm: clipNorm, dimension: dimension, inflation: 0.0005)
    // 2^e ≥ σ/2²¹, so that σ/g ≤ 2²¹.
    let coarse = Int((standardDeviation / Double(1 << 21)).exponent) + 1
    grid = try GridGaussianNoise(
      standardDeviation: standardDeviation, granularityExponent: max(fine, coarse))
    sampler = DiscreteGaussianSampler(grid.law)
    // Stream 0 is `source`; the others are the OS generator again, or seeded from `source`.
    var first = source
    var sources = [source]
    for _ in 1..<Self.streams {
      sources.append(source.isSecure ? .secure : .insecureSeeded(try first.nextWord()))
    }
    sources[0] = first
    self.sources = sources
  }

  /// The noise multiplier the accountant charges: σ_u over one record's bound on the grid.
  public var effectiveNoiseMultiplier: Double {
    grid.noiseMultiplier(clipNorm: clipNorm, dimension: dimension, rounding: .sumNearest)
  }

  /// Whether the noise comes from the OS generator (the only private source).
  public var isSecure: Bool { sources[0].isSecure }

  public mutating func addNoise(
    standardDeviation: Double, to values: UnsafeMutableBufferPointer<Float>
  ) throws {
    precondition(values.count == dimension, "noise for \(dimension) values, got \(values.count)")
    precondition(
      abs(standardDeviation - noiseMultiplier * clipNorm) <= 1e-9 * standardDeviation,
      "the trainer asks for σ·C = \(standardDeviation), the noise was built for "
        + "\(noiseMultiplier * clipNorm)")
    let streams = Self.streams
    let width = min(streams, BLAS.threadCount)
    let grid = grid
    let sampler = sampler
    var failures = [PrivacyError?](repeating: nil, count: streams)
    sources.withUnsafeMutableBufferPointer { sources in
      failures.withUnsafeMutableBufferPointer { failures in
        WorkerPool.shared.run(width: width) { share in
          for stream in stride(from: share, to: streams, by: width) {
            let range = (dimension * stream / streams)..<(dimension * (stream + 1) / streams)
            do throws(PrivacyError) {
              for j in range {
                let k =
                  grid.units(of: Double(values[j]), rounding: .sumNearest)
                  + (try sampler.sample(using: &sources[stream]))
                values[j] = Float(grid.value(ofUnits: k))
              }
            } catch {
              failures[stream] = error
            }
          }
        }
      }
    }
    if let failure = failures.compactMap({ $0 }).first { throw failure }
  }
}
