import CoLearnNN
import CoLearnTensor
import Foundation

/// One measured configuration of `colearn bench`.
struct BenchmarkRow: Codable, Sendable {
  var model: String
  var batchSize: Int
  var threads: Int
  var samplesPerSecond: Double
  var stepMicroseconds: Double
  var trainFLOPsPerSample: Double
  var gigaFLOPsPerSecond: Double
  var fractionOfGEMMPeak: Double
  var samplesPerSecondByPass: [Double]
}

/// Training-step and evaluation throughput measurements on random data of the right shape, the
/// same protocol as the PyTorch peer (`../shared/peers/train_bench.py`): a 640-sample buffer
/// walked in contiguous slices, warm-up steps, a step count calibrated to about `seconds`, then
/// `repeats` timed runs of that count, reporting the median.
struct TrainingBenchmark {
  var seconds = 1.5
  var repeats = 3
  var warmupSteps = 30

  /// Training FLOPs of one sample (GEMM-like work only, as the peer counts it): forward, weight
  /// gradient, and input gradient for every layer but the first.
  static func trainFLOPs(_ network: Network) -> Double {
    var total = 0.0
    for (index, layer) in network.layers.enumerated() {
      let macs = Double(layer.forwardMultiplyAdds)
      total += 2 * macs * (index == 0 ? 2 : 3)
    }
    return total
  }

  /// Median samples/s of SGD steps of `model` at `batchSize`.
  func measureTraining(model: ModelSpec, batchSize: Int) throws -> (samplesPerSecond: Double, stepMicroseconds: Double) {
    let network = model.makeNetwork()
    var generator = SeededGenerator(seed: 7)
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    let configuration = try SGDConfiguration(learningRate: 1e-3, batchSize: batchSize)
    let trainer = Trainer(network: network, configuration: configuration)
    var local = LocalModel(parameters: parameters)
    let bufferSamples = 640
    let sampleSize = network.inputShape.count
    let features = (0..<(bufferSamples * sampleSize)).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    let labels = (0..<bufferSamples).map { _ in Int32(generator.next() % UInt64(model.classCount)) }
    var cursor = 0
    func run(_ steps: Int) {
      features.withUnsafeBufferPointer { f in
        labels.withUnsafeBufferPointer { l in
          for _ in 0..<steps {
            if cursor + batchSize > bufferSamples { cursor = 0 }
            trainer.step(
              &local, input: f.baseAddress! + cursor * sampleSize, labels: l.baseAddress! + cursor,
              batchSize: batchSize)
            cursor += batchSize
          }
        }
      }
    }
    run(warmupSteps)
    // Calibrate the step count to about `seconds`.
    var steps = 10
    while true {
      let start = monotonicSeconds()
      run(steps)
      let elapsed = monotonicSeconds() - start
      if elapsed > 0.2 {
        steps = max(10, Int(Double(steps) * seconds / elapsed))
        break
      }
      steps *= 4
    }
    var times: [Double] = []
    for _ in 0..<repeats {
      let start = monotonicSeconds()
      run(steps)
      times.append(monotonicSeconds() - start)
    }
    let median = times.sorted()[times.count / 2]
    return (Double(steps * batchSize) / median, median / Double(steps) * 1e6)
  }

  /// Median samples/s of evaluation (forward passes, the loss and the arg-max) of random
  /// samples at the model's evaluation batch size, through ``Evaluator`` (what `simulate`,
  /// `train`, `predict` and `evaluate` run) on ``BLAS/threadCount`` cores: `repeats` timed runs
  /// of a pass count calibrated to about ``seconds``. Random values are dense, so a first dense
  /// layer multiplies every input, as PyTorch's does; sparse data (MNIST) is faster.
  func measureEvaluation(model: ModelSpec, samples: Int = 4000) -> Double {
    let network = model.makeNetwork()
    var generator = SeededGenerator(seed: 8)
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    let sampleSize = network.inputShape.count
    let count = model.isConvolutional ? samples / 4 : samples * 2
    let features = (0..<(count * sampleSize)).map { _ in Float.random(in: -1...1, using: &generator) }
    let labels = (0..<count).map { _ in Int32(generator.next() % UInt64(model.classCount)) }
    return measureEvaluation(
      model: model, on: LabeledSamples(features: features, labels: labels, sampleSize: sampleSize),
      parameters: parameters)
  }

  /// Median samples/s of evaluating `samples` (a real test set, as `simulate` and `train` see
  /// it: listed once when the first layer is dense) with `parameters`, by default freshly
  /// initialised ones; the protocol of ``measureEvaluation(model:samples:)``.
  func measureEvaluation(model: ModelSpec, on samples: LabeledSamples, parameters: [Float]? = nil)
    -> Double
  {
    let evaluator = Evaluator(model)
    let parameters = parameters ?? {
      let network = model.makeNetwork()
      var generator = SeededGenerator(seed: 8)
      var parameters = [Float](repeating: 0, count: network.parameterCount)
      network.initialize(&parameters, using: &generator)
      return parameters
    }()
    let data = evaluator.prepared(samples)
    let count = data.count
    func run(_ passes: Int) {
      for _ in 0..<passes {
        _ = evaluator.evaluate(parameters: parameters, on: data, batchSize: model.evaluationBatchSize)
      }
    }
    run(1)
    var passes = 1
    while true {
      let start = monotonicSeconds()
      run(passes)
      let elapsed = monotonicSeconds() - start
      if elapsed > 0.1 {
        passes = max(1, Int(Double(passes) * seconds / elapsed))
        break
      }
      passes *= 2
    }
    var times: [Double] = []
    for _ in 0..<repeats {
      let start = monotonicSeconds()
      run(passes)
      times.append(monotonicSeconds() - start)
    }
    return Double(count * passes) / times.sorted()[times.count / 2]
  }

  /// The best GFLOP/s of a square SGEMM of side `n` (the GEMM peak the percentages refer to).
  static func gemmPeak(n: Int = 2048, repeats: Int = 5) -> Double {
    let a = FloatBuffer(count: n * n)
    let b = FloatBuffer(count: n * n)
    let c = FloatBuffer(count: n * n)
    a.fill(0.5)
    b.fill(0.25)
    var best = 0.0
    for _ in 0..<repeats {
      let start = monotonicSeconds()
      BLAS.gemm(
        .none, .none, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer,
        ldc: n)
      let elapsed = monotonicSeconds() - start
      best = max(best, 2 * Double(n) * Double(n) * Double(n) / elapsed / 1e9)
    }
    return best
  }
}
