import CoLearnData
import CoLearnTensor
import Testing

/// Partitions of bring-your-own data: two unbalanced classes (the breast-cancer table's 357 /
/// 212) and thirteen classes, for every partition kind.
@Suite struct PartitionClassCountTests {
  @Test(arguments: [
    Partition.iid, .dirichlet(alpha: 0.5), .dirichlet(alpha: 0.1), .classes(perParticipant: 1),
    .classes(perParticipant: 2),
  ])
  func twoUnbalancedClasses(partition: Partition) throws {
    let labels: [Int32] = (0..<569).map { $0 < 357 ? 0 : 1 }
    var generator = SeededGenerator(seed: 5)
    let shards = try partition.shards(
      labels: labels, classCount: 2, participants: 5, shardSize: 90, using: &generator)
    #expect(shards.count == 5 && shards.allSatisfy { $0.count == 90 })
    let all = shards.flatMap { $0 }
    #expect(Set(all).count == all.count)
    if case .classes(1) = partition {
      for shard in shards { #expect(Set(shard.map { labels[$0] }).count == 1) }
    }
  }

  @Test(arguments: [Partition.iid, .dirichlet(alpha: 0.3), .classes(perParticipant: 3)])
  func thirteenClasses(partition: Partition) throws {
    let labels: [Int32] = (0..<1300).map { Int32($0 % 13) }
    var generator = SeededGenerator(seed: 9)
    let shards = try partition.shards(
      labels: labels, classCount: 13, participants: 10, shardSize: 60, using: &generator)
    let all = shards.flatMap { $0 }
    #expect(all.count == 600 && Set(all).count == 600)
    // Classes 10, 11 and 12 are reachable (nothing assumes ten classes).
    #expect(Set(all.map { labels[$0] }).count > (partition == .classes(perParticipant: 3) ? 3 : 10))
    if partition == .classes(perParticipant: 3) {
      for shard in shards { #expect(Set(shard.map { labels[$0] }).count == 3) }
    }
  }
}
