import CoLearnData
import Foundation
import Testing

@Suite struct CSVTableTests {
  func table(_ text: String, bom: Bool = false) throws(DataError) -> CSVTable {
    try CSVTable(bytes: (bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8), path: "t.csv")
  }

  /// RFC 4180 quoting (commas, doubled quotes, a line break inside quotes), CRLF line ends, a
  /// byte-order mark, trimmed unquoted cells, and line numbers that count the quoted line break
  /// and a skipped blank line.
  @Test func parsesQuotingCRLFAndBOM() throws {
    let text =
      "a,b,label\r\n\"1,5\",  2 ,\"say \"\"hi\"\"\"\r\n3,\"two\r\nlines\",x\r\n\r\n4,5,y\r\n"
    let parsed = try table(text, bom: true)
    #expect(parsed.columns == ["a", "b", "label"])
    #expect(parsed.rows == [["1,5", "2", "say \"hi\""], ["3", "two\r\nlines", "x"], ["4", "5", "y"]])
    #expect(parsed.lineNumbers == [2, 3, 6])
  }

  @Test func lineFeedsAndNoFinalLineBreak() throws {
    let parsed = try table("x,y\n1,2\n3,4")
    #expect(parsed.rows == [["1", "2"], ["3", "4"]])
    #expect(parsed.lineNumbers == [2, 3])
    #expect(parsed.columnIndex("y") == 1)
  }

  @Test func raggedRowNamesTheLine() throws {
    #expect(throws: DataError.raggedRow(path: "t.csv", line: 3, expected: 3, found: 2)) {
      try table("a,b,c\n1,2,3\n4,5\n")
    }
    let error = DataError.raggedRow(path: "t.csv", line: 3, expected: 3, found: 4)
    #expect(error.description.contains("t.csv, line 3"))
    #expect(error.description.contains("quote cells that contain commas"))
  }

  @Test func headerOnlyEmptyFileAndUnterminatedQuote() throws {
    #expect(throws: DataError.self) { try table("a,b\n") }
    do {
      _ = try table("a,b\r\n")
      Issue.record("a header without rows was accepted")
    } catch {
      #expect(error.description.contains("t.csv, line 1"))
      #expect(error.description.contains("no data rows"))
    }
    do {
      _ = try table("")
      Issue.record("an empty file was accepted")
    } catch {
      #expect(error.description.contains("empty"))
    }
    do {
      _ = try table("a,b\n1,2\n3,\"open\n4,5\n")
      Issue.record("an unterminated quote was accepted")
    } catch {
      #expect(error.description.contains("line 3"))
      #expect(error.description.contains("never closed"))
    }
  }

  @Test func duplicateAndEmptyColumnNamesAreRefused() throws {
    do {
      _ = try table("a,b,a\n1,2,3\n")
      Issue.record("a duplicate column was accepted")
    } catch {
      #expect(error.description.contains("'a' twice"))
    }
    do {
      _ = try table("a,,c\n1,2,3\n")
      Issue.record("an unnamed column was accepted")
    } catch {
      #expect(error.description.contains("column 2"))
    }
  }

  @Test func textAfterAClosingQuoteIsRefused() throws {
    do {
      _ = try table("a,b\n\"1\"x,2\n")
      Issue.record("text after a closing quote was accepted")
    } catch {
      #expect(error.description.contains("line 2"))
    }
  }

  @Test func missingFileIsReported() throws {
    #expect(throws: DataError.missingFile(path: "/nonexistent-colearn/x.csv", dataset: nil)) {
      try CSVTable(contentsOfFile: "/nonexistent-colearn/x.csv")
    }
  }
}
