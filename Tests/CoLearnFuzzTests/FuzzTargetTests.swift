import CoLearnFuzz
import Testing

/// The short seeded fuzz run CI keeps (docs/FUZZING.md): every target's seeds, then a few
/// thousand mutated inputs, the same on every run.
@Suite struct FuzzTargetTests {
  @Test(arguments: FuzzTarget.allCases)
  func seedsAreAcceptedByTheirReader(_ target: FuzzTarget) throws {
    let seeds = target.seeds()
    #expect(seeds.count >= 6)
    for seed in seeds {
      // Seeds whose checksums the target does not recompute are valid as they are.
      #expect(try target.run(seed), "a seed of \(target) was refused")
    }
  }

  @Test(arguments: FuzzTarget.allCases)
  func seededMutationRunFindsNothing(_ target: FuzzTarget) {
    var fuzzer = MutationFuzzer(target: target, seed: 12)
    // The suite shares its process with tests running in parallel: the process's peak memory
    // says nothing about one input here (the fuzz runs check it), and a loaded machine may
    // stall an input for a while.
    fuzzer.limits.memoryGrowthMegabytes = .max
    fuzzer.limits.slowInput = .seconds(10)
    let summary = fuzzer.run(iterations: 3000)
    #expect(summary.failures == [], "\(summary)")
    #expect(summary.executions == 3000)
    // The run reaches past the refusals: some mutated inputs still read.
    #expect(summary.accepted > target.seeds().count)
  }

  @Test func theSameSeedRunsTheSameInputs() {
    var first = MutationFuzzer(target: .sparse, seed: 5)
    var second = MutationFuzzer(target: .sparse, seed: 5)
    let a = first.run(iterations: 500)
    let b = second.run(iterations: 500)
    #expect(a.accepted == b.accepted)
    #expect(a.corpus == b.corpus)
  }
}
