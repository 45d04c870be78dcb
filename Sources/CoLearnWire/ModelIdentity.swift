/// What identifies a model on the wire (SPEC §10): the architecture's name, a hash of its layer
/// specification and |w|. A server and a participant can exchange parameters exactly when the
/// hash and |w| agree — the name is a label (two institutions may call the same file
/// differently; issue 17); a participant whose model differs is refused with
/// ``ModelMismatch``'s message.
///
/// `CoLearnNN.ModelSpec` supplies the values (`rawValue`, `specificationHash`, the network's
/// `parameterCount`); this type only carries and compares them, so the wire targets need not
/// depend on the network code.
public struct ModelIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The architecture's name, e.g. "mnist-cnn".
  public var architecture: String
  /// 16 lowercase hex digits: the 64-bit FNV-1a hash of the canonical layer specification.
  public var specificationHash: String
  /// |w|.
  public var parameterCount: Int

  /// An identity from its three parts.
  public init(architecture: String, specificationHash: String, parameterCount: Int) {
    self.architecture = architecture
    self.specificationHash = specificationHash
    self.parameterCount = parameterCount
  }

  /// For example "mnist-cnn (|w| = 105,506, spec 0123456789abcdef)".
  public var description: String {
    "\(architecture) (|w| = \(parameterCount.groupedByThousands), spec \(specificationHash))"
  }

  /// Why a participant running `participant` cannot join a server running this model, or nil
  /// when the two compute the same function of the same flat vector (same specification hash
  /// and |w|, whatever their names).
  ///
  /// - Complexity: O(1) (string comparisons of short names).
  public func mismatch(participant: ModelIdentity) -> ModelMismatch? {
    specificationHash == participant.specificationHash
      && parameterCount == participant.parameterCount
      ? nil : ModelMismatch(server: self, participant: participant)
  }
}

/// A participant's model differs from the server's (SPEC §10). The message names both models
/// and says what to change.
public struct ModelMismatch: Error, Equatable, Sendable, CustomStringConvertible {
  /// The server's model.
  public var server: ModelIdentity
  /// The participant's model.
  public var participant: ModelIdentity

  /// Where the participant's model file differs from the server's
  /// (``ModelFileDifferences``), when the participant sent its file; empty otherwise.
  public var differences: [String]

  /// Records the two identities and what differs.
  public init(server: ModelIdentity, participant: ModelIdentity, differences: [String] = []) {
    self.server = server
    self.participant = participant
    self.differences = differences
  }

  public var description: String {
    let both = "server runs \(server), you run \(participant)"
    if !differences.isEmpty {
      return "\(both); they differ in\n  " + differences.joined(separator: "\n  ")
        + "\nleave out --model to train the server's model, or change your model file to match"
    }
    if server.architecture != participant.architecture {
      return "\(both): start the participant with --model \(server.architecture)"
    }
    return "\(both): the same architecture laid out differently; "
      + "run the same colearn version as the server"
  }
}

extension Int {
  /// The number with commas between groups of three digits, e.g. "-1,234,567" (for messages).
  public var groupedByThousands: String {
    let digits = String(magnitude)
    var grouped = ""
    for (offset, digit) in digits.enumerated() {
      if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
      grouped.append(digit)
    }
    return self < 0 ? "-" + grouped : grouped
  }
}
