import CoLearnData
import Testing

@Suite struct DataSourceTests {
  @Test func parsesEveryFormAndPrintsItBack() throws {
    let cases: [(String, DataSource)] = [
      ("mnist", .builtIn(.mnist)), ("svhn", .builtIn(.svhn)),
      ("csv:data/h.csv", .csv(path: "data/h.csv")), ("npz:/x/d.npz", .npz(path: "/x/d.npz")),
      ("npy:X.npy,Y.npy", .npy(features: "X.npy", labels: "Y.npy")),
      ("idx:fashion/", .idx(directory: "fashion/")),
    ]
    for (text, expected) in cases {
      let parsed = try DataSource(parsing: text)
      #expect(parsed == expected)
      #expect(parsed.description == text)
    }
    #expect(try DataSource(parsing: "csv:/a/breast_cancer.csv").shortName == "breast_cancer")
    #expect(try DataSource(parsing: "idx:/a/fashion/").shortName == "fashion")
    #expect(try DataSource(parsing: "npz:d.npz").kind == .npz)
  }

  @Test func unknownFormsListTheAcceptedOnes() throws {
    for text in ["cifar", "parquet:x.parquet", "csv:", "npy:X.npy", "npy:X.npy,"] {
      do {
        _ = try DataSource(parsing: text)
        Issue.record("'\(text)' was accepted")
      } catch {
        #expect(error.description.contains("'\(text)'"))
        #expect(
          error.description.contains("npy:X.npy,Y.npy"), "\(error.description)")
      }
    }
  }
}
