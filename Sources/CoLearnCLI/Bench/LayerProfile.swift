import CoLearnNN
import CoLearnTensor

/// Per-layer time of a training step (forward, and backward with the fused SGD update), for
/// `colearn bench --profile`: it runs the layers of a model directly with its own activation
/// buffers, so the measured network code is the same as in training.
struct LayerProfile {
  struct Entry {
    var layer: String
    var forwardMicroseconds: Double
    var backwardMicroseconds: Double
  }

  /// Median per-layer microseconds over `steps` steps at `batchSize`.
  static func measure(model: ModelSpec, batchSize: Int, steps: Int = 50) -> [Entry] {
    let layers = model.makeLayers()
    let layout = ParameterLayout(layers: layers)
    var generator = SeededGenerator(seed: 3)
    let network = Network(layers: layers)
    var parameters = [Float](repeating: 0, count: layout.parameterCount)
    network.initialize(&parameters, using: &generator)
    for layer in layers { layer.reserve(batchSize: batchSize) }
    let activations = layers.map { FloatBuffer(count: batchSize * $0.outputShape.count) }
    let input = FloatBuffer(count: batchSize * layers[0].inputShape.count)
    for i in 0..<input.count { input.pointer[i] = Float.random(in: -1...1, using: &generator) }
    let largest = layers.map { max($0.inputShape.count, $0.outputShape.count) }.max() ?? 1
    let gradients = [FloatBuffer(count: batchSize * largest), FloatBuffer(count: batchSize * largest)]
    var forward = Array(repeating: [Double](), count: layers.count)
    var backward = Array(repeating: [Double](), count: layers.count)
    parameters.withUnsafeMutableBufferPointer { w in
      for step in 0..<(steps + 5) {
        var current = UnsafePointer(input.pointer)
        for (index, layer) in layers.enumerated() {
          let start = monotonicSeconds()
          layer.forward(
            current, into: activations[index].pointer, batchSize: batchSize,
            parameters: w.baseAddress! + layout.layerRanges[index].lowerBound)
          if step >= 5 { forward[index].append(monotonicSeconds() - start) }
          current = UnsafePointer(activations[index].pointer)
        }
        // A small upstream gradient keeps the update from destabilising the weights.
        let last = activations[layers.count - 1]
        for i in 0..<last.count { gradients[1].pointer[i] = 1e-3 * Float(i % 7) }
        var upstream = UnsafePointer(gradients[1].pointer)
        for index in layers.indices.reversed() {
          let downstream: UnsafeMutablePointer<Float>? = index == 0 ? nil : gradients[index % 2].pointer
          let start = monotonicSeconds()
          layers[index].backwardApplyingSGD(
            input: index == 0 ? UnsafePointer(input.pointer) : UnsafePointer(activations[index - 1].pointer),
            output: activations[index].pointer, outputGradient: upstream, inputGradient: downstream,
            batchSize: batchSize, parameters: w.baseAddress! + layout.layerRanges[index].lowerBound,
            rate: 1e-4)
          if step >= 5 { backward[index].append(monotonicSeconds() - start) }
          if let downstream { upstream = UnsafePointer(downstream) }
        }
      }
    }
    return layers.indices.map {
      Entry(
        layer: layers[$0].description, forwardMicroseconds: median(forward[$0]) * 1e6,
        backwardMicroseconds: median(backward[$0]) * 1e6)
    }
  }
}
