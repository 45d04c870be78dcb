import ArgumentParser
import CoLearnNN
import CoLearnWire
import Foundation

/// `colearn model`: look at a model (a preset or a model file) and start a model file.
///
/// - `colearn model show FILE|PRESET` prints the layer table with each layer's output shape and
///   parameter count (what torchinfo or Keras `summary()` show), the total |w| and the model's
///   identity on the wire; `--canonical` prints the file as the server publishes it.
/// - `colearn model init [--out FILE] [--input 30] [--classes 2] [--from PRESET]` writes an
///   example model file to edit.
public struct ModelCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Show a model (a preset or a model file) or write a model file to start from.",
    discussion: """
      A model file is TOML (or JSON with the same keys): the per-sample input shape, the number \
      of classes and the layers in order. Layers: linear (outputs), conv2d (channels, kernel, \
      stride = 1, padding = 0), maxpool and l2pool (size, stride = size), subtractive-norm \
      (kernel = 7), batchnorm (per_channel = false), relu, tanh, sigmoid, flatten and the \
      output log-softmax (added when left out). Weights and biases of linear and conv2d layers \
      are drawn from U(±1/√fan_in) (Torch7's default) with the run's --seed; the other layers \
      have no parameters. The presets mnist-mlp, svhn-mlp, mnist-cnn and svhn-cnn are the \
      files in the repository's models/ folder.
      """,
    subcommands: [Show.self, Init.self])

  public init() {}

  /// `colearn model show`.
  public struct Show: ParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "Print a model's layers, output shapes and parameter counts.")

    @Argument(help: ArgumentHelp("A preset name or a model file.", valueName: "preset|file"))
    public var model: String

    @Flag(help: "Print the canonical model file instead (every setting explicit).")
    public var canonical = false

    public init() {}

    public func run() throws {
      let spec: ModelSpec
      do {
        spec = try ModelSpec.resolve(model)
      } catch {
        throw CLIError(error.description)
      }
      if canonical {
        print(ModelFile.canonicalText(of: spec), terminator: "")
        return
      }
      print(Self.summary(of: spec))
    }

    /// The layer table and totals of `spec`.
    static func summary(of spec: ModelSpec) -> String {
      var table = Table(headers: ["layer", "output shape", "parameters"])
      table.add(["    input", "\(spec.inputShape)", ""])
      var input = spec.inputShape
      for (offset, (layer, shape)) in zip(spec.layers, spec.shapes).enumerated() {
        let count = layer == .flatten ? 0 : ModelSpec.parameters(of: layer, input: input)
        let number = String(offset + 1)
        table.add([
          String(repeating: " ", count: max(0, 3 - number.count)) + number + " " + layer.summary,
          "\(shape)", count.groupedByThousands,
        ])
        input = shape
      }
      return [
        "model \(spec.name): \(spec.classCount) classes, input \(spec.inputShape)",
        table.render(),
        "parameters: \(spec.parameterCount.groupedByThousands) (|w|, one flat vector)",
        "forward multiply–adds per sample: "
          + spec.makeNetwork().forwardMultiplyAdds.groupedByThousands,
        "identity on the wire: \(spec.name), spec \(spec.specificationHash)",
      ].joined(separator: "\n")
    }
  }

  /// `colearn model init`.
  public struct Init: ParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "Write an example model file to start from.",
      discussion: """
        Without --from: an MLP for --input features (or an image shape such as 28,28,1, which \
        gets a small CNN) and --classes classes, with a comment on every setting. With --from: \
        a copy of a preset's file.
        """)

    @Option(help: "Where to write the file.")
    public var out: String = "model.toml"

    @Option(
      help: ArgumentHelp(
        "The per-sample input shape: a feature count (30) or HEIGHT,WIDTH,CHANNELS.",
        valueName: "shape"))
    public var input: String = "30"

    @Option(help: "The number of classes (2 for a yes/no task).")
    public var classes: Int = 2

    @Option(help: "Copy this preset's model file instead (mnist-mlp, mnist-cnn, …).")
    public var from: String?

    @Flag(help: "Replace the file if it exists.")
    public var force = false

    public init() {}

    public func validate() throws {
      guard classes >= 2 else {
        throw ValidationError("invalid --classes \(classes): a classifier needs at least 2")
      }
      _ = try shape()
      if let from, ModelSpec.preset(named: from) == nil {
        throw ValidationError(
          "unknown preset '\(from)'; choose from "
            + ModelSpec.presets.map(\.name).joined(separator: ", "))
      }
    }

    func shape() throws -> [Int] {
      let parts = input.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard [1, 3].contains(parts.count), parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw ValidationError(
          "invalid --input '\(input)': give a feature count such as 30, or HEIGHT,WIDTH,CHANNELS "
            + "such as 28,28,1")
      }
      return parts.compactMap { $0 }
    }

    public func run() throws {
      let text = try from.flatMap(ModelSpec.presetText(named:)) ?? Self.example(input: shape(), classes: classes)
      // The example must be a valid model: parse it before writing.
      let spec = try ModelSpec.argumentText(text, file: out)
      if FileManager.default.fileExists(atPath: out) && !force {
        throw CLIError("\(out) exists; pass --force to replace it, or choose another --out")
      }
      do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
      } catch {
        throw CLIError("cannot write \(out): \(error.localizedDescription)")
      }
      print("wrote \(out): \(spec.name), |w| = \(spec.parameterCount.groupedByThousands)")
      print("next: colearn model show \(out)")
    }

    /// A commented model file: an MLP for a feature vector, a small CNN for an image.
    static func example(input: [Int], classes: Int) -> String {
      let shape = input.map(String.init).joined(separator: ", ")
      func commented(_ setting: String, _ comment: String) -> String {
        setting + String(repeating: " ", count: max(2, 24 - setting.count)) + "# " + comment
      }
      var lines = [
        "# A colearn model file (`colearn model show FILE` prints its layers and |w|).",
        "# Every participant of a federation must use the same file: the server checks it.",
        commented("name = \"my-model\"", "letters, digits, '-', '_' and '.'"),
        commented("input = [\(shape)]", "one sample: [features] or [height, width, channels]"),
        commented("classes = \(classes)", "one output log-probability per class"),
        "",
      ]
      func layer(_ type: String, _ settings: [(String, String)] = [], _ comment: String = "") {
        lines.append("[[layers]]")
        lines.append("type = \"\(type)\"" + (comment.isEmpty ? "" : "  # \(comment)"))
        for (key, value) in settings { lines.append("\(key) = \(value)") }
        lines.append("")
      }
      if input.count == 3 {
        layer("conv2d", [("channels", "16"), ("kernel", "3"), ("padding", "1")], "3×3 filters, same size out")
        layer("relu")
        layer("maxpool", [("size", "2")], "halves height and width")
        layer("flatten")
        layer("linear", [("outputs", "64")])
        layer("relu")
      } else {
        layer("linear", [("outputs", "16")], "a hidden layer of 16 units")
        layer("relu")
      }
      layer("linear", [("outputs", "\(classes)")], "one output per class")
      layer("log-softmax", [], "the output; added if left out")
      return lines.joined(separator: "\n")
    }
  }
}

extension ModelSpec {
  /// Parses model-file text, as `--model` would report its errors.
  static func argumentText(_ text: String, file: String) throws -> ModelSpec {
    do {
      return try ModelFile.parse(text, file: file)
    } catch {
      throw CLIError(error.description)
    }
  }
}
