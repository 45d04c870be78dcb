import Testing

@testable import CoLearnCLI

/// The server's log lines cannot be forged or garbled by client-chosen strings (issue 19 item 8).
@Suite struct LogfmtLogHandlerTests {
  @Test func plainValuesStayAsTheyAre() {
    #expect(LogfmtLogHandler.quoted("alice") == "alice")
    #expect(LogfmtLogHandler.quoted("ipv4:127.0.0.1:5000") == "ipv4:127.0.0.1:5000")
  }

  @Test func everyControlCharacterIsEscaped() {
    #expect(
      LogfmtLogHandler.quoted("x\u{1B}[31m\r\u{0}y") == #""x\u{1b}[31m\r\u{0}y""#)
    #expect(LogfmtLogHandler.quoted("a b\n\"c\"\\") == #""a b\n\"c\"\\""#)
    #expect(
      LogfmtLogHandler.quoted("\u{7F}\u{85}\u{202E}\u{2028}") == #""\u{7f}\u{85}\u{202e}\u{2028}""#)
    #expect(LogfmtLogHandler.quoted("") == #""""#)
  }
}
