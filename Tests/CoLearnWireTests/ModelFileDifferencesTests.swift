import CoLearnWire
import Testing

/// The lines a server's refusal names when a participant's model file differs from its own.
@Suite struct ModelFileDifferencesTests {
  let server = """
    name = "breast-cancer-mlp"
    input = [30]
    classes = 2

    [[layers]]
    type = "linear"
    outputs = 16

    [[layers]]
    type = "relu"

    [[layers]]
    type = "linear"
    outputs = 2

    """

  @Test func identicalFilesAndRenamedOnesHaveNoDifferences() {
    #expect(ModelFileDifferences.between(server, server).isEmpty)
    let renamed = server.replacingOccurrences(of: "breast-cancer-mlp", with: "hospital-model")
    #expect(ModelFileDifferences.between(renamed, server).isEmpty)
  }

  @Test func aChangedSettingNamesTheLayerAndBothValues() {
    let mine = server.replacingOccurrences(of: "outputs = 16", with: "outputs = 32")
    #expect(
      ModelFileDifferences.between(mine, server, hereName: "in yours", thereName: "on the server")
        == [#"layer 1 ("linear"): outputs = 16 on the server, outputs = 32 in yours"#])
  }

  @Test func anotherKindAnInputAndAMissingLayerAreNamed() {
    let mine = server.replacingOccurrences(of: "input = [30]", with: "input = [29]")
      .replacingOccurrences(of: #"type = "relu""#, with: #"type = "tanh""#)
      + "[[layers]]\ntype = \"log-softmax\"\n"
    #expect(
      ModelFileDifferences.between(mine, server)
        == [
          "input: [30] there, [29] here",
          #"layer 2 ("relu"): type = "relu" there, type = "tanh" here"#,
          #"layer 4 ("log-softmax"): nothing there, type = "log-softmax" here"#,
        ])
  }

  @Test func hostileTextIsCutAndManyDifferencesSummarised() {
    var mine = "input = [30]\nclasses = 2\n"
    for _ in 0..<20 { mine += "[[layers]]\ntype = \"relu\u{1B}\(String(repeating: "y", count: 200))\"\n" }
    let lines = ModelFileDifferences.between(mine, server)
    #expect(lines.count == ModelFileDifferences.maximumLines + 1)
    #expect(lines.last == "… and \(20 - ModelFileDifferences.maximumLines) more")
    #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy { $0.value >= 0x20 } })
    #expect(lines.allSatisfy { $0.count < 250 })
    let huge = mine + String(repeating: "#", count: ModelFileDifferences.maximumTextBytes)
    #expect(ModelFileDifferences.between(huge, server).isEmpty)
  }
}
