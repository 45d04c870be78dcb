import Foundation

/// The instruction set colearn's own convolution kernels run on, chosen once at start-up.
///
/// Every numeric target is compiled for the build's CPU (`-target-cpu haswell` on x86-64 by
/// default: AVX2 and FMA, 8 floats a vector). On CPUs with AVX-512 a second copy of the direct
/// convolution kernels, the `CoLearnAVX512` target compiled for `znver4`, holds 16 floats a
/// register in 32 registers (a 6 × 64 tile of outputs where AVX2 holds 6 × 16): on this
/// project's Zen 5 machines it runs svhn-cnn's first convolution twice as fast. It is used only
/// when the CPU has every vector extension that target may use (``avx512Features``), so one
/// binary runs everywhere the build's own CPU level runs.
///
/// `COLEARN_MAX_CPU_ISA=avx2` keeps the AVX2 kernels on any CPU (for comparing, like oneDNN's
/// `ONEDNN_MAX_CPU_ISA`). The two give the same bits: each output lane sums its products in the
/// same order with fused multiply–adds (`DirectConvolutionTests` compares them).
public enum KernelInstructions: Sendable {
  /// The build's own instruction set (AVX2 and FMA on a default x86-64 build).
  case baseline
  /// The `CoLearnAVX512` kernels.
  case avx512

  /// The set this process uses: ``avx512`` when the CPU has ``avx512Features`` and
  /// `COLEARN_MAX_CPU_ISA` does not limit it, ``baseline`` otherwise.
  public static var detected: KernelInstructions { choice.set }

  /// The set and, for ``baseline``, why: /proc/cpuinfo read once.
  private static let choice = choose()

  /// One line for `colearn bench`: the set and, for ``baseline``, why not AVX-512.
  public static var description: String {
    switch choice {
    case (.avx512, _): return "Kernels: colearn's convolutions on AVX-512 (CoLearnAVX512)"
    case (.baseline, let reason):
      return "Kernels: colearn's convolutions built for the build's CPU"
        + (reason.map { " (not AVX-512: \($0))" } ?? "")
    }
  }

  /// The `/proc/cpuinfo` flags of every vector extension the `znver4` code generator may use
  /// (AMD Zen 4 and later, Intel Sapphire Rapids and later have them all; Skylake-X lacks the
  /// newer ones and keeps the AVX2 kernels).
  public static let avx512Features: [String] = [
    "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe", "avx512f", "avx512cd", "avx512bw",
    "avx512dq", "avx512vl", "avx512ifma", "avx512vbmi", "avx512_vbmi2", "avx512_vnni",
    "avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16", "gfni", "vaes", "vpclmulqdq",
  ]

  /// This machine's CPU flags from `/proc/cpuinfo` (its first `flags` line), or nil where the
  /// file or the line is missing. Also read by the BLAS kernel selection.
  static func cpuFlags() -> Set<String>? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
      return nil
    }
    return flagsLine(of: text)
  }

  /// The CPU's flags from a `/proc/cpuinfo` text (the first `flags` line), empty without one.
  public static func cpuFlags(fromCPUInfo text: String) -> Set<String> {
    flagsLine(of: text) ?? []
  }

  private static func flagsLine(of text: String) -> Set<String>? {
    for line in text.split(separator: "\n") where line.hasPrefix("flags") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
    return nil
  }

  /// The set for these CPU flags and this `COLEARN_MAX_CPU_ISA` value, with the reason when it
  /// is ``baseline``.
  public static func choose(
    flags: Set<String>, maximum: String?
  ) -> (set: KernelInstructions, reason: String?) {
    if let maximum, maximum.lowercased() != "avx512" {
      return (.baseline, "COLEARN_MAX_CPU_ISA=\(maximum)")
    }
    guard !flags.isEmpty else { return (.baseline, "no CPU flags in /proc/cpuinfo") }
    let missing = avx512Features.filter { !flags.contains($0) }
    guard missing.isEmpty else {
      return (.baseline, "the CPU lacks \(missing.prefix(3).joined(separator: ", "))")
    }
    return (.avx512, nil)
  }

  private static func choose() -> (set: KernelInstructions, reason: String?) {
    #if arch(x86_64) && os(Linux)
      return choose(
        flags: cpuFlags() ?? [],
        maximum: ProcessInfo.processInfo.environment["COLEARN_MAX_CPU_ISA"])
    #elseif arch(x86_64)
      return (.baseline, "CPU flags are read on Linux only")
    #else
      return (.baseline, nil)
    #endif
  }
}
