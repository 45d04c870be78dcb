import CoLearnTestSupport
import Foundation
import Testing

/// The AVX-512 code stays in CoLearnAVX512, which runs only after the CPU check.
///
/// Every target but CoLearnAVX512 is compiled for the build's CPU level; CoLearnAVX512 for
/// `znver4`. Two things could leak AVX-512 instructions into code that runs on any CPU: a
/// function the linker merges across modules (a generic specialisation, which Swift emits in
/// each module that uses it, might be kept from CoLearnAVX512's copy), and a kernel called
/// without the check. These tests read the machine code that was built: CoLearnAVX512's objects
/// define only its own functions, and in the linked `colearn` every function that touches a
/// 512-bit register, a mask register or the upper 16 vector registers is CoLearnAVX512's, or a
/// library's own run-time-dispatched `…avx512…` routine (BoringSSL's AES-GCM).
@Suite struct AVX512ConfinementTests {
  /// Runs `script` with /bin/sh and returns its standard output's lines.
  func shell(_ script: String) throws -> [String] {
    let result = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", script])
    #expect(result.status == 0, "\(script): \(result.standardError)")
    return result.standardOutput.split(separator: "\n").map(String.init)
  }

  /// x86-64 Linux with a built colearn; objdump and nm there too, except outside CI (where
  /// scripts/setup.sh installs binutils, a missing objdump fails the tests instead).
  static var tools: Bool {
    #if arch(x86_64) && os(Linux)
      let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
      return colearnExecutable() != nil
        && (inCI || FileManager.default.isExecutableFile(atPath: "/usr/bin/objdump"))
    #else
      return false
    #endif
  }

  @Test(.enabled(if: tools, "needs x86-64 Linux, binutils' objdump and nm, and a built colearn"))
  func theTargetDefinesOnlyItsOwnFunctions() throws {
    let directory = colearnExecutable()!.deletingLastPathComponent()
      .appendingPathComponent("CoLearnAVX512.build").path
    let functions = try shell("nm --defined-only '\(directory)'/*.o | awk '$2 ~ /^[tTwW]$/ { print $3 }'")
    #expect(functions.count >= 2, "no functions found in \(directory)")
    let foreign = functions.filter { !$0.hasPrefix("$s13CoLearnAVX512") }
    #expect(foreign.isEmpty, "CoLearnAVX512 defines functions of other modules: \(foreign)")
  }

  @Test(.enabled(if: tools, "needs x86-64 Linux, binutils' objdump and nm, and a built colearn"))
  func onlyTheTargetUsesAVX512Registers() throws {
    let binary = colearnExecutable()!.path
    // Function headers are "ADDRESS <NAME>:"; print each function with an AVX-512-only operand.
    let functions = try shell(
      "objdump -d --no-show-raw-insn '\(binary)' | awk '"
        + #"/^[0-9a-f]+ <.*>:$/ { name = $2; next } "#
        + #"/zmm|%k[1-7]|\{1to|%[xy]mm(1[6-9]|2[0-9]|3[01])/ { if (!(name in seen)) { seen[name] = 1; print name } }'"#)
    let ours = functions.filter { $0.contains("CoLearnAVX512") }
    #expect(ours.count >= 2, "the AVX-512 kernels use no 512-bit registers: not compiled for znver4?")
    let others = functions.filter { !$0.contains("CoLearnAVX512") && !$0.lowercased().contains("avx512") }
    #expect(others.isEmpty, "AVX-512 instructions outside CoLearnAVX512: \(others.prefix(10))")
  }
}
