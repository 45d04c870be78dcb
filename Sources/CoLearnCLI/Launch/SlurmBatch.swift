import CoLearnData
import Foundation

/// What the batch scripts colearn writes for Slurm have in common: the `#SBATCH` resource lines,
/// shell quoting, writing a script, and submitting one with `sbatch --parsable`.
///
/// The scripts are deterministic (the same inputs give the same bytes, for golden tests): no
/// dates, host names or process ids are written into them; everything that varies at run time
/// comes from Slurm's environment (`SLURM_JOB_ID`, `SLURM_ARRAY_TASK_ID`, …).
enum SlurmBatch {
  /// Resources of one job (or of each task of an array).
  struct Resources: Equatable {
    /// `--cpus-per-task`.
    var cpus: Int
    /// `--mem` in MiB.
    var memoryMB: Int
    /// `--time` (`HH:MM:SS`, `D-HH:MM:SS` or minutes), if set.
    var time: String?
    /// `--partition`, if set.
    var partition: String?
    /// `--account`, if set.
    var account: String?

    /// The `#SBATCH` lines.
    var directives: [String] {
      var lines = ["#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=\(cpus)", "#SBATCH --mem=\(memoryMB)M"]
      if let time { lines.append("#SBATCH --time=\(time)") }
      if let partition { lines.append("#SBATCH --partition=\(partition)") }
      if let account { lines.append("#SBATCH --account=\(account)") }
      return lines
    }
  }

  /// `text` as one shell word in single quotes (a `'` inside becomes `'\''`).
  static func quote(_ text: String) -> String {
    if !text.isEmpty,
      text.unicodeScalars.allSatisfy({
        CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_./:=%@+,".unicodeScalars.contains($0)
      })
    {
      return text
    }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// A command line of quoted words.
  static func commandLine(_ words: [String]) -> String {
    words.map(quote).joined(separator: " ")
  }

  /// An absolute, standardised path for `path` (relative to the current directory): the jobs
  /// start wherever Slurm starts them.
  static func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }

  /// The path of the `colearn` binary that is running (what the scripts call by default).
  static func currentExecutable() -> String {
    if let path = Bundle.main.executablePath { return absolute(path) }
    return absolute(CommandLine.arguments[0])
  }

  /// Writes `text` to `path` atomically with mode 0755 (a batch script can be run directly).
  static func write(_ text: String, to path: String, executable: Bool = true) throws {
    do {
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try FileIO.writeAtomically(Array(text.utf8), toPath: path, mode: executable ? 0o755 : 0o644)
    } catch let error as DataError {
      throw CLIError("cannot write \(path): \(error)")
    } catch {
      throw CLIError("cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Submits `script` with `sbatch --parsable` and `arguments` before it, and returns the job id.
  ///
  /// - Throws: ``CLIError`` when `sbatch` is missing, fails (with its message) or prints no id.
  static func submit(_ script: String, arguments: [String] = [], sbatch: String = "sbatch") throws
    -> String
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [sbatch, "--parsable"] + arguments + [script]
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    do {
      try process.run()
    } catch {
      throw CLIError("cannot run \(sbatch): \(error.localizedDescription)")
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let message = String(decoding: errorData, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0 else {
      if process.terminationStatus == 127 {
        throw CLIError(
          "\(sbatch) is not installed here: submit \(script) from a Slurm login node "
            + "(`sbatch \(script)`), or run without --submit")
      }
      throw CLIError(
        "sbatch \(script) failed (status \(process.terminationStatus)): "
          + (message.isEmpty ? "no message" : message))
    }
    // --parsable prints `JOBID` or `JOBID;CLUSTER`.
    let text = String(decoding: outputData, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard let id = text.split(separator: ";").first.map(String.init),
      !id.isEmpty, id.allSatisfy(\.isNumber)
    else {
      throw CLIError("sbatch \(script) printed no job id (\"\(text.prefix(80))\")")
    }
    return id
  }

  /// A bash array literal of `words`: `(a 'b c')`.
  static func array(_ words: [String]) -> String {
    "(" + words.map(quote).joined(separator: " ") + ")"
  }
}
