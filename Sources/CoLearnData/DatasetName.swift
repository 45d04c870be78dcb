/// The datasets colearn knows how to find, load, fetch and verify (SPEC §3). The raw value is
/// the command-line spelling and the sub-directory of the data directory (`<data>/mnist/`).
public enum DatasetName: String, CaseIterable, Sendable, Codable {
  /// MNIST handwritten digits: 60,000 train / 10,000 test, 28 × 28 grey, IDX files.
  case mnist
  /// SVHN cropped house-number digits: 73,257 train (+ 531,131 extra) / 26,032 test, 32 × 32 RGB,
  /// MATLAB v5 files.
  case svhn

  /// The usual spelling, for messages (`MNIST`, `SVHN`).
  public var displayName: String {
    switch self {
    case .mnist: "MNIST"
    case .svhn: "SVHN"
    }
  }

  /// The per-sample shape after loading, channels-last.
  public var sampleShape: [Int] {
    switch self {
    case .mnist: MNIST.sampleShape
    case .svhn: SVHN.sampleShape
    }
  }
}
