/// Decides, now and then, how a trainer's steps run their parallel regions — on all cores, on
/// the calling thread alone, or on the caller except the regions that own their data — by
/// timing the three ways on the steps themselves.
///
/// Why: at mini-batch 1 a step hands its activations and gradients between the cores about ten
/// times (the layers split their work), and what a hand-off costs is not the program's to
/// choose. On this project's 2-vCPU VMs the two vCPUs sit, for stretches of seconds to minutes,
/// on cores far apart: a cache-line round trip between them then takes ~370 ns instead of
/// ~40 ns (`WorkerPool/roundTripSeconds(count:)`), and a mnist-cnn step at batch 1 took
/// 150–170 µs on two cores against ~100 µs on one (docs/RESULTS.md, "Far cores"). A fixed
/// `--threads 2` would run the slow way for as long as that lasts. The big layers of a batch-1
/// step split by ownership (``WorkerPool/run(width:ownsItsData:_:)``: the presets' second
/// convolutions), which pays on far cores too when the layer is large (svhn-cnn's), and not
/// when it is small (mnist-cnn's): hence a third way, ``Way/ownedRegions``.
///
/// How: a probe runs two blocks of ``blockSteps`` steps each way in turn (all cores first) and
/// sums each way's wall time, leaving out each block's first step, which pays for moving the
/// data between the ways' caches. It times the middle way only when the first block ran a
/// region that owns its data (``WorkerPool/ownedRegionCount``): without one the middle way is
/// the caller's, and ``probeSteps`` steps (not ``probeStepsWithOwnedRegions``) do — a DSSGD
/// participant's local epoch is 60-odd steps. The fastest way then runs every step
/// until the next probe (a tie goes to the way with fewer parallel regions): after
/// ``exploitSeconds`` (at least 1,000 of its steps), doubled up to ``longestExploitSeconds``
/// while the probes keep choosing the same way, so that probing costs well under 1% of the
/// steps. Steps slower than ``largeStepSeconds`` on all cores end the probing for good (judged
/// on the first block, after its first step: a first step may include a warm-up): its regions
/// are large, all cores win, and a probe would cost whole steps.
///
/// The results do not depend on the choice: on the calling thread the pool runs the same shares,
/// one after the other (``WorkerPool/withSharesOnCaller(keepingOwnedRegions:_:)``), and every
/// split in colearn is fixed by the problem's shape, not by the thread that runs it.
public struct StepWidthChooser {
  /// How a step runs its parallel regions.
  public enum Way: Int, CaseIterable, Sendable {
    /// Every region on all cores.
    case allCores
    /// Regions that own their data on all cores, the others on the caller.
    case ownedRegions
    /// Every region on the caller.
    case caller
  }

  /// Steps per probe of steps that run no region that owns its data: two blocks each of all
  /// cores and the caller.
  public static let probeSteps = 2 * 2 * blockSteps
  /// Steps per probe of steps that do: two blocks each way.
  public static let probeStepsWithOwnedRegions = 2 * Way.allCases.count * blockSteps
  /// Consecutive steps run one way within a probe.
  public static let blockSteps = 4
  /// How long the fastest way runs before the next probe, after a probe that changed the way.
  public static let exploitSeconds = 0.25
  /// The longest run of the chosen way between two probes.
  public static let longestExploitSeconds = 2.0
  /// Steps at least this long on all cores are never probed again.
  public static let largeStepSeconds = 0.002

  /// The way steps run now.
  public private(set) var way = Way.allCores
  /// Whether the steps now run on the calling thread alone.
  public var runsOnCaller: Bool { way == .caller }
  /// Probes finished so far.
  public private(set) var probes = 0
  /// Steps of the current probe taken; `probeLength` while running the chosen way.
  private var probeIndex = 0
  /// The ways the current probe times, in turn.
  private var ways: [Way] = [.allCores, .caller]
  private var probeLength: Int { 2 * ways.count * Self.blockSteps }
  /// ``WorkerPool/ownedRegionCount`` when the current probe began.
  private var ownedRegionsBefore = 0
  /// Counted seconds of the current probe, by way.
  private var seconds = [Double](repeating: 0, count: Way.allCases.count)
  private var exploit = exploitSeconds
  private var exploitUntil = 0.0
  private let pool: WorkerPool
  private let enabled: Bool
  private let clock: () -> Double

  /// A chooser for steps whose regions run on `pool` at `threads` cores, timed in seconds by
  /// `clock`; it does nothing (every step runs as called) when there is one core to run on.
  public init(
    pool: WorkerPool = .shared, threads: Int = BLAS.threadCount,
    clock: @escaping () -> Double = monotonicSeconds
  ) {
    self.pool = pool
    enabled = threads > 1 && pool.maximumWidth > 1
    self.clock = clock
    ownedRegionsBefore = pool.ownedRegionCount
  }

  /// Runs `step` the way chosen, probing when it is time to.
  public mutating func run<R>(_ step: () -> R) -> R {
    guard enabled else { return step() }
    if probeIndex == probeLength {
      if clock() < exploitUntil { return run(step, way) }
      probeIndex = 0
      seconds = seconds.map { _ in 0 }
      ways = [.allCores, .caller]
      ownedRegionsBefore = pool.ownedRegionCount
    }
    let current = ways[(probeIndex / Self.blockSteps) % ways.count]
    let counted = probeIndex % Self.blockSteps != 0
    let start = clock()
    let result = run(step, current)
    let elapsed = clock() - start
    probeIndex += 1
    if counted { seconds[current.rawValue] += elapsed }
    if probeIndex == Self.blockSteps {
      if seconds[Way.allCores.rawValue] >= Double(Self.blockSteps - 1) * Self.largeStepSeconds {
        way = .allCores
        probeIndex = probeLength
        exploitUntil = .infinity
        probes += 1
        return result
      }
      if pool.ownedRegionCount != ownedRegionsBefore { ways = Way.allCases }
    }
    if probeIndex == probeLength {
      // The fastest; on a tie the later way (fewer parallel regions).
      var choice = Way.caller
      for candidate in ways.reversed()
      where seconds[candidate.rawValue] < seconds[choice.rawValue] {
        choice = candidate
      }
      exploit = probes > 0 && choice == way
        ? min(exploit * 2, Self.longestExploitSeconds) : Self.exploitSeconds
      way = choice
      let countedSteps = Double(2 * (Self.blockSteps - 1))
      let chosenStep = seconds[choice.rawValue] / countedSteps
      exploitUntil = clock() + max(exploit, 1000 * chosenStep)
      probes += 1
    }
    return result
  }

  private func run<R>(_ step: () -> R, _ way: Way) -> R {
    switch way {
    case .allCores: step()
    case .ownedRegions: pool.withSharesOnCaller(keepingOwnedRegions: true, step)
    case .caller: pool.withSharesOnCaller(step)
    }
  }
}
