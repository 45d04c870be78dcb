import ArgumentParser
import CoLearnData
import CoLearnModelIO
import CoLearnTensor
import Foundation

/// `colearn export`: a saved model in a format other tools load (issue 18): ONNX for ONNX
/// Runtime and every ONNX consumer, safetensors for PyTorch and NumPy, `.npz` for NumPy alone.
struct ExportCommand: ParsableCommand {
  enum Format: String, ExpressibleByArgument, CaseIterable {
    case onnx, safetensors, npz
  }

  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Export a saved model as ONNX, safetensors or NumPy .npz.",
    discussion: """
      Reads --model-file (model.safetensors of a train, simulate, participate or serve run; \
      validated like any input) and writes --out:
        onnx         an ONNX model (opset 17) that takes raw data — input 'image' [batch, 28, \
      28] pixel values 0-255 for MNIST models, 'image' [batch, H, W, C] for other image models, \
      'features' [batch, F] for tabular models (numeric columns raw, categorical columns one-hot \
      in the schema's category order) — standardises it with the model's schema, and outputs \
      'log_probabilities' and 'probabilities' [batch, classes]. Every layer kind is exported; \
      batch normalisation uses the statistics of the batch fed, as colearn does.
        safetensors  the model file again, re-encoded after validation (tensors named and laid \
      out as the equivalent torch.nn.Sequential's state_dict; the model file and the schema in \
      its metadata).
        npz          the same tensors for numpy.load, without metadata.
      The file is written atomically (a temporary file, fsync, rename).
      """)

  @Option(
    name: .customLong("model-file"),
    help: ArgumentHelp("The saved model to export.", valueName: "file"))
  var modelFile: String

  @Option(help: "The format to write.")
  var format: Format = .onnx

  @Option(help: "The file to write (default: the model file's name with the format's extension).")
  var out: String?

  func run() throws {
    let start = monotonicSeconds()
    let model: SavedModel
    do {
      model = try SavedModel(contentsOfFile: modelFile)
    } catch {
      throw CLIError("\(error)")
    }
    let path = out ?? defaultOutput
    let bytes: [UInt8]
    do {
      switch format {
      case .onnx:
        bytes = try ONNXExport.encoded(
          model, path: path, producerVersion: CoLearnCommand.configuration.version)
      case .safetensors:
        bytes = model.safeTensors.encoded()
      case .npz:
        bytes = try model.npzArchive(path: path)
      }
      try FileIO.writeAtomically(bytes, toPath: path)
    } catch {
      throw CLIError("\(error)")
    }
    var description = ""
    if format == .onnx {
      let (name, shape) = ONNXExport.input(of: model)
      description =
        ": input '\(name)' [batch, \(shape.map(String.init).joined(separator: ", "))], outputs "
        + "'log_probabilities' and 'probabilities' [batch, \(model.spec.classCount)]"
    }
    print(
      "colearn export: \(model.spec.name) → \(path) (\(format.rawValue), \(bytes.count) bytes, "
        + "\(CoLearnCLI.format(monotonicSeconds() - start, 3)) s)\(description)")
  }

  /// `model.safetensors` → `model.onnx` (or `.safetensors` with `-export` added, so the input
  /// is never overwritten).
  private var defaultOutput: String {
    let url = URL(fileURLWithPath: modelFile)
    let base = url.deletingPathExtension()
    let candidate = base.appendingPathExtension(format.rawValue).path
    return candidate == url.path
      ? base.path + "-export." + format.rawValue : candidate
  }
}
