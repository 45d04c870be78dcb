import CoLearnTensor
import Testing

/// Which kernels a CPU gets: AVX-512 only with every vector extension the `znver4`-compiled
/// target may use, and never when `COLEARN_MAX_CPU_ISA` limits it.
struct KernelInstructionsTests {
  /// A Zen 5's flags line, as /proc/cpuinfo prints it (shortened).
  static let zen5 =
    "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma f16c bmi1 bmi2 movbe avx512f avx512dq "
    + "avx512ifma avx512cd avx512bw avx512vl avx512_bf16 avx512vbmi avx512_vbmi2 gfni vaes "
    + "vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq\nbugs\t\t: sysret_ss_attrs\n"

  @Test func readsTheFirstFlagsLine() {
    let flags = KernelInstructions.cpuFlags(fromCPUInfo: Self.zen5 + "flags\t: sse2\n")
    #expect(flags.contains("avx512_bitalg") && flags.contains("fpu"))
    #expect(!flags.contains("sysret_ss_attrs"))
    #expect(KernelInstructions.cpuFlags(fromCPUInfo: "processor: 0\n").isEmpty)
  }

  @Test func aCPUWithEveryExtensionGetsAVX512() {
    let flags = KernelInstructions.cpuFlags(fromCPUInfo: Self.zen5)
    let chosen = KernelInstructions.choose(flags: flags, maximum: nil)
    #expect(chosen.set == .avx512 && chosen.reason == nil)
    #expect(KernelInstructions.choose(flags: flags, maximum: "AVX512").set == .avx512)
  }

  /// A Skylake-X has AVX-512F/BW/DQ/VL/CD but not the later extensions: AVX2, and the reason
  /// names what is missing.
  @Test func aCPUMissingAnExtensionKeepsTheBaseline() {
    var flags = KernelInstructions.cpuFlags(fromCPUInfo: Self.zen5)
    for missing in ["avx512_bf16", "avx512_vbmi2", "gfni"] { flags.remove(missing) }
    let chosen = KernelInstructions.choose(flags: flags, maximum: nil)
    #expect(chosen.set == .baseline)
    #expect(chosen.reason == "the CPU lacks avx512_vbmi2, avx512_bf16, gfni")
    #expect(KernelInstructions.choose(flags: [], maximum: nil).reason == "no CPU flags in /proc/cpuinfo")
  }

  @Test func theEnvironmentLimitsTheSet() {
    let flags = KernelInstructions.cpuFlags(fromCPUInfo: Self.zen5)
    let chosen = KernelInstructions.choose(flags: flags, maximum: "avx2")
    #expect(chosen.set == .baseline && chosen.reason == "COLEARN_MAX_CPU_ISA=avx2")
  }
}
