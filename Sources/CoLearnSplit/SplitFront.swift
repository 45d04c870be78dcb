import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import Crypto
import Foundation

/// A networked participant's copy of the front and its workspaces (`colearn split
/// participate`): the participant's half of a step of ``SplitSimulation``, with the coordinator
/// and the other participants on the far side of a network.
///
/// A step: ``forward(samples:indices:)`` → noise the features (``BoundedLaplaceRelease``) and
/// send them → ``backward(featureGradient:batchSize:)`` with the coordinator's answer → seal
/// the front gradient and publish it → ``apply(rate:gradient:sequence:)``. Every participant
/// applies every published update in sequence order with the same operations as
/// ``SplitSimulation``'s common update (w −= rate·g), so all fronts stay bit-identical.
///
/// Threading: one thread at a time.
public final class SplitFront {
  /// The front network (workspaces for up to `capacity` samples).
  public let network: Network
  /// The front's flat parameter vector.
  public private(set) var parameters: [Float]
  /// The relay sequence number of the last update applied (0: none).
  public private(set) var appliedSequence: UInt64 = 0

  private let capacity: Int
  private let inputSize: Int
  private let input: FloatBuffer
  private let message: FloatBuffer
  private let gradient: FloatBuffer
  private var batchSize = 0

  /// A front of `architecture` starting from `parameters`, for batches of up to `capacity`.
  public init(architecture: SplitArchitecture, parameters: [Float], capacity: Int) {
    let network = architecture.makeFront()
    precondition(parameters.count == network.parameterCount, "front parameter count mismatch")
    precondition(capacity >= 2, "batches need at least two samples")
    self.network = network
    self.parameters = parameters
    self.capacity = capacity
    network.reserve(batchSize: capacity)
    inputSize = network.inputShape.count
    input = FloatBuffer(count: capacity * inputSize)
    message = FloatBuffer(count: capacity * network.outputShape.count)
    gradient = FloatBuffer(count: network.parameterCount)
  }

  /// The initial front every holder of `key` derives: ``SplitArchitecture``'s initialisation
  /// from a generator seeded with ``FederationKey/frontSeed``.
  public static func initialParameters(
    architecture: SplitArchitecture, key: FederationKey
  ) -> [Float] {
    let network = architecture.makeFront()
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    var generator = SeededGenerator(seed: key.frontSeed)
    network.initialize(&parameters, using: &generator)
    return parameters
  }

  /// Values per sample that cross the boundary.
  public var featureSize: Int { network.outputShape.count }

  /// Runs the front on the samples at `indices` and returns a copy of the batch-normalised
  /// features (indices.count × ``featureSize``, each in [−√(B−1), √(B−1)]) for the caller to
  /// noise and send; valid until the next call.
  public func forward(
    samples: LabeledSamples, indices: ArraySlice<Int>
  ) -> UnsafeMutableBufferPointer<Float> {
    let size = indices.count
    precondition(size >= 2 && size <= capacity, "batch of \(size) outside [2, \(capacity)]")
    precondition(samples.sampleSize == inputSize, "sample size mismatch")
    samples.features.withUnsafeBufferPointer { features in
      for (slot, index) in indices.enumerated() {
        (input.pointer + slot * inputSize).update(
          from: features.baseAddress! + index * inputSize, count: inputSize)
      }
    }
    let output = parameters.withUnsafeBufferPointer { w in
      network.forward(UnsafePointer(input.pointer), batchSize: size, parameters: w.baseAddress!)
    }
    message.pointer.update(from: output, count: size * featureSize)
    batchSize = size
    return UnsafeMutableBufferPointer(start: message.pointer, count: size * featureSize)
  }

  /// ∂L/∂w_front of the batch last run by ``forward(samples:indices:)``, given ∂L/∂features
  /// (batchSize × ``featureSize`` values); valid until the next call. Does not change the front.
  public func backward(featureGradient: UnsafePointer<Float>) -> UnsafeBufferPointer<Float> {
    precondition(batchSize > 0, "backward before forward")
    parameters.withUnsafeBufferPointer { w in
      network.backward(
        input: UnsafePointer(input.pointer), outputGradient: featureGradient,
        batchSize: batchSize, parameters: w.baseAddress!, gradients: gradient.pointer)
    }
    return UnsafeBufferPointer(start: gradient.pointer, count: network.parameterCount)
  }

  /// Applies the update relayed under `sequence`, which must be the next one: w −= rate·g,
  /// element by element as in ``SplitSimulation``.
  public func apply(rate: Float, gradient g: UnsafeBufferPointer<Float>, sequence: UInt64) {
    precondition(sequence == appliedSequence + 1, "update \(sequence) after \(appliedSequence)")
    precondition(g.count == parameters.count, "front update of the wrong length")
    parameters.withUnsafeMutableBufferPointer { w in
      for j in w.indices { w[j] -= rate * g[j] }
    }
    appliedSequence = sequence
  }

  /// SHA-256 of the parameters' bytes, 64 hex digits: equal on two participants exactly when
  /// their fronts are bit-identical (with overwhelming probability).
  public var parameterHash: String {
    let digest = parameters.withUnsafeBytes { SHA256.hash(data: $0) }
    return digest.map { byte in
      let text = String(byte, radix: 16)
      return byte < 16 ? "0" + text : text
    }.joined()
  }
}
