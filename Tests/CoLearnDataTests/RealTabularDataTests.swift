import CoLearnData
import Foundation
import Testing

/// The shared real files (`shared/data/tabular`, `shared/data/digits`, under
/// `COLEARN_DATA_DIR`): exact counts through the `--data` entry point.
@Suite(
  .enabled(
    if: TestFiles.realDataDirectory != nil,
    "COLEARN_DATA_DIR is not set; set it to the directory holding tabular/ and digits/"))
struct RealTabularDataTests {
  var root: String { TestFiles.realDataDirectory ?? "" }
  let digitCounts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]

  @Test func breastCancerCSV() throws {
    let loaded = try LoadedSource.load(
      DataSource(parsing: "csv:\(root)/tabular/breast_cancer.csv"), testFraction: 0.2,
      labelColumn: "diagnosis", seed: 1, dataDirectory: DataDirectory(path: root))
    #expect(loaded.train.count + loaded.test.count == 569)
    #expect(loaded.classNames == ["benign", "malignant"])
    let train = loaded.train.classHistogram()
    let test = loaded.test.classHistogram()
    #expect(zip(train, test).map(+) == [357, 212])
    #expect(test == [71, 42])  // round(0.2 × 357), round(0.2 × 212)
    #expect(loaded.train.sampleShape == [30])
    #expect(loaded.schema.features.count == 30)
    #expect(loaded.schema.features.allSatisfy { $0.kind == .numeric })
    #expect(loaded.schema.features[0].name == "mean_radius")
    // Fitted on the whole file, mean_radius has NumPy's mean 14.127291739894552.
    let whole = try DatasetSchema.fit(
      table: CSVTable(contentsOfFile: "\(root)/tabular/breast_cancer.csv"), labelColumn: "diagnosis")
    #expect(abs((whole.features[0].mean ?? 0) - 14.127291739894552) < 1e-9)
    #expect(abs((whole.features[0].standardDeviation ?? 0) - 3.520950760711062) < 1e-9)
  }

  @Test func digitsNPZ() throws {
    let loaded = try LoadedSource.load(
      DataSource(parsing: "npz:\(root)/digits/digits.npz"), testFraction: 0.25, seed: 2,
      dataDirectory: DataDirectory(path: root))
    #expect(loaded.train.count + loaded.test.count == 1797)
    #expect(loaded.train.sampleShape == [8, 8, 1])
    #expect(loaded.classNames == (0..<10).map(String.init))
    #expect(zip(loaded.train.classHistogram(), loaded.test.classHistogram()).map(+) == digitCounts)
    let arrays = try ArraySamples.load(npz: "\(root)/digits/digits.npz")
    #expect(arrays.train.count == 1797 && arrays.test == nil)
    #expect(Array(arrays.train.features[0..<8]) == [0, 0, 5, 13, 9, 1, 0, 0])
  }

  @Test func digitsCSVMatchesTheNPZ() throws {
    let table = try CSVTable(contentsOfFile: "\(root)/digits/digits.csv")
    #expect(table.count == 1797 && table.columns.count == 65)
    let schema = try DatasetSchema.fit(table: table, labelColumn: "digit")
    #expect(schema.inputShape == [64])
    #expect(schema.classes == (0..<10).map(String.init))
    #expect(try schema.encode(table).classHistogram() == digitCounts)
  }
}
