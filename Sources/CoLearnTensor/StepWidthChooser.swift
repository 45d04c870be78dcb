/// Decides, now and then, whether a trainer's steps run their parallel regions on all cores or
/// on the calling thread alone, by timing both ways on the steps themselves.
///
/// Why: at mini-batch 1 a step hands its activations and gradients between the cores about ten
/// times (the layers split their work), and what a hand-off costs is not the program's to
/// choose. On this project's 2-vCPU VMs the two vCPUs sit, for stretches of seconds to minutes,
/// on cores far apart: a cache-line round trip between them then takes ~370 ns instead of
/// ~40 ns (`WorkerPool/roundTripSeconds(count:)`), and a mnist-cnn step at batch 1 takes
/// 150–170 µs on two cores against ~100 µs on one (docs/RESULTS.md, "Far cores"). A fixed
/// `--threads 2` would run the slow way for as long as that lasts.
///
/// How: a probe of ``probeSteps`` steps runs blocks of ``blockSteps`` steps each way (all cores
/// first) and sums each way's wall time, leaving out each block's first step, which pays for
/// moving the data between the two ways' caches. The faster way then runs every step until the
/// next probe: after ``exploitSeconds`` (at least 1,000 of its steps), doubled up to
/// ``longestExploitSeconds`` while the probes keep choosing the same way, so that probing costs
/// well under 1% of the steps. Steps slower than ``largeStepSeconds`` on all cores end the
/// probing for good (judged on the first block, after its first step: a first step may include
/// a warm-up): its regions are large, all cores win, and a probe would cost whole steps.
///
/// The results do not depend on the choice: on the calling thread the pool runs the same shares,
/// one after the other (``WorkerPool/withSharesOnCaller(_:)``), and every split in colearn is
/// fixed by the problem's shape, not by the thread that runs it.
public struct StepWidthChooser {
  /// Steps per probe.
  public static let probeSteps = 16
  /// Consecutive steps run one way within a probe.
  public static let blockSteps = 4
  /// How long the faster way runs before the next probe, after a probe that changed the way.
  public static let exploitSeconds = 0.25
  /// The longest run of the chosen way between two probes.
  public static let longestExploitSeconds = 2.0
  /// Steps at least this long on all cores are never probed again.
  public static let largeStepSeconds = 0.002

  /// Whether the steps now run on the calling thread alone.
  public private(set) var runsOnCaller = false
  /// Probes finished so far.
  public private(set) var probes = 0
  /// Steps of the current probe taken; ``probeSteps`` while running the chosen way.
  private var probeIndex = 0
  private var callerSeconds = 0.0
  private var parallelSeconds = 0.0
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
  }

  /// Runs `step` the way chosen, probing when it is time to.
  public mutating func run<R>(_ step: () -> R) -> R {
    guard enabled else { return step() }
    if probeIndex == Self.probeSteps {
      if clock() < exploitUntil {
        return runsOnCaller ? pool.withSharesOnCaller(step) : step()
      }
      probeIndex = 0
      callerSeconds = 0
      parallelSeconds = 0
    }
    let onCaller = (probeIndex / Self.blockSteps) % 2 == 1
    let counted = probeIndex % Self.blockSteps != 0
    let start = clock()
    let result = onCaller ? pool.withSharesOnCaller(step) : step()
    let elapsed = clock() - start
    probeIndex += 1
    if counted {
      if onCaller { callerSeconds += elapsed } else { parallelSeconds += elapsed }
    }
    if probeIndex == Self.blockSteps
      && parallelSeconds >= Double(Self.blockSteps - 1) * Self.largeStepSeconds
    {
      runsOnCaller = false
      probeIndex = Self.probeSteps
      exploitUntil = .infinity
      probes += 1
      return result
    }
    if probeIndex == Self.probeSteps {
      let choice = callerSeconds < parallelSeconds
      exploit = probes > 0 && choice == runsOnCaller
        ? min(exploit * 2, Self.longestExploitSeconds) : Self.exploitSeconds
      runsOnCaller = choice
      let countedSteps = Double(Self.probeSteps / 2 - Self.probeSteps / Self.blockSteps / 2)
      let chosenStep = min(callerSeconds, parallelSeconds) / countedSteps
      exploitUntil = clock() + max(exploit, 1000 * chosenStep)
      probes += 1
    }
    return result
  }
}
