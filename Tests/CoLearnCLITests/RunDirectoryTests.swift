import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// A run directory's `metrics.csv` across a resume: rows after the resumed round are dropped,
/// and a file with other columns (another command's, or an older colearn's) is refused rather
/// than appended to with misaligned rows.
@Suite struct RunDirectoryTests {
  @Test func resumingKeepsRowsThroughTheRoundAndRefusesOtherColumns() throws {
    let directory = try makeTemporaryDirectory("colearn-run-directory")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("run").path
    let csv = path + "/metrics.csv"
    do {
      let run = try RunDirectory(path: path, columns: ["round", "accuracy"])
      for round in 1...4 { run.append(row: ["\(round)", "0.\(round)"]) }
      run.close()
    }
    do {
      let run = try RunDirectory(
        path: path, columns: ["round", "accuracy"], resume: true, keepingRowsThrough: 2)
      run.append(row: ["3", "0.33"])
      run.close()
    }
    #expect(try String(contentsOfFile: csv, encoding: .utf8) == "round,accuracy\n1,0.1\n2,0.2\n3,0.33\n")
    let refused = #expect(throws: CLIError.self) {
      _ = try RunDirectory(path: path, columns: ["round", "accuracy", "loss"], resume: true)
    }
    #expect(
      refused?.description.contains(
        "has the columns 'round,accuracy', not this command's 'round,accuracy,loss'") == true,
      "\(String(describing: refused))")
    // Nothing was lost.
    #expect(try String(contentsOfFile: csv, encoding: .utf8) == "round,accuracy\n1,0.1\n2,0.2\n3,0.33\n")
  }
}
