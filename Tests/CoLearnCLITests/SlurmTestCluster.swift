import CoLearnTestSupport
import Foundation
import Testing

/// The single-node Slurm of `scripts/slurm-local.sh`, for the tests that submit real jobs.
///
/// `.ci/run` starts it and sets `COLEARN_SLURM=1` (and `SLURM_CONF`) once the node is idle. In
/// CI (`CI=true`) a test that needs it fails when it is not up; elsewhere it is skipped with a
/// message saying how to start it.
enum SlurmTestCluster {
  static var isUp: Bool { ProcessInfo.processInfo.environment["COLEARN_SLURM"] == "1" }
  static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

  /// Whether a Slurm test should run; records an issue when CI lacks the cluster.
  static func required() -> Bool {
    if isUp { return true }
    if isCI {
      Issue.record(
        "CI=true but COLEARN_SLURM is not 1: .ci/run must start scripts/slurm-local.sh before the tests")
    } else {
      print(
        "skipped: no Slurm (start one with `scripts/slurm-local.sh start`, then run the tests "
          + "with COLEARN_SLURM=1 SLURM_CONF=/tmp/colearn-slurm/slurm.conf)")
    }
    return false
  }

  /// The colearn binary the submitted jobs run: `binary`, unless COLEARN_SLURM_BINARY names
  /// another path (the jobs start outside this process's mount namespace, e.g. when the tests
  /// run in a private namespace whose /work/main is another clone).
  static func jobBinary(_ binary: URL) -> String {
    ProcessInfo.processInfo.environment["COLEARN_SLURM_BINARY"] ?? binary.path
  }

  /// Runs a Slurm client program (`squeue`, `sacct`, …).
  static func client(_ arguments: [String]) throws -> ProcessResult {
    try runProcess(URL(fileURLWithPath: "/usr/bin/env"), arguments)
  }

  /// Waits until none of `jobs` is in the queue (bounded by `timeout` seconds).
  ///
  /// - Returns: Whether they all left the queue in time.
  static func waitForJobs(_ jobs: [String], timeout: Double) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let queue = try client(["squeue", "-h", "-o", "%i %T", "-j", jobs.joined(separator: ",")])
      // squeue exits non-zero once a job id is unknown (finished and purged): nothing waits.
      if queue.status != 0 || queue.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        return true
      }
      Thread.sleep(forTimeInterval: 1)
    }
    return false
  }
}
