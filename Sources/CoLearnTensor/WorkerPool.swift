import Foundation
import Synchronization

/// A tiny fork–join pool for splitting one hot loop across the cores: the caller runs share 0 and
/// one persistent worker thread per extra core runs the others;
/// ``run(width:ownsItsData:_:)`` returns when all shares are done.
///
/// Why not Dispatch: a training step at mini-batch 1 takes tens of microseconds, and waking a
/// Dispatch worker costs about as much. Workers here spin on an atomic generation counter for
/// a short while after each job (so the next job of the same step starts in well under a
/// microsecond), then fall back to a blocking wait so an idle pool costs nothing.
///
/// Threading: ``run(width:ownsItsData:_:)`` may be called from any thread. One call at a time
/// gets the workers; a call made while another holds them (another training thread, or a nested
/// call) runs all its shares on its own thread, one after the other — same result, no
/// parallelism.
/// The shared pool is created on first use.
public final class WorkerPool: @unchecked Sendable {
  /// The process-wide pool with one worker per core beyond the first.
  public static let shared = WorkerPool(
    workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

  /// How long an idle worker spins on the job counter before it blocks: longer than the serial
  /// stretch between two parallel regions of one training step (the small layers, the loss), so
  /// that a worker is still awake for the next region — waking a blocked thread costs tens of
  /// microseconds in a VM — and short enough that an idle pool soon stops taking a core from
  /// other processes. Measured on the clock (read every 1,024 polls), not as a poll count: the
  /// former 200,000 polls could end within a step on a fast core, and in some runs of mnist-cnn
  /// at batch 1 a worker blocked about once per step (11,000–14,000 wake-ups in 2.5 s).
  static let spinSeconds = 0.0005

  /// How long a caller waits for the workers before it yields its core between polls.
  static let yieldAfterSeconds = 0.0001

  /// 1 + the number of worker threads.
  public let maximumWidth: Int

  /// (job counter << 8) | job width: one atomic word, so a worker learns whether it takes part
  /// in a job from the same load that tells it there is one.
  private let generation = Atomic<Int>(0)
  private let pending = Atomic<Int>(0)
  private let busy = Atomic<Bool>(false)
  /// The ``withSharesOnCaller(keepingOwnedRegions:_:)`` calls under way, without and with
  /// `keepingOwnedRegions`.
  private let allSharesOnCaller = Atomic<Int>(0)
  private let unownedSharesOnCaller = Atomic<Int>(0)
  private let ownedRegions = Atomic<Int>(0)

  /// How many regions that own their data (``run(width:ownsItsData:_:)``) have been run, on
  /// any thread: ``StepWidthChooser`` times its middle way only for steps that run one.
  public var ownedRegionCount: Int { ownedRegions.load(ordering: .relaxed) }
  private let condition = NSCondition()
  private var sleepers = 0
  /// Bumped by ``wake()`` (under `condition`'s lock): a blocked worker that sees it change goes
  /// back to spinning without a job.
  private var alarms = 0
  /// Bumped by ``rest()``: a spinning worker that sees it change blocks at once.
  private let rests = Atomic<Int>(0)
  // The current job; written by the caller before `generation` is bumped (release), read only
  // by the workers that take part, after they observe the bump (acquire), and cleared only after
  // all of them have finished.
  private var job: ((Int) -> Void)?

  /// A pool with `workers` threads beyond the caller.
  public init(workers: Int) {
    maximumWidth = workers + 1
    for index in 0..<workers {
      let thread = Thread { [unowned self] in self.workerLoop(share: index + 1) }
      thread.name = "colearn-worker-\(index + 1)"
      thread.stackSize = 1 << 20
      thread.start()
    }
  }

  /// Runs `body(share)` for share in 0..<width, share 0 on the calling thread, and waits for all.
  /// `width` is clamped to ``maximumWidth``; a width of 1 just calls `body(0)`.
  ///
  /// - Parameter ownsItsData: whether each share reads and writes data that stays its own from
  ///   one call to the next (a layer's half of its weights, say), so that the hand-off is all a
  ///   far second core costs: such a region runs in parallel even inside
  ///   ``withSharesOnCaller(keepingOwnedRegions:_:)`` with `keepingOwnedRegions`.
  public func run(width: Int, ownsItsData: Bool = false, _ body: (Int) -> Void) {
    if ownsItsData { ownedRegions.add(1, ordering: .relaxed) }
    let width = min(max(width, 1), maximumWidth)
    guard width > 1 else {
      body(0)
      return
    }
    guard allSharesOnCaller.load(ordering: .relaxed) == 0,
      ownsItsData || unownedSharesOnCaller.load(ordering: .relaxed) == 0,
      busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      for share in 0..<width { body(share) }
      return
    }
    defer { busy.store(false, ordering: .releasing) }
    withoutActuallyEscaping(body) { escaping in
      job = escaping
      pending.store(width - 1, ordering: .relaxed)
      let next = ((generation.load(ordering: .relaxed) >> 8) + 1) << 8 | width
      generation.store(next, ordering: .releasing)
      condition.lock()
      if sleepers > 0 { condition.broadcast() }
      condition.unlock()
      escaping(0)
      // Wait for the workers; their shares are short, so spin, but give the core away now and
      // then once the wait is long: with more threads than cores (several pools or processes)
      // the worker may be waiting for this very core.
      var polls = 0
      var waitStart = 0.0
      while pending.load(ordering: .acquiring) > 0 {
        polls &+= 1
        guard polls & 1023 == 0 else { continue }
        if waitStart == 0 {
          waitStart = monotonicSeconds()
        } else if monotonicSeconds() - waitStart > Self.yieldAfterSeconds {
          sched_yield()
        }
      }
      job = nil
    }
  }

  /// Runs `body` so that every ``run(width:ownsItsData:_:)`` made meanwhile (from this thread or
  /// another) runs its shares on its caller's thread, one after the other — with
  /// `keepingOwnedRegions`, every one except the regions that own their data: the same shares
  /// as in parallel, so the same results, without moving data between cores. For a caller that
  /// has measured its parallel regions to be slower than running them alone (see
  /// ``StepWidthChooser``).
  public func withSharesOnCaller<R>(
    keepingOwnedRegions: Bool = false, _ body: () throws -> R
  ) rethrows -> R {
    if keepingOwnedRegions {
      unownedSharesOnCaller.add(1, ordering: .relaxed)
    } else {
      allSharesOnCaller.add(1, ordering: .relaxed)
    }
    defer {
      if keepingOwnedRegions {
        unownedSharesOnCaller.subtract(1, ordering: .relaxed)
      } else {
        allSharesOnCaller.subtract(1, ordering: .relaxed)
      }
    }
    return try body()
  }

  /// The median time, in seconds, of one round trip of a cache line between the calling thread
  /// and worker 1 (9 runs of `count` round trips), or nil without a worker or when the workers are
  /// held elsewhere. It tells how far apart the two cores are: on this project's VMs ~40 ns near,
  /// ~370 ns far (``StepWidthChooser``); `colearn bench` prints it beside its figures.
  public func roundTripSeconds(count: Int = 2_000) -> Double? {
    guard maximumWidth > 1, !busy.load(ordering: .relaxed) else { return nil }
    final class Ball: Sendable {
      let value = Atomic<Int>(0)
      let seconds = Mutex<[Double]>([])
    }
    let ball = Ball()
    let patience = 0.05
    // Each side gives up after `patience` without an answer: if another thread took the workers
    // meanwhile, `run` runs both shares on this thread, one after the other.
    func waitFor(_ expected: Int) -> Bool {
      let start = monotonicSeconds()
      var polls = 0
      while ball.value.load(ordering: .acquiring) != expected {
        polls &+= 1
        if polls & 1023 == 0 && monotonicSeconds() - start > patience { return false }
      }
      return true
    }
    for _ in 0..<9 {
      ball.value.store(0, ordering: .relaxed)
      run(width: 2) { share in
        if share == 0 {
          guard waitFor(1) else { return }
          let start = monotonicSeconds()
          for round in 0..<count {
            ball.value.store(2 * round + 2, ordering: .releasing)
            guard waitFor(2 * round + 3) else { return }
          }
          let elapsed = monotonicSeconds() - start
          ball.seconds.withLock { $0.append(elapsed / Double(count)) }
        } else {
          ball.value.store(1, ordering: .releasing)
          for round in 0..<count {
            guard waitFor(2 * round + 2) else { return }
            ball.value.store(2 * round + 3, ordering: .releasing)
          }
        }
      }
    }
    let times = ball.seconds.withLock { $0 }.sorted()
    return times.isEmpty ? nil : times[times.count / 2]
  }

  /// Wakes any blocked worker so that it spins again (for ``spinSeconds``): a job posted
  /// within that window starts at once instead of paying a thread wake-up in the job's critical
  /// path. For a caller that knows a parallel region is coming shortly after a long serial one
  /// (DSSGD's selection after a local epoch); costs a lock and, if workers sleep, one futex
  /// wake, on the calling thread.
  public func wake() {
    guard maximumWidth > 1 else { return }
    condition.lock()
    if sleepers > 0 {
      alarms &+= 1
      condition.broadcast()
    }
    condition.unlock()
  }

  /// Sends spinning workers to their blocking wait now rather than after ``spinSeconds``: for
  /// a caller that knows a long serial stretch follows its last parallel region (a local epoch
  /// after the transpose that opened it), so that no core spins beside it. A job posted later
  /// wakes them as usual.
  public func rest() {
    guard maximumWidth > 1 else { return }
    rests.add(1, ordering: .relaxed)
  }

  /// Splits 0..<count into up to `width` contiguous ranges and runs `body` on each in parallel.
  /// Counts below `minimumPerShare × 2` run on the caller alone.
  public func forEachChunk(
    count: Int, width: Int, minimumPerShare: Int, _ body: (Range<Int>) -> Void
  ) {
    let shares = min(width, maximumWidth, max(1, count / max(minimumPerShare, 1)))
    guard shares > 1 else {
      if count > 0 { body(0..<count) }
      return
    }
    run(width: shares) { share in
      let start = count * share / shares
      let end = count * (share + 1) / shares
      if start < end { body(start..<end) }
    }
  }

  /// Runs the current job's share. Not inlined, so that this thread's reference to the job
  /// closure is released before the function returns, that is before the caller is told the
  /// share is done: `run(width:_:)` lends a non-escaping closure and checks that no reference
  /// outlives it.
  @inline(never)
  private func execute(share: Int) {
    if let job { job(share) }
  }

  private func workerLoop(share: Int) {
    var seen = 0
    // The rests asked for before this worker last took a job (or was woken): a later one ends
    // its spinning.
    var restsSeen = rests.load(ordering: .relaxed)
    while true {
      // Spin briefly for the next job, then block.
      var spins = 0
      var spinStart = monotonicSeconds()
      var current = generation.load(ordering: .acquiring)
      while current == seen {
        spins &+= 1
        if rests.load(ordering: .relaxed) == restsSeen
          && (spins & 1023 != 0 || monotonicSeconds() - spinStart < Self.spinSeconds)
        {
          current = generation.load(ordering: .acquiring)
          continue
        }
        condition.lock()
        sleepers += 1
        let alarm = alarms
        while generation.load(ordering: .acquiring) == seen && alarms == alarm {
          condition.wait()
        }
        sleepers -= 1
        condition.unlock()
        spins = 0
        spinStart = monotonicSeconds()
        restsSeen = rests.load(ordering: .relaxed)
        current = generation.load(ordering: .acquiring)
      }
      seen = current
      restsSeen = rests.load(ordering: .relaxed)
      if share < current & 0xFF {
        execute(share: share)
        pending.subtract(1, ordering: .releasing)
      }
    }
  }
}
