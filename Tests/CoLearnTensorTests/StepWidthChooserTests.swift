import CoLearnTensor
import Foundation
import Synchronization
import Testing

/// The chooser times its steps both ways and runs the faster one (issue 24: two cores that sit
/// far apart make a batch-1 step slower than one core alone). Steps here advance a virtual clock
/// by what they would cost, so the choices do not depend on the load of the machine.
@Suite struct StepWidthChooserTests {
  final class VirtualClock: @unchecked Sendable {
    var now = 1000.0
  }

  /// A step of two shares on `pool` that costs `parallel` seconds of virtual time when its shares
  /// ran on two threads and `onCaller` when they ran on the caller; returns whether they ran on
  /// two threads.
  @discardableResult
  func step(
    on pool: WorkerPool, clock: VirtualClock, parallel: Double, onCaller: Double
  ) -> Bool {
    let caller = ObjectIdentifier(Thread.current)
    let threads = Mutex<[ObjectIdentifier?]>([nil, nil])
    pool.run(width: 2) { share in
      let me = ObjectIdentifier(Thread.current)
      threads.withLock { $0[share] = me }
    }
    let ranParallel = threads.withLock { $0 } != [caller, caller]
    clock.now += ranParallel ? parallel : onCaller
    return ranParallel
  }

  func chooser(_ pool: WorkerPool, _ clock: VirtualClock, threads: Int = 2) -> StepWidthChooser {
    StepWidthChooser(pool: pool, threads: threads, clock: { clock.now })
  }

  @Test func choosesTheCallerWhenHandOffsAreSlow() {
    let (pool, clock) = (WorkerPool(workers: 1), VirtualClock())
    var chooser = chooser(pool, clock)
    // The first step of each block pays for moving the data between the caches and is not
    // counted: here it is slow on the caller, and counted it would make all cores win.
    var ways: [Bool] = []
    for index in 0..<StepWidthChooser.probeSteps {
      let first = index % StepWidthChooser.blockSteps == 0
      ways.append(
        chooser.run {
          step(on: pool, clock: clock, parallel: 150e-6, onCaller: first ? 1e-3 : 100e-6)
        })
    }
    // The probe ran blocks of steps each way, all cores first (these steps run no region that
    // owns its data, so there is no middle way to time).
    let block = StepWidthChooser.blockSteps
    #expect(ways == (0..<StepWidthChooser.probeSteps).map { ($0 / block) % 2 == 0 })
    #expect(chooser.probes == 1)
    #expect(chooser.runsOnCaller)
    for _ in 0..<50 {
      #expect(!chooser.run { step(on: pool, clock: clock, parallel: 150e-6, onCaller: 100e-6) })
    }
    #expect(chooser.probes == 1)
    // Outside the chooser the pool uses its worker again.
    #expect(step(on: pool, clock: clock, parallel: 0, onCaller: 0))
  }

  /// A step with a region that owns its data and one that does not: the chooser finds that
  /// running only the owned region on both cores is fastest, and keeps it.
  @Test func choosesTheOwnedRegionsWhenTheyAloneWin() {
    let (pool, clock) = (WorkerPool(workers: 1), VirtualClock())
    var chooser = chooser(pool, clock)
    func step() -> [Bool] {
      let caller = ObjectIdentifier(Thread.current)
      var parallel: [Bool] = []
      for owned in [true, false] {
        let threads = Mutex<[ObjectIdentifier?]>([nil, nil])
        pool.run(width: 2, ownsItsData: owned) { share in
          threads.withLock { $0[share] = ObjectIdentifier(Thread.current) }
        }
        parallel.append(threads.withLock { $0 } != [caller, caller])
      }
      // All cores 150 µs, the owned region alone on two cores 80, all on the caller 100.
      clock.now += parallel == [true, true] ? 150e-6 : parallel == [true, false] ? 80e-6 : 100e-6
      return parallel
    }
    var ways: [[Bool]] = []
    for _ in 0..<StepWidthChooser.probeStepsWithOwnedRegions { ways.append(chooser.run(step)) }
    let block = StepWidthChooser.blockSteps
    #expect(
      ways == (0..<StepWidthChooser.probeStepsWithOwnedRegions).map {
        [[true, true], [true, false], [false, false]][($0 / block) % 3]
      })
    #expect(chooser.probes == 1 && chooser.way == .ownedRegions && !chooser.runsOnCaller)
    for _ in 0..<20 { #expect(chooser.run(step) == [true, false]) }
  }

  @Test func keepsAllCoresWhenTheyAreFaster() {
    let (pool, clock) = (WorkerPool(workers: 1), VirtualClock())
    var chooser = chooser(pool, clock)
    for _ in 0..<StepWidthChooser.probeSteps {
      chooser.run { step(on: pool, clock: clock, parallel: 70e-6, onCaller: 100e-6) }
    }
    #expect(chooser.probes == 1)
    #expect(!chooser.runsOnCaller)
    for _ in 0..<50 {
      #expect(chooser.run { step(on: pool, clock: clock, parallel: 70e-6, onCaller: 100e-6) })
    }
  }

  /// After its window the chooser probes again and follows the machine; while the choice stays
  /// the same the window doubles, up to its longest.
  @Test func probesAgainAndFollowsAChange() {
    let (pool, clock) = (WorkerPool(workers: 1), VirtualClock())
    var chooser = chooser(pool, clock)
    func probe(parallel: Double, onCaller: Double) {
      for _ in 0..<StepWidthChooser.probeSteps {
        chooser.run { step(on: pool, clock: clock, parallel: parallel, onCaller: onCaller) }
      }
    }
    probe(parallel: 150e-6, onCaller: 100e-6)
    #expect(chooser.runsOnCaller && chooser.probes == 1)
    // Within the window: no probe, even though all cores became faster.
    clock.now += StepWidthChooser.exploitSeconds * 0.9
    #expect(!chooser.run { step(on: pool, clock: clock, parallel: 70e-6, onCaller: 100e-6) })
    clock.now += StepWidthChooser.exploitSeconds * 0.2
    probe(parallel: 70e-6, onCaller: 100e-6)
    #expect(!chooser.runsOnCaller && chooser.probes == 2)
    // The same choice again: the window doubles (0.25 s, then 0.5 s).
    clock.now += StepWidthChooser.exploitSeconds * 1.1
    probe(parallel: 70e-6, onCaller: 100e-6)
    #expect(chooser.probes == 3)
    clock.now += StepWidthChooser.exploitSeconds * 1.5
    #expect(chooser.run { step(on: pool, clock: clock, parallel: 70e-6, onCaller: 100e-6) })
    #expect(chooser.probes == 3)
    clock.now += StepWidthChooser.exploitSeconds
    probe(parallel: 70e-6, onCaller: 100e-6)
    #expect(chooser.probes == 4)
  }

  /// Steps that are long on all cores end the probing: no step runs on the caller alone, and no
  /// probe follows however long training goes on.
  @Test func largeStepsStayOnAllCores() {
    let (pool, clock) = (WorkerPool(workers: 1), VirtualClock())
    var chooser = chooser(pool, clock)
    let large = StepWidthChooser.largeStepSeconds * 1.5
    for _ in 0..<(3 * StepWidthChooser.probeSteps) {
      #expect(chooser.run { step(on: pool, clock: clock, parallel: large, onCaller: 1e-6) })
      clock.now += 10
    }
    #expect(chooser.probes == 1)
    #expect(!chooser.runsOnCaller)
  }

  @Test func oneThreadRunsStepsAsCalled() {
    let (pool, clock) = (WorkerPool(workers: 1), VirtualClock())
    var chooser = chooser(pool, clock, threads: 1)
    for _ in 0..<(2 * StepWidthChooser.probeSteps) {
      #expect(chooser.run { step(on: pool, clock: clock, parallel: 150e-6, onCaller: 100e-6) })
    }
    #expect(chooser.probes == 0)
  }
}
