import CoLearnTestSupport
import Foundation
import Testing

/// Whether python3 imports `modules` (e.g. `"onnx, onnxruntime"`): the interoperability tests
/// run the real consumers of colearn's files when they are installed, and skip otherwise —
/// except in CI, where .ci/run installs them and a missing one is a recorded failure.
func pythonHas(_ modules: String) throws -> Bool {
  let probe = try runProcess(
    URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import \(modules)"])
  if probe.status != 0 {
    #expect(
      ProcessInfo.processInfo.environment["CI"] == nil,
      "CI must install \(modules) (.ci/run): \(probe.combined)")
  }
  return probe.status == 0
}
