/// Why a participant's turn could not run before anything was uploaded.
public enum TurnError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The runner's privacy mechanism (`DP-SGD`, or a private selection) needs state the
  /// participant was not given: its noise source and its ledger or charges.
  case missingPrivacyState(participant: Int, mechanism: String)

  public var description: String {
    switch self {
    case .missingPrivacyState(let participant, let mechanism):
      return "participant \(participant) has no \(mechanism) state (noise source and ledger): "
        + "give it one before its first turn (Participant.federation, or ParticipantPrivacy.make "
        + "and DPSGDState for a deployed participant)"
    }
  }
}
