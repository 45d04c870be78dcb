import CoLearnTensor
import Foundation

/// A partition that cannot be drawn or parsed; the message names the value and what to change.
public enum PartitionError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A `--partition` value that is not `iid`, `dirichlet:ALPHA` or `classes:K`.
  case unknown(String)
  /// A parameter outside its range.
  case invalidParameter(partition: String, reason: String)
  /// More samples asked for than the training set (or one class of it) holds.
  case notEnoughSamples(needed: Int, available: Int, hint: String)

  public var description: String {
    switch self {
    case .unknown(let text):
      return "unknown --partition '\(text)': use iid, dirichlet:ALPHA (e.g. dirichlet:0.5) or "
        + "classes:K (e.g. classes:2)"
    case .invalidParameter(let partition, let reason):
      return "invalid --partition \(partition): \(reason)"
    case .notEnoughSamples(let needed, let available, let hint):
      return "the partition needs \(needed) samples but only \(available) are available; \(hint)"
    }
  }
}

/// How the training set is divided among participants (SPEC §3). Every participant gets
/// `shardSize` samples and no sample goes to two participants. Drawn from a seeded generator, so
/// a partition is reproducible from the seed.
///
/// - `iid`: a uniformly random permutation of the training set, cut into consecutive shards.
/// - `dirichlet:α`: label skew. Participant i draws class proportions p_i ~ Dirichlet(α, …, α)
///   and then each of its samples' class from p_i, taking samples of that class without
///   replacement; when a class runs out, its share goes to the participant's other classes in
///   proportion to p_i. Small α (0.1) gives one or two dominant classes per participant; large α
///   approaches IID.
/// - `classes:K`: participant i gets K distinct classes, chosen uniformly among the classes that
///   still hold enough samples for their share, and its shard split evenly over them (the
///   remainder to the first ones); a class that runs out is made up from the participant's other
///   chosen classes.
public enum Partition: Sendable, Hashable, CustomStringConvertible {
  case iid
  case dirichlet(alpha: Double)
  case classes(perParticipant: Int)

  /// Parses `iid`, `dirichlet:ALPHA` or `classes:K`.
  public init(parsing text: String) throws(PartitionError) {
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    switch (parts.first ?? "", parts.count) {
    case ("iid", 1):
      self = .iid
    case ("dirichlet", 2):
      guard let alpha = Double(parts[1]), alpha > 0, alpha.isFinite else {
        throw .invalidParameter(partition: text, reason: "ALPHA must be a positive number")
      }
      self = .dirichlet(alpha: alpha)
    case ("classes", 2):
      guard let k = Int(parts[1]), k >= 1 else {
        throw .invalidParameter(partition: text, reason: "K must be an integer ≥ 1")
      }
      self = .classes(perParticipant: k)
    default:
      throw .unknown(text)
    }
  }

  public var description: String {
    switch self {
    case .iid: return "iid"
    case .dirichlet(let alpha): return "dirichlet:\(alpha)"
    case .classes(let k): return "classes:\(k)"
    }
  }

  /// Draws `participants` disjoint shards of `shardSize` sample indices from a dataset with
  /// these `labels` (in 0..<classCount).
  ///
  /// - Throws: ``PartitionError`` when the data set is too small for the request.
  public func shards<G: RandomNumberGenerator>(
    labels: [Int32], classCount: Int, participants: Int, shardSize: Int,
    using generator: inout G
  ) throws(PartitionError) -> [[Int]] {
    let needed = participants * shardSize
    guard needed <= labels.count else {
      throw .notEnoughSamples(
        needed: needed, available: labels.count,
        hint: "lower --participants or --shard-size (\(participants) × \(shardSize))")
    }
    switch self {
    case .iid:
      var order = Array(labels.indices)
      order.shuffle(using: &generator)
      return (0..<participants).map { Array(order[($0 * shardSize)..<(($0 + 1) * shardSize)]) }
    case .dirichlet(let alpha):
      var pools = Self.classPools(labels: labels, classCount: classCount, using: &generator)
      return (0..<participants).map { _ in
        let weights = dirichletDraw(alpha: alpha, count: classCount, using: &generator)
        return Self.draw(shardSize, weights: weights, from: &pools, using: &generator)
      }
    case .classes(let k):
      guard k <= classCount else {
        throw .invalidParameter(
          partition: description, reason: "K = \(k) exceeds the \(classCount) classes")
      }
      var pools = Self.classPools(labels: labels, classCount: classCount, using: &generator)
      var shards: [[Int]] = []
      for _ in 0..<participants {
        // K distinct classes, uniformly among those that can still fill their quota; classes
        // with fewer samples left only when there are not K such classes.
        let quota = (shardSize + k - 1) / k
        let order = (0..<classCount).shuffled(using: &generator)
        let ample = order.filter { pools[$0].count >= quota }
        let rest = order.filter { pools[$0].count < quota }.sorted { pools[$0].count > pools[$1].count }
        let chosen = Array((ample + rest).prefix(k))
        var shard: [Int] = []
        for (position, c) in chosen.enumerated() {
          let quota = shardSize / k + (position < shardSize % k ? 1 : 0)
          shard += pools[c].popLast(quota)
        }
        // Make up for classes that ran out from the participant's other classes.
        var missing = shardSize - shard.count
        for c in chosen where missing > 0 {
          let extra = pools[c].popLast(missing)
          shard += extra
          missing -= extra.count
        }
        guard missing == 0 else {
          throw .notEnoughSamples(
            needed: needed, available: labels.count,
            hint: "with classes:\(k) the chosen classes ran out of samples; raise K or lower "
              + "--shard-size")
        }
        shards.append(shard)
      }
      return shards
    }
  }

  /// Each class's sample indices in random order.
  private static func classPools<G: RandomNumberGenerator>(
    labels: [Int32], classCount: Int, using generator: inout G
  ) -> [[Int]] {
    var pools = [[Int]](repeating: [], count: classCount)
    for (index, label) in labels.enumerated() { pools[Int(label)].append(index) }
    for c in pools.indices { pools[c].shuffle(using: &generator) }
    return pools
  }

  /// `count` samples whose classes are drawn from `weights`, without replacement from `pools`;
  /// an exhausted class's weight is dropped and the rest renormalised.
  private static func draw<G: RandomNumberGenerator>(
    _ count: Int, weights: [Double], from pools: inout [[Int]], using generator: inout G
  ) -> [Int] {
    var weights = weights
    var shard: [Int] = []
    shard.reserveCapacity(count)
    while shard.count < count {
      for c in weights.indices where pools[c].isEmpty { weights[c] = 0 }
      var total = weights.reduce(0, +)
      if total <= 0 {
        // Every favoured class is exhausted: fall back to the classes that still have samples.
        for c in weights.indices where !pools[c].isEmpty { weights[c] = 1 }
        total = weights.reduce(0, +)
      }
      var u = Double.random(in: 0..<total, using: &generator)
      var c = 0
      while c < weights.count - 1 && (u >= weights[c] || weights[c] == 0) {
        u -= weights[c]
        c += 1
      }
      if let index = pools[c].popLast() { shard.append(index) }
    }
    return shard
  }
}

extension Array {
  /// Removes and returns up to `n` elements from the end.
  fileprivate mutating func popLast(_ n: Int) -> [Element] {
    let taken = Swift.min(n, count)
    let tail = Array(suffix(taken))
    removeLast(taken)
    return tail
  }
}

/// A draw from Dirichlet(α, …, α) over `count` categories: independent Gamma(α, 1) draws,
/// normalised.
func dirichletDraw<G: RandomNumberGenerator>(
  alpha: Double, count: Int, using generator: inout G
) -> [Double] {
  var draws = (0..<count).map { _ in gamma(shape: alpha, using: &generator) }
  let total = draws.reduce(0, +)
  if total > 0 {
    for i in draws.indices { draws[i] /= total }
  } else {
    draws = [Double](repeating: 1 / Double(count), count: count)
  }
  return draws
}

/// A Gamma(shape, 1) draw by Marsaglia and Tsang's method (2000); shapes below 1 use the boost
/// Gamma(a) = Gamma(a + 1)·U^(1/a).
func gamma<G: RandomNumberGenerator>(shape: Double, using generator: inout G) -> Double {
  if shape < 1 {
    let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
    return gamma(shape: shape + 1, using: &generator) * pow(u, 1 / shape)
  }
  let d = shape - 1.0 / 3
  let c = 1 / (9 * d).squareRoot()
  while true {
    var x: Double
    var v: Double
    repeat {
      x = standardNormal(using: &generator)
      v = 1 + c * x
    } while v <= 0
    v = v * v * v
    let u = Double.random(in: 0..<1, using: &generator)
    if u < 1 - 0.0331 * x * x * x * x { return d * v }
    if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
  }
}

/// A standard normal draw (Box–Muller).
func standardNormal<G: RandomNumberGenerator>(using generator: inout G) -> Double {
  let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
  let u2 = Double.random(in: 0..<1, using: &generator)
  return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
}
