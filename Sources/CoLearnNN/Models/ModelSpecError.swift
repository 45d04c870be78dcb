/// Why a model spec or model file was refused. Every message names what is wrong and what to do;
/// ``ModelFileError`` adds the file.
public enum ModelSpecError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The name is empty, longer than 64 bytes or holds a character outside letters, digits,
  /// `-`, `_` and `.`.
  case invalidName(String)
  /// Fewer than two classes.
  case invalidClassCount(Int)
  /// An input shape with no dimensions, a non-positive one, or more than three.
  case invalidInputShape([Int])
  /// Layer `index` (from 1) of kind `kind` does not fit the shape it receives, or has a bad
  /// setting.
  case layerDoesNotFit(index: Int, kind: String, reason: String)

  public var description: String {
    switch self {
    case .invalidName(let name):
      return "invalid model name '\(name)': use 1–64 letters, digits, '-', '_' or '.'"
    case .invalidClassCount(let count):
      return "classes = \(count): a classification model needs at least 2 classes "
        + "(a yes/no task has 2)"
    case .invalidInputShape(let dimensions):
      return "input = \(dimensions): give [features] for tabular data or "
        + "[height, width, channels] for images, every entry at least 1"
    case .layerDoesNotFit(let index, let kind, let reason):
      return "layer \(index) \(kind): \(reason)"
    }
  }
}

/// A model file could not be read or describes no valid model. The message starts with the file
/// (and the line, for a syntax error).
public struct ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file as the user named it.
  public var file: String
  /// The 1-based line of a syntax error, if any.
  public var line: Int?
  /// What is wrong and what to do.
  public var reason: String

  public init(file: String, line: Int? = nil, reason: String) {
    self.file = file
    self.line = line
    self.reason = reason
  }

  public var description: String {
    "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)"
  }
}
