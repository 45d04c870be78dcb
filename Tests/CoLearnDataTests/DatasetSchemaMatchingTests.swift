import CoLearnData
import Foundation
import Testing

/// Schema files (JSON round trip, fingerprint, atomic writes) and the mismatch messages a
/// participant gets.
@Suite struct DatasetSchemaMatchingTests {
  func table(_ text: String, path: String) throws(DataError) -> CSVTable {
    try CSVTable(bytes: Array(text.utf8), path: path)
  }

  let shared = "mean_radius,texture,site,diagnosis\n14,20,north,benign\n20,25,south,malignant\n"

  func schema() throws -> DatasetSchema {
    try DatasetSchema.fit(table: table(shared, path: "a.csv"), labelColumn: "diagnosis")
  }

  @Test func missingColumnIsNamed() throws {
    let b = try table("texture,site,diagnosis\n20,north,benign\n", path: "hospital-b.csv")
    do {
      _ = try schema().encode(b)
      Issue.record("a missing column was accepted")
    } catch {
      #expect("\(error)".hasPrefix("column 'mean_radius' of the schema is missing from hospital-b.csv"))
    }
  }

  @Test func extraColumnUnknownCategoryAndUnknownLabelAreNamed() throws {
    let schema = try schema()
    func message(_ text: String) throws -> String {
      do {
        _ = try schema.encode(table(text, path: "c.csv"))
      } catch {
        return "\(error)"
      }
      Issue.record("'\(text)' matched the schema")
      return ""
    }
    #expect(
      try message("mean_radius,texture,site,age,diagnosis\n1,2,north,3,benign\n")
        .contains("column 'age' of c.csv is not in the schema"))
    #expect(
      try message("mean_radius,texture,site,diagnosis\n1,2,west,benign\n")
        .contains("c.csv, line 2, column 'site': category 'west' is not in the schema"))
    #expect(
      try message("mean_radius,texture,site,diagnosis\n1,2,north,benign\n1,2,north,unclear\n")
        .contains("c.csv, line 3: label 'unclear' is not one of the schema's classes"))
  }

  /// What a participant whose own `--schema` is not the server's is told (issue 17).
  @Test func differencesBetweenTwoSchemasNameTheColumnsAndStatistics() throws {
    let mine = try schema()
    #expect(mine.differences(from: mine).isEmpty)
    let theirs = try DatasetSchema.fit(
      table: table(
        "mean_radius,texture,age,diagnosis\n10,20,30,benign\n20,25,40,malignant\n", path: "b.csv"),
      labelColumn: "diagnosis")
    let lines = mine.differences(from: theirs, here: "in yours", there: "on the server")
    #expect(lines.contains("input shape: [4] in yours, [3] on the server"), "\(lines)")
    #expect(lines.contains("column mean_radius mean: 17.0 in yours, 15.0 on the server"))
    #expect(lines.contains("column site: present in yours, absent on the server"))
    #expect(lines.contains("column age: absent in yours, present on the server"))
    #expect(!lines.contains { $0.hasPrefix("column texture") }, "texture has the same statistics")
    #expect(mine.differences(from: theirs, limit: 2).last == "… and \(lines.count - 2) more")
  }

  @Test func arrayAndTableSchemasDoNotMix() throws {
    let samples = try ArraySamples(
      path: "d.npz", sampleShape: [2, 2, 1], features: [0, 1, 2, 3, 4, 5, 6, 7], labels: [3, 4])
    let arraySchema = try DatasetSchema.fit(samples: samples, kind: .npz)
    #expect(arraySchema.classes == ["3", "4"])
    #expect(throws: DataError.self) { try schema().apply(to: samples, name: "d") }
    #expect(throws: DataError.self) {
      try arraySchema.encode(table(shared, path: "a.csv"))
    }
    let wider = try ArraySamples(
      path: "e.npz", sampleShape: [4], features: [0, 1, 2, 3], labels: [3])
    do {
      _ = try arraySchema.apply(to: wider, name: "e")
      Issue.record("another shape was accepted")
    } catch {
      #expect("\(error)".contains("the samples of e.npz have shape [4], the schema's input shape is [2, 2, 1]"))
    }
    let unknown = try ArraySamples(
      path: "f.npz", sampleShape: [2, 2, 1], features: [0, 1, 2, 3], labels: [5])
    do {
      _ = try arraySchema.apply(to: unknown, name: "f")
      Issue.record("an unknown label was accepted")
    } catch {
      #expect("\(error)".contains("label 5 of sample 0 in f.npz is not one of the schema's classes ('3', '4')"))
    }
  }

  @Test func jsonRoundTripKeepsTheFingerprint() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    for original in [
      try schema(),
      try DatasetSchema.fit(
        samples: ArraySamples(
          path: "d", sampleShape: [1, 1, 2], features: [0.1, 7, 0.3, 9], labels: [0, 1]),
        kind: .npz),
    ] {
      let path = directory + "/schema.json"
      try original.write(toPath: path)
      let read = try DatasetSchema(contentsOfFile: path)
      #expect(read == original)
      #expect(read.fingerprint == original.fingerprint)
      #expect(original.fingerprint.count == 64)
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains("\"formatVersion\" : 1"))
    }
    var changed = try schema()
    changed.features[0].mean = 15
    #expect(changed.fingerprint != (try schema()).fingerprint)
  }

  @Test func badSchemaFilesAreRefused() throws {
    let json = String(decoding: try schema().canonicalJSON(), as: UTF8.self)
    func error(_ text: String) -> String {
      do {
        _ = try DatasetSchema(json: Array(text.utf8), path: "s.json")
      } catch {
        return "\(error)"
      }
      return "accepted"
    }
    #expect(error("{").hasPrefix("s.json is not a usable dataset schema"))
    #expect(error(json.replacingOccurrences(of: "\"formatVersion\":1", with: "\"formatVersion\":9")).contains("format version 9"))
    #expect(error(json.replacingOccurrences(of: "\"classes\"", with: "\"klasses\"")).contains("'classes'"))
    #expect(error(json.replacingOccurrences(of: "\"inputShape\":[4]", with: "\"inputShape\":[5]")).contains("4 values wide"))
  }

  /// A failed write leaves nothing behind.
  @Test func writingIntoAMissingDirectoryFailsCleanly() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    #expect(throws: DataError.self) { try schema().write(toPath: directory + "/no/schema.json") }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
  }
}
