import CoLearnTensor
import Foundation
import Synchronization
import Testing

@Suite struct WorkerPoolTests {
  @Test func everyShareRunsExactlyOnce() {
    let pool = WorkerPool(workers: 3)
    for width in 1...5 {
      let counts = Mutex([Int](repeating: 0, count: 8))
      for _ in 0..<200 {
        pool.run(width: width) { share in counts.withLock { $0[share] += 1 } }
      }
      let used = min(width, pool.maximumWidth)
      let final = counts.withLock { $0 }
      for share in 0..<8 {
        #expect(final[share] == (share < used ? 200 : 0), "width \(width) share \(share)")
      }
    }
  }

  @Test func chunksCoverTheRangeOnceWithoutOverlap() {
    let pool = WorkerPool(workers: 1)
    for count in [0, 1, 7, 100, 1001] {
      let hits = Mutex([Int](repeating: 0, count: count))
      pool.forEachChunk(count: count, width: 2, minimumPerShare: 10) { range in
        hits.withLock { for i in range { $0[i] += 1 } }
      }
      #expect(hits.withLock { $0 }.allSatisfy { $0 == 1 }, "count \(count)")
    }
  }

  /// With the workers held, a job's shares run on the caller, in order, and a nested hold or a
  /// job of another thread meanwhile is harmless; afterwards the worker takes its share again.
  @Test func heldSharesRunOnTheCallerInOrder() {
    let pool = WorkerPool(workers: 1)
    let caller = ObjectIdentifier(Thread.current)
    let order = Mutex<[Int]>([])
    let threads = Mutex<Set<ObjectIdentifier>>([])
    let result = pool.withSharesOnCaller {
      pool.withSharesOnCaller {
        for _ in 0..<50 {
          pool.run(width: 2) { share in
            order.withLock { $0.append(share) }
            threads.withLock { _ = $0.insert(ObjectIdentifier(Thread.current)) }
          }
        }
      }
      return 7
    }
    #expect(result == 7)
    #expect(order.withLock { $0 } == Array(repeating: [0, 1], count: 50).flatMap { $0 })
    #expect(threads.withLock { $0 } == [caller])
    let worker = Mutex<ObjectIdentifier?>(nil)
    pool.run(width: 2) { share in
      if share == 1 { worker.withLock { $0 = ObjectIdentifier(Thread.current) } }
    }
    #expect(worker.withLock { $0 } != nil && worker.withLock { $0 } != caller)
  }

  /// The round trip between the caller and a worker is measured (well under a millisecond on
  /// any machine), and there is none to measure without a worker or with the workers held.
  @Test func roundTripsAreMeasuredBetweenTwoThreads() {
    let pool = WorkerPool(workers: 1)
    let seconds = pool.roundTripSeconds(count: 500)
    #expect(seconds != nil && seconds! > 0 && seconds! < 1e-3, "\(String(describing: seconds))")
    #expect(pool.withSharesOnCaller { pool.roundTripSeconds(count: 500) } == nil)
    #expect(WorkerPool(workers: 0).roundTripSeconds() == nil)
  }

  /// Jobs after an idle period (workers asleep on the condition) still run.
  @Test func wakesUpAfterIdling() async throws {
    let pool = WorkerPool(workers: 1)
    let total = Mutex(0)
    pool.run(width: 2) { _ in total.withLock { $0 += 1 } }
    try await Task.sleep(for: .milliseconds(50))
    pool.run(width: 2) { _ in total.withLock { $0 += 1 } }
    #expect(total.withLock { $0 } == 4)
  }

  /// rest() sends the workers to sleep and wake() rouses them; either way the next jobs run every
  /// share once, the second one on the worker thread (not inline on the caller).
  @Test func restAndWakeKeepJobsRunning() {
    let pool = WorkerPool(workers: 1)
    for round in 0..<60 {
      switch round % 3 {
      case 0: pool.rest()
      case 1: pool.wake()
      default: break
      }
      if round % 10 == 0 { Thread.sleep(forTimeInterval: 0.005) }
      let caller = pthread_self()
      let ranOnCaller = Mutex([Bool](repeating: false, count: 2))
      let runs = Mutex([Int](repeating: 0, count: 2))
      pool.run(width: 2) { share in
        let onCaller = pthread_equal(pthread_self(), caller) != 0
        ranOnCaller.withLock { $0[share] = onCaller }
        runs.withLock { $0[share] += 1 }
      }
      #expect(runs.withLock { $0 } == [1, 1], "round \(round)")
      #expect(ranOnCaller.withLock { $0 } == [true, false], "round \(round)")
    }
  }

  /// Callers on several threads at once: each job still runs every share exactly once.
  @Test func concurrentCallersAllComplete() async {
    let pool = WorkerPool(workers: 1)
    let total = Counter()
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<4 {
        group.addTask {
          for _ in 0..<500 { pool.run(width: 2) { _ in total.increment() } }
        }
      }
    }
    #expect(total.value == 4 * 500 * 2)
  }
}

private final class Counter: Sendable {
  private let count = Mutex(0)
  func increment() { count.withLock { $0 += 1 } }
  var value: Int { count.withLock { $0 } }
}
