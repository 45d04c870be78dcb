import Testing

import CoLearnRPC

/// The coordinator's epochs for its run record: an epoch is handed over once every one of the
/// N participants has passed it — stepped in a later epoch or finished — never before, and each
/// once, in order.
@Suite struct SplitEpochLedgerTests {
  @Test func anEpochIsHandedOverOnceEveryParticipantPassedIt() {
    let ledger = SplitEpochLedger(participants: 2)
    #expect(ledger.stepped("a", epoch: 1, samples: 32, loss: 2, correct: 8).isEmpty)
    #expect(ledger.stepped("a", epoch: 2, samples: 32, loss: 1, correct: 16).isEmpty)  // b has not begun
    #expect(ledger.stepped("b", epoch: 1, samples: 16, loss: 0.5, correct: 16).isEmpty)
    // Steps that declare no epoch (an older participant) are not recorded.
    #expect(ledger.stepped("b", epoch: 0, samples: 16, loss: 9, correct: 0).isEmpty)
    let first = ledger.stepped("b", epoch: 2, samples: 16, loss: 0.5, correct: 8)
    #expect(first.count == 1)
    #expect(first.first?.epoch == 1 && first.first?.participants == 2 && first.first?.steps == 2)
    #expect(first.first?.samples == 48)
    let expectedLoss: Double = (2.0 * 32 + 0.5 * 16) / 48
    #expect(first.first?.meanLoss == expectedLoss)
    #expect(first.first?.accuracy == 0.5)
    // Epoch 2 ends when both have finished.
    #expect(ledger.finished("a").isEmpty)
    let second = ledger.finished("b")
    #expect(second.map(\.epoch) == [2] && second.first?.samples == 48)
    #expect(ledger.finished("b").isEmpty)  // once
  }
}
