import Foundation

/// The result of running a command-line program.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var standardOutput: String
  public var standardError: String

  /// Both streams, for failure messages.
  public var combined: String { standardOutput + standardError }
}

/// The `colearn` binary built next to the running test bundle (SwiftPM puts executables and the
/// test bundle in the same products directory), or nil when it has not been built.
public func colearnExecutable() -> URL? {
  var candidates: [URL] = []
  if let executable = Bundle.main.executableURL {
    candidates.append(executable.deletingLastPathComponent())
  }
  candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
  for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
    candidates.append(bundle.bundleURL.deletingLastPathComponent())
  }
  for directory in candidates {
    var url = directory
    // Walk up out of an .xctest bundle if needed.
    for _ in 0..<4 {
      let binary = url.appendingPathComponent("colearn")
      if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
      url = url.deletingLastPathComponent()
    }
  }
  return nil
}

/// Runs `executable` with `arguments` and an environment of this process's plus `environment`,
/// waits for it, and returns its exit status and output.
public func runProcess(
  _ executable: URL, _ arguments: [String], environment: [String: String] = [:],
  currentDirectory: URL? = nil
) throws -> ProcessResult {
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  if let currentDirectory { process.currentDirectoryURL = currentDirectory }
  let output = Pipe()
  let error = Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
  let errorData = LockedData()
  let errorReader = Thread { errorData.set(error.fileHandleForReading.readDataToEndOfFile()) }
  errorReader.start()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  while !errorData.isSet { usleep(1000) }
  return ProcessResult(
    status: process.terminationStatus,
    standardOutput: String(decoding: outputData, as: UTF8.self),
    standardError: String(decoding: errorData.value, as: UTF8.self))
}

/// A fresh empty temporary directory for one test.
public func makeTemporaryDirectory(_ name: String = "colearn-test") throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The real data directory of the test machine (COLEARN_DATA_DIR), or nil when unset.
public func realDataDirectory() -> String? {
  guard let value = ProcessInfo.processInfo.environment["COLEARN_DATA_DIR"], !value.isEmpty
  else { return nil }
  return value
}

private final class LockedData: @unchecked Sendable {
  private let lock = NSLock()
  private var data: Data?

  func set(_ value: Data) {
    lock.lock()
    data = value
    lock.unlock()
  }

  var isSet: Bool {
    lock.lock()
    defer { lock.unlock() }
    return data != nil
  }

  var value: Data {
    lock.lock()
    defer { lock.unlock() }
    return data ?? Data()
  }
}
