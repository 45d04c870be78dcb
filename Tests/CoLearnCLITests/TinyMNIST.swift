import Foundation

/// A tiny, easily learnable MNIST on disk for end-to-end tests of commands that read a data
/// directory: `<directory>/mnist/` with the four uncompressed IDX files. Class c is a bright
/// horizontal band at rows 2c+4…2c+5 over seeded noise.
///
/// - Parameters:
///   - directory: The data directory to create `mnist/` in.
///   - trainCount: Training images.
///   - testCount: Test images.
func writeTinyMNIST(in directory: URL, trainCount: Int = 300, testCount: Int = 100) throws {
  let mnist = directory.appendingPathComponent("mnist")
  try FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
  var state: UInt64 = 0x9E37_79B9_7F4A_7C15
  func noise() -> UInt8 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return UInt8((state >> 33) % 60)
  }
  func bigEndian(_ value: Int) -> [UInt8] {
    (0..<4).map { UInt8((value >> (8 * (3 - $0))) & 0xFF) }
  }
  for (prefix, count) in [("train", trainCount), ("t10k", testCount)] {
    var images = bigEndian(0x0803) + bigEndian(count) + bigEndian(28) + bigEndian(28)
    var labels = bigEndian(0x0801) + bigEndian(count)
    for index in 0..<count {
      let label = index % 10
      labels.append(UInt8(label))
      for row in 0..<28 {
        for _ in 0..<28 {
          let band = row == 2 * label + 4 || row == 2 * label + 5
          images.append(band ? 200 &+ noise() / 2 : noise())
        }
      }
    }
    try Data(images).write(to: mnist.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
    try Data(labels).write(to: mnist.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
  }
}

/// The suite used by the end-to-end and resumption tests: two `train` runs (selective SGD at
/// θ = 1 and 0.1) and two `simulate` runs (DSSGD and standalone), a summary figure and a curve,
/// a few seconds in all on the tiny MNIST.
let tinySuite = """
  suite: tiny
  title: A tiny suite for tests
  description: Two train runs and two simulate runs on a generated MNIST.
  seed: 3
  batch-size: 8
  lr: 0.05
  quick.epochs: 2
  full.epochs: 3
  quick.rounds: 2
  participants: 3
  shard-size: 50

  ---
  figure: theta
  title: Selective SGD
  x: select-fraction
  x-scale: log
  source: invented numbers for the test
  claim: θ = 0.1 is almost as good as θ = 1. (test)

  ---
  figure: curve
  title: Convergence
  kind: curve

  ---
  runs: train-theta{select-fraction}
  series: selective SGD
  figure: theta
  command: train
  select-fraction: [1, 0.1]
  paper: [0.9, 0.85]

  ---
  runs: dssgd
  series: DSSGD
  figure: curve
  upload-fraction: 0.1

  ---
  runs: standalone
  series: standalone
  figure: [curve, theta]
  algorithm: standalone
  paper: 0.5
  """
