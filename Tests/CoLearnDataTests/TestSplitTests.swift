import CoLearnData
import Testing

@Suite struct TestSplitTests {
  /// 30 "a", 10 "b", 5 "c", interleaved.
  let labels: [String] = (0..<45).map { $0 % 9 == 0 ? "c" : ($0 % 9 < 3 ? "b" : "a") }

  @Test func stratifiedDisjointCompleteAndSeeded() throws {
    let split = try TestSplit.indices(labels: labels, fraction: 0.2, seed: 7, spelling: "csv:t")
    #expect(Set(split.train).isDisjoint(with: split.test))
    #expect((split.train + split.test).sorted() == Array(0..<45))
    #expect(split.train == split.train.sorted() && split.test == split.test.sorted())
    // round(0.2 × 30) = 6 a, round(0.2 × 10) = 2 b, round(0.2 × 5) = 1 c.
    let testLabels = split.test.map { labels[$0] }
    #expect(testLabels.filter { $0 == "a" }.count == 6)
    #expect(testLabels.filter { $0 == "b" }.count == 2)
    #expect(testLabels.filter { $0 == "c" }.count == 1)
    let again = try TestSplit.indices(labels: labels, fraction: 0.2, seed: 7, spelling: "csv:t")
    #expect(again.test == split.test)
    let other = try TestSplit.indices(labels: labels, fraction: 0.2, seed: 8, spelling: "csv:t")
    #expect(other.test != split.test)
  }

  @Test func badFractionsAndEmptyPartsAreRefused() throws {
    for fraction in [0.0, 1.0, -0.5, .nan] {
      #expect(throws: DataError.self) {
        try TestSplit.indices(labels: labels, fraction: fraction, seed: 1, spelling: "csv:t")
      }
    }
    do {
      _ = try TestSplit.indices(labels: [1, 2, 3], fraction: 0.1, seed: 1, spelling: "csv:t")
      Issue.record("an empty test part was accepted")
    } catch {
      #expect(error.description.contains("no test samples"))
    }
  }
}
