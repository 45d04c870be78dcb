import CoLearnData
import CoLearnTensor
import Testing

@Suite struct PartitionTests {
  /// 10 classes × 300 samples, labels in a fixed pattern.
  let labels: [Int32] = (0..<3000).map { Int32($0 % 10) }

  func shards(_ partition: Partition, participants: Int = 10, size: Int = 100, seed: UInt64 = 1) throws -> [[Int]] {
    var generator = SeededGenerator(seed: seed)
    return try partition.shards(
      labels: labels, classCount: 10, participants: participants, shardSize: size, using: &generator)
  }

  func classesIn(_ shard: [Int]) -> [Int] {
    var histogram = [Int](repeating: 0, count: 10)
    for index in shard { histogram[Int(labels[index])] += 1 }
    return histogram
  }

  @Test(arguments: [Partition.iid, .dirichlet(alpha: 0.1), .dirichlet(alpha: 100), .classes(perParticipant: 2)])
  func shardsAreDisjointAndFull(partition: Partition) throws {
    let drawn = try shards(partition, participants: 25)
    #expect(drawn.count == 25)
    #expect(drawn.allSatisfy { $0.count == 100 })
    let all = drawn.flatMap { $0 }
    #expect(Set(all).count == all.count, "no sample in two shards")
    #expect(all.allSatisfy { $0 >= 0 && $0 < labels.count })
  }

  @Test func sameSeedSamePartition() throws {
    #expect(try shards(.dirichlet(alpha: 0.5), seed: 4) == shards(.dirichlet(alpha: 0.5), seed: 4))
    #expect(try shards(.iid, seed: 4) != shards(.iid, seed: 5))
  }

  @Test func smallAlphaSkewsLabelsAndLargeAlphaDoesNot() throws {
    func meanLargestClassShare(_ alpha: Double) throws -> Double {
      let drawn = try shards(.dirichlet(alpha: alpha), participants: 20)
      return drawn.map { Double(classesIn($0).max() ?? 0) / 100 }.reduce(0, +) / 20
    }
    #expect(try meanLargestClassShare(0.05) > 0.6)
    #expect(try meanLargestClassShare(1000) < 0.25)
  }

  @Test func classesGivesExactlyKClassesEach() throws {
    for shard in try shards(.classes(perParticipant: 3), participants: 20, size: 90) {
      let histogram = classesIn(shard)
      #expect(histogram.filter { $0 > 0 }.count == 3)
      #expect(histogram.filter { $0 > 0 }.allSatisfy { $0 == 30 })
    }
  }

  @Test func parsingAndErrorsNameTheValue() throws {
    #expect(try Partition(parsing: "iid") == .iid)
    #expect(try Partition(parsing: "dirichlet:0.5") == .dirichlet(alpha: 0.5))
    #expect(try Partition(parsing: "classes:2") == .classes(perParticipant: 2))
    #expect(throws: PartitionError.unknown("skewed")) { try Partition(parsing: "skewed") }
    #expect(throws: PartitionError.self) { try Partition(parsing: "dirichlet:-1") }
    #expect(throws: PartitionError.self) { try Partition(parsing: "classes:x") }
    #expect(throws: PartitionError.self) { try shards(.iid, participants: 31, size: 100) }
    #expect(throws: PartitionError.self) { try shards(.classes(perParticipant: 11)) }
    let message = PartitionError.notEnoughSamples(needed: 3100, available: 3000, hint: "lower --participants").description
    #expect(message.contains("3100") && message.contains("--participants"))
  }
}
