import CoLearnData
import Testing

/// `--data-dir`, then `COLEARN_DATA_DIR`, then `./data` (SPEC §11).
@Suite struct DataDirectoryTests {
  @Test func optionWinsOverEnvironment() {
    let directory = DataDirectory.resolve(
      option: "/opt/data", environment: ["COLEARN_DATA_DIR": "/env/data"], currentDirectory: "/w")
    #expect(directory.path == "/opt/data")
    #expect(directory.source == .option)
  }

  @Test func environmentWinsOverDefault() {
    let directory = DataDirectory.resolve(
      option: nil, environment: ["COLEARN_DATA_DIR": "/env/data"], currentDirectory: "/w")
    #expect(directory.path == "/env/data")
    #expect(directory.source == .environment)
  }

  @Test func defaultIsDataInTheCurrentDirectory() {
    let directory = DataDirectory.resolve(option: nil, environment: [:], currentDirectory: "/w")
    #expect(directory.path == "/w/data")
    #expect(directory.source == .defaultLocation)
  }

  @Test func emptyValuesCountAsUnset() {
    let directory = DataDirectory.resolve(
      option: "", environment: ["COLEARN_DATA_DIR": ""], currentDirectory: "/w")
    #expect(directory.source == .defaultLocation)
  }

  @Test func relativePathsResolveAgainstTheCurrentDirectory() {
    let directory = DataDirectory.resolve(
      option: nil, environment: ["COLEARN_DATA_DIR": "../shared/data"],
      currentDirectory: "/work/main")
    #expect(directory.path == "/work/shared/data")
    #expect(directory.directory(for: .mnist) == "/work/shared/data/mnist")
    #expect(directory.directory(for: .svhn) == "/work/shared/data/svhn")
  }

  @Test func missingFileMessageNamesTheRemedies() {
    let error = DataError.missingFile(path: "/d/mnist/train-images-idx3-ubyte.gz", dataset: .mnist)
    #expect(
      error.description == "/d/mnist/train-images-idx3-ubyte.gz not found; pass --data-dir, "
        + "set COLEARN_DATA_DIR, or run `colearn data fetch mnist`")
  }
}
