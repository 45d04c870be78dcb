import CoLearnData
import Foundation
import Testing

/// The `--data` entry point: every source kind, the test-set rules, shared schemas and the
/// option errors.
@Suite struct LoadedSourceTests {
  let nowhere = DataDirectory(path: "/nonexistent-colearn-data")

  func load(
    _ spelling: String, test: String? = nil, fraction: Double? = nil, label: String? = nil,
    schema: DatasetSchema? = nil, seed: UInt64 = 1, directory: DataDirectory? = nil
  ) throws -> LoadedSource {
    try LoadedSource.load(
      DataSource(parsing: spelling), testSource: test.map { try DataSource(parsing: $0) },
      testFraction: fraction, labelColumn: label, schema: schema, seed: seed,
      dataDirectory: directory ?? nowhere)
  }

  /// 20 rows: x = row, a category from the row, label "odd"/"even".
  func writeCSV(in directory: String, name: String = "t.csv", rows: Int = 20) throws -> String {
    var text = "x,kind,parity\n"
    for row in 0..<rows { text += "\(row),\(["a", "b"][row % 3 == 0 ? 0 : 1]),\(row % 2 == 0 ? "even" : "odd")\n" }
    let path = directory + "/" + name
    try TestFiles.write(Array(text.utf8), to: path)
    return path
  }

  @Test func csvWithATestFractionFitsOnTheTrainingRows() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    let path = try writeCSV(in: directory)
    let loaded = try load("csv:" + path, fraction: 0.2, label: "parity", seed: 3)
    #expect(loaded.train.count == 16 && loaded.test.count == 4)
    #expect(loaded.train.name == "t-train" && loaded.test.name == "t-test")
    #expect(loaded.classNames == ["even", "odd"])
    #expect(loaded.test.classHistogram() == [2, 2])
    #expect(loaded.train.sampleShape == [3])
    // The mean is the training rows' only: recover the rows from the standardised x.
    let x = loaded.schema.features[0]
    let trainRows = (0..<16).map { Double(loaded.train.features[$0 * 3]) * (x.standardDeviation ?? 0) + (x.mean ?? 0) }
    #expect(abs(trainRows.reduce(0, +) / 16 - (x.mean ?? 0)) < 1e-4)
    #expect(x.mean != 9.5)
    // The same seed gives the same split; the schema is part of the result.
    let again = try load("csv:" + path, fraction: 0.2, label: "parity", seed: 3)
    #expect(again.test.features == loaded.test.features)
    #expect(again.schema.fingerprint == loaded.schema.fingerprint)
  }

  @Test func aSharedSchemaIsUsedAsIsAndMismatchesAreNamed() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    let a = try load("csv:" + writeCSV(in: directory, name: "a.csv"), fraction: 0.25, label: "parity")
    // Institution B has other rows: its data is standardised with A's statistics.
    let b = try load(
      "csv:" + writeCSV(in: directory, name: "b.csv", rows: 8), fraction: 0.25,
      schema: a.schema)
    #expect(b.schema == a.schema)
    let x = a.schema.features[0]
    let expected = Float((0 - (x.mean ?? 0)) / (x.standardDeviation ?? 1))
    #expect(b.train.features.contains(expected) || b.test.features.contains(expected))
    let c = directory + "/hospital-c.csv"
    try TestFiles.write(Array("kind,parity\na,odd\nb,even\na,odd\nb,even\n".utf8), to: c)
    do {
      _ = try load("csv:" + c, fraction: 0.5, schema: a.schema)
      Issue.record("a CSV without column x was accepted")
    } catch {
      #expect("\(error)".contains("column 'x' of the schema is missing from \(c)"))
    }
  }

  @Test func csvTestDataMustMatchTheSchema() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    let train = try writeCSV(in: directory)
    let test = try writeCSV(in: directory, name: "u.csv", rows: 6)
    let loaded = try load("csv:" + train, test: "csv:" + test, label: "parity")
    #expect(loaded.train.count == 20 && loaded.test.count == 6)
    #expect(loaded.test.name == "u-test")
  }

  @Test func npzUsesItsOwnTestArrays() throws {
    let loaded = try load("npz:" + TestFiles.fixture("npz_stored.npz"))
    #expect(loaded.train.count == 6 && loaded.test.count == 3)
    #expect(loaded.train.sampleShape == [2, 2, 1])
    #expect(loaded.classNames == ["0", "1", "2"])
    #expect(loaded.test.labels == [2, 1, 0])
    // Standardised with the training mean: pixels n*10 + k over n < 6, k < 4.
    let normalization = try #require(loaded.normalization)
    #expect(abs(normalization.mean[0] - 26.5) < 1e-5)
    #expect(abs(loaded.train.features.reduce(0, +)) < 1e-3)
    #expect(loaded.schema.sourceKind == .npz)
  }

  @Test func npzXYWithAFractionMapsLabelsToClassIndices() throws {
    let loaded = try load("npz:" + TestFiles.fixture("npz_deflated.npz"), fraction: 0.5)
    #expect(loaded.classNames == ["5", "7"])
    #expect(loaded.train.count == 2 && loaded.test.count == 2)
    #expect(loaded.train.sampleShape == [3])
    #expect(Set(loaded.train.labels) == [0, 1])
  }

  @Test func npyPairsAndMissingTestSets() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    let spelling = "npy:" + TestFiles.fixture("npy_u1_v3.npy") + "," + TestFiles.fixture("npy_b1.npy")
    do {
      _ = try load("npy:" + TestFiles.fixture("npy_f4_v1.npy") + "," + TestFiles.fixture("npy_b1.npy"))
      Issue.record("a source without a test set was accepted")
    } catch {
      #expect("\(error)".contains("--test-data SPEC or --test-fraction F"))
    }
    // 2 samples of [2, 2] but 3 labels.
    do {
      _ = try load(spelling, fraction: 0.5)
      Issue.record("3 labels for 2 samples were accepted")
    } catch {
      #expect("\(error)".contains("3 labels for the 2 samples of 'npy_u1_v3'"))
    }
    let described = try LoadedSource.load(
      DataSource(parsing: "npy:" + TestFiles.fixture("npy_f4_v1.npy") + "," + TestFiles.fixture("npy_b1.npy")),
      dataDirectory: nowhere, requiresTestSet: false)
    #expect(described.train.count == 3 && described.test.count == 0)
    #expect(described.train.sampleShape == [2])
  }

  @Test func idxDirectoriesKeepTheirSize() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    try TestFiles.writeTinyMNIST(in: directory, compress: true)
    let loaded = try load("idx:" + directory)
    #expect(loaded.train.count == 12 && loaded.test.count == 5)
    #expect(loaded.train.sampleShape == [28, 28, 1])
    #expect(loaded.classNames == (0..<10).map(String.init))
    #expect(loaded.schema.sourceKind == .idx)
  }

  /// `mnist` through the new entry point is bit for bit `loadDataset`.
  @Test func builtInMNISTIsUnchanged() throws {
    let root = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(root) }
    try FileManager.default.createDirectory(atPath: root + "/mnist", withIntermediateDirectories: true)
    try TestFiles.writeTinyMNIST(in: root + "/mnist", compress: false)
    let directory = DataDirectory(path: root)
    let old = try loadDataset(.mnist, dataDirectory: directory)
    let new = try load("mnist", directory: directory)
    #expect(new.train.features == old.train.features && new.train.labels == old.train.labels)
    #expect(new.test.features == old.test.features)
    #expect(new.normalization == old.normalization)
    #expect(new.schema.inputShape == [32, 32, 1])
    // With its own schema given back, the same again.
    let again = try load("mnist", schema: new.schema, directory: directory)
    #expect(again.train.features == old.train.features)
  }

  @Test func contradictoryOptionsAreRefused() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    let csv = try writeCSV(in: directory)
    let npz = "npz:" + TestFiles.fixture("npz_stored.npz")
    func message(_ body: () throws -> LoadedSource) -> String {
      do { _ = try body() } catch { return "\(error)" }
      return "accepted"
    }
    #expect(message { try load(npz, test: npz, fraction: 0.5) }.contains("not both"))
    #expect(message { try load(npz, label: "y") }.contains("--label-column applies to csv"))
    #expect(message { try load("mnist", fraction: 0.2) }.contains("MNIST has its own test set"))
    #expect(
      message { try load("csv:" + csv, fraction: 0.2) }
        .contains("needs --label-column NAME (its columns are 'x', 'kind', 'parity')"))
    #expect(message { try load("csv:" + csv, fraction: 1.5, label: "parity") }.contains("--test-fraction 1.5"))
  }
}
