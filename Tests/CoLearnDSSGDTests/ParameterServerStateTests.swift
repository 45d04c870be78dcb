import CoLearnDSSGD
import CoLearnTensor
import Testing

@Suite struct ParameterServerStateTests {
  func server(_ w: [Float] = [1, 2, 3, 4]) -> ParameterServerState {
    ParameterServerState(parameters: w, statDecay: 0.8)
  }

  @Test func uploadsAddToTheGlobalParametersAndCountInStat() throws {
    var state = server()
    try state.apply(SparseVector(indices: [0, 2], values: [0.5, -1]))
    #expect(state.parameters == [1.5, 2, 2, 4])
    #expect(state.stat == [1, 0, 1, 0])
    try state.apply(SparseVector(indices: [2, 3], values: [0.25, 1]))
    #expect(state.parameters == [1.5, 2, 2.25, 5], "a second upload adds, never overwrites")
    #expect(state.stat == [1, 0, 2, 1])
    #expect(state.uploadCount == 2)
    #expect(state.updatedParameterCount == 4)
  }

  @Test func decayMultipliesStatByBeta() throws {
    var state = server()
    try state.apply(SparseVector(indices: [1, 3], values: [1, 1]))
    try state.apply(SparseVector(indices: [1], values: [1]))
    state.decayStatistics()
    #expect(state.stat == [0, 1.6, 0, 0.8])
    #expect(state.parameters == [1, 4, 3, 5], "decay touches stat only")
  }

  /// Each malformed upload — with the bad entry in the middle, after good ones — is refused
  /// with its reason, and the state is exactly as before.
  @Test(arguments: [
    (SparseVector(indices: [0, 9, 2], values: [1, 1, 1]), SparseVectorProblem.indexOutOfRange(position: 1, index: 9, dimension: 4)),
    (SparseVector(indices: [0, -1], values: [1, 1]), .indexOutOfRange(position: 1, index: -1, dimension: 4)),
    (SparseVector(indices: [0, 2, 2], values: [1, 1, 1]), .duplicateIndex(position: 2, index: 2)),
    (SparseVector(indices: [0, 3, 1], values: [1, 1, 1]), .unsortedIndex(position: 2, index: 1, previous: 3)),
    (SparseVector(indices: [0, 1, 2], values: [1, .nan, 1]), .nonFiniteValue(position: 1, index: 1)),
    (SparseVector(indices: [0, 1], values: [1, -.infinity]), .nonFiniteValue(position: 1, index: 1)),
  ])
  func malformedUploadsChangeNothing(upload: SparseVector, problem: SparseVectorProblem) throws {
    var state = server()
    try state.apply(SparseVector(indices: [1], values: [0.5]))
    let before = (state.parameters, state.stat, state.uploadCount)
    #expect(throws: problem) { try state.apply(upload) }
    #expect(state.parameters == before.0)
    #expect(state.stat == before.1)
    #expect(state.uploadCount == before.2)
  }

  @Test func downloadOfEverythingReturnsAllParameters() {
    var selector = MagnitudeSelector()
    let download = server().download(fraction: 1, using: &selector)
    #expect(download.indices == [0, 1, 2, 3])
    #expect(download.values == [1, 2, 3, 4])
  }

  @Test func downloadPicksTheMostUpdatedTiesToTheLowerIndex() throws {
    var state = server([10, 20, 30, 40, 50])
    try state.apply(SparseVector(indices: [1, 3, 4], values: [0, 0, 0]))
    try state.apply(SparseVector(indices: [3], values: [0]))
    var selector = MagnitudeSelector()
    // stat = [0, 1, 0, 2, 1]; ⌈0.4·5⌉ = 2 → index 3 (stat 2), then index 1 (tie with 4, lower).
    let download = state.download(fraction: 0.4, using: &selector)
    #expect(download.indices == [1, 3])
    #expect(download.values == [20, 40])
    // No updates yet at all: ties everywhere → the lowest indices.
    #expect(server().download(fraction: 0.5, using: &selector).indices == [0, 1])
  }
}
