import CoLearnNN

/// Where each tensor of a model lies in colearn's flat parameter vector, and how its elements
/// map to the layout of the equivalent `torch.nn.Sequential` (issue 18), so that a saved model
/// loads into PyTorch with `load_state_dict` and no reshuffling.
///
/// Names: `I.weight` and `I.bias`, I the layer's index in the model file (0-based, counting
/// every layer, `flatten` and the final `log-softmax` included), which is the index of the
/// same layer in a `torch.nn.Sequential` built layer for layer (`nn.Flatten` for flatten).
///
/// Layouts (torch's, not colearn's channels-last one):
/// - linear: `weight` [outputs, inputs], `bias` [outputs]. When the layer reads an image
///   (after a flatten, or directly), colearn numbers the inputs channels-last (h, w, c) and
///   torch's `nn.Flatten` channels-first (c, h, w): the columns are permuted accordingly.
/// - conv2d: `weight` [out, in, kernel, kernel] (colearn keeps [out, kernel, kernel, in]),
///   `bias` [out].
///
/// The permutation is exact (a reordering of the same floats), so writing and reading back
/// gives bit-identical parameters.
struct TorchLayout {
  /// One tensor: its torch name and shape, and for each of its elements in torch's row-major
  /// order, the position in colearn's flat vector.
  struct Placement {
    var name: String
    var shape: [Int]
    var positions: [Int]
  }

  let placements: [Placement]

  init(_ spec: ModelSpec) {
    var placements: [Placement] = []
    var offset = 0
    // The shape a layer sees as torch would: an image stays an image through flatten and
    // element-wise layers, until a linear layer reads it.
    var semantic = spec.inputShape
    for (index, layer) in spec.layers.enumerated() {
      switch layer {
      case .linear(let outputs):
        let inputs = semantic.count
        let d = semantic.dimensions
        // Column j of torch's weight is colearn's column `column(j)`.
        let column: (Int) -> Int
        if d.count == 3 {
          let (h, w, c) = (d[0], d[1], d[2])
          column = { j in
            let channel = j / (h * w)
            let position = j % (h * w)
            return position * c + channel
          }
        } else {
          column = { $0 }
        }
        let columns = (0..<inputs).map(column)
        var weight: [Int] = []
        weight.reserveCapacity(outputs * inputs)
        for o in 0..<outputs {
          for j in 0..<inputs { weight.append(offset + o * inputs + columns[j]) }
        }
        placements.append(Placement(name: "\(index).weight", shape: [outputs, inputs], positions: weight))
        let biasStart = offset + outputs * inputs
        placements.append(
          Placement(name: "\(index).bias", shape: [outputs], positions: Array(biasStart..<(biasStart + outputs))))
        offset = biasStart + outputs
      case .conv2d(let channels, let kernel, _, _):
        let inputs = semantic.dimensions[2]
        var weight: [Int] = []
        weight.reserveCapacity(channels * inputs * kernel * kernel)
        for o in 0..<channels {
          for c in 0..<inputs {
            for i in 0..<kernel {
              for j in 0..<kernel {
                weight.append(offset + ((o * kernel + i) * kernel + j) * inputs + c)
              }
            }
          }
        }
        placements.append(
          Placement(name: "\(index).weight", shape: [channels, inputs, kernel, kernel], positions: weight))
        let biasStart = offset + channels * kernel * kernel * inputs
        placements.append(
          Placement(name: "\(index).bias", shape: [channels], positions: Array(biasStart..<(biasStart + channels))))
        offset = biasStart + channels
      default:
        break
      }
      switch layer {
      case .flatten, .relu, .tanh, .sigmoid, .batchNorm, .logSoftmax: break
      default: semantic = spec.shapes[index]
      }
    }
    precondition(offset == spec.parameterCount, "layout covers \(offset) of \(spec.parameterCount)")
    self.placements = placements
  }
}
