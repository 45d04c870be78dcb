import CoLearnNN
import CoLearnTensor

/// Per-layer time of a training step (forward, and backward with the fused SGD update), for
/// `colearn bench --profile`: it runs the layers of a model directly with its own activation
/// buffers, so the measured network code is the same as in training.
///
/// Each entry carries what its time buys: the GFLOP/s of a layer with multiply–adds (forward:
/// 2·B·MACs; backward: ∂W's GEMM, plus ∂x's unless it is the first layer) and the memory
/// traffic of an element-wise layer (forward reads x and writes y; backward reads ∂y and x or
/// y and writes ∂x). A convolution that runs the direct kernels (``Conv2D/usesDirectKernels``)
/// is also timed, in the same steps, as the im2col GEMMs it replaced, on a copy of its
/// parameters: the "(im2col GEMMs)" row.
struct LayerProfile {
  struct Entry {
    var layer: String
    var forwardMicroseconds: Double
    var backwardMicroseconds: Double
    /// Floating-point operations of the forward and backward pass (0 for element-wise layers).
    var forwardFlops: Double
    var backwardFlops: Double
    /// Bytes read and written by an element-wise layer's forward and backward pass (0 for
    /// layers with multiply–adds).
    var forwardBytes: Double
    var backwardBytes: Double
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
    // The im2col twins of direct-kernel convolutions, with their own output, ∂x and parameters.
    let twins: [Int: (layer: Conv2D, output: FloatBuffer, gradient: FloatBuffer, parameters: FloatBuffer)] =
      Dictionary(
        uniqueKeysWithValues: layers.indices.compactMap { index in
          guard let conv = layers[index] as? Conv2D, conv.usesDirectKernels else { return nil }
          let twin = Conv2D(
            input: conv.inputShape, outputChannels: conv.outputChannels,
            kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
            allowsDirectKernels: false)
          twin.reserve(batchSize: batchSize)
          return (
            index,
            (
              twin, FloatBuffer(count: batchSize * twin.outputShape.count),
              FloatBuffer(count: batchSize * twin.inputShape.count),
              FloatBuffer(count: twin.parameterCount)
            )
          )
        })
    var forward = Array(repeating: [Double](), count: layers.count)
    var backward = Array(repeating: [Double](), count: layers.count)
    var twinForward = [Int: [Double]]()
    var twinBackward = [Int: [Double]]()
    parameters.withUnsafeMutableBufferPointer { w in
      for (index, twin) in twins {
        twin.parameters.pointer.update(
          from: w.baseAddress! + layout.layerRanges[index].lowerBound, count: twin.parameters.count)
      }
      for step in 0..<(steps + 5) {
        var current = UnsafePointer(input.pointer)
        for (index, layer) in layers.enumerated() {
          let start = monotonicSeconds()
          layer.forward(
            current, into: activations[index].pointer, batchSize: batchSize,
            parameters: w.baseAddress! + layout.layerRanges[index].lowerBound)
          if step >= 5 { forward[index].append(monotonicSeconds() - start) }
          if let twin = twins[index] {
            let start = monotonicSeconds()
            twin.layer.forward(
              current, into: twin.output.pointer, batchSize: batchSize,
              parameters: twin.parameters.pointer)
            if step >= 5 { twinForward[index, default: []].append(monotonicSeconds() - start) }
          }
          current = UnsafePointer(activations[index].pointer)
        }
        // A small upstream gradient keeps the update from destabilising the weights.
        let last = activations[layers.count - 1]
        for i in 0..<last.count { gradients[1].pointer[i] = 1e-3 * Float(i % 7) }
        var upstream = UnsafePointer(gradients[1].pointer)
        for index in layers.indices.reversed() {
          let downstream: UnsafeMutablePointer<Float>? = index == 0 ? nil : gradients[index % 2].pointer
          let layerInput = index == 0 ? UnsafePointer(input.pointer) : UnsafePointer(activations[index - 1].pointer)
          if let twin = twins[index] {
            let start = monotonicSeconds()
            twin.layer.backwardApplyingSGD(
              input: layerInput, output: twin.output.pointer, outputGradient: upstream,
              inputGradient: index == 0 ? nil : twin.gradient.pointer, batchSize: batchSize,
              parameters: twin.parameters.pointer, rate: 1e-4)
            if step >= 5 { twinBackward[index, default: []].append(monotonicSeconds() - start) }
          }
          let start = monotonicSeconds()
          layers[index].backwardApplyingSGD(
            input: layerInput, output: activations[index].pointer, outputGradient: upstream,
            inputGradient: downstream, batchSize: batchSize,
            parameters: w.baseAddress! + layout.layerRanges[index].lowerBound, rate: 1e-4)
          if step >= 5 { backward[index].append(monotonicSeconds() - start) }
          if let downstream { upstream = UnsafePointer(downstream) }
        }
      }
    }
    var entries = [Entry]()
    for index in layers.indices {
      let layer = layers[index]
      let flops = 2 * Double(batchSize * layer.forwardMultiplyAdds)
      let float = Double(MemoryLayout<Float>.stride * batchSize)
      let (x, y) = (float * Double(layer.inputShape.count), float * Double(layer.outputShape.count))
      let elementWise = flops == 0
      func entry(_ name: String, _ forward: [Double], _ backward: [Double]) -> Entry {
        Entry(
          layer: name, forwardMicroseconds: median(forward) * 1e6,
          backwardMicroseconds: median(backward) * 1e6, forwardFlops: flops,
          backwardFlops: index == 0 ? flops : 2 * flops,
          forwardBytes: elementWise ? x + y : 0, backwardBytes: elementWise ? x + 2 * y : 0)
      }
      entries.append(entry(layer.description, forward[index], backward[index]))
      if let times = twinForward[index], let back = twinBackward[index] {
        entries.append(entry("  (im2col GEMMs)", times, back))
      }
    }
    return entries
  }
}
