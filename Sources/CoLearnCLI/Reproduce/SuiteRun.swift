import CoLearnNN
import CoLearnTensor
import Foundation

/// One run of a suite at one scale: a `colearn train` or `colearn simulate` command with every
/// setting resolved, and where its result goes.
struct SuiteRun: Equatable {
  /// One resolved `key: value` setting.
  struct Setting: Equatable, Codable {
    var key: String
    var value: String
  }

  /// The run's directory name under `runs/`, unique in the suite.
  var name: String
  /// Its legend label.
  var series: String
  var figures: [String]
  /// `train` or `simulate`.
  var command: String
  /// The settings in file order (the suite's defaults first), one value each.
  var settings: [Setting]
  /// The paper's number for this run, when the paper gives one.
  var paper: Double?
  /// Skip the run when its dataset is missing.
  var optional: Bool

  /// The value of setting `key`, if the run sets it.
  func value(_ key: String) -> String? {
    settings.last { $0.key == key }?.value
  }

  /// This run with `overrides` replacing its settings of the same keys (appended at the end).
  func overriding(_ overrides: [Setting]) -> SuiteRun {
    guard !overrides.isEmpty else { return self }
    var run = self
    let keys = Set(overrides.map(\.key))
    run.settings.removeAll { keys.contains($0.key) }
    run.settings += overrides
    return run
  }

  /// The model the run trains (the commands' default when unset).
  var model: ModelSpec {
    value("model").flatMap { try? ModelSpec.resolve($0) } ?? .mnistMLP
  }

  /// The command-line arguments of the run, without `--out` and `--data-dir` (which the runner
  /// adds): `--key value` per setting, `--key` alone for `true`, nothing for `false`.
  ///
  /// `dp-epsilon-per-upload` (the paper's ε/c, Figure 13's x-axis) becomes `--dp-epsilon` =
  /// ε/c × c with c = ⌈θ_u·|w|⌉ (SPEC §8).
  var arguments: [String] {
    settings.flatMap { setting -> [String] in
      if setting.key == "dp-epsilon-per-upload" {
        let perUpload = Double(setting.value) ?? 0
        let fraction = value("upload-fraction").flatMap(Double.init) ?? 0.1
        let c = fractionCount(fraction, of: model.parameterCount)
        return ["--dp-epsilon", String(format: "%.10g", perUpload * Double(c))]
      }
      switch setting.value.lowercased() {
      case "true": return ["--\(setting.key)"]
      case "false": return []
      default: return ["--\(setting.key)", setting.value]
      }
    }
  }

  /// The command line a reader can paste (`colearn simulate --participants 30 …`).
  var commandLine: String {
    (["colearn", command] + arguments).joined(separator: " ")
  }
}

extension ExperimentSuite {
  /// The suite's runs at `scale`, in file order: each group's settings over the suite's
  /// defaults, the group's sweeps multiplied out (the first sweep varies slowest).
  ///
  /// A default applies to the runs whose command has that setting (so that `rounds` of the
  /// `simulate` runs does not reach a `train` run); a group's own settings always apply.
  ///
  /// - Parameters:
  ///   - scale: Which values of `quick.`/`full.` settings apply.
  ///   - accepts: Whether a command (`train`, `simulate`) has a setting.
  /// - Returns: The runs, each with its command and resolved settings.
  /// - Throws: ``CLIError`` when a default is a setting of no command, a name or series
  ///   template names a setting the run does not have, or two runs get the same name.
  func runs(
    at scale: SuiteScale, accepts: (String, String) -> Bool = SuiteRunner.command(_:accepts:)
  ) throws -> [SuiteRun] {
    for entry in defaults.entries
    where !ExperimentSuite.commands.contains(where: { accepts($0, entry.key) }) {
      throw CLIError(
        "\(path):\(entry.line): `\(entry.key)` is not a setting of `colearn train` or "
          + "`colearn simulate` (the keys are their flag names without the dashes)")
    }
    var runs: [SuiteRun] = []
    var names: [String: Int] = [:]
    for group in groups {
      let command = group.command ?? self.command
      let keys =
        defaults.keys.filter { accepts(command, $0) }
        + group.settings.keys.filter { !defaults.keys.contains($0) }
      let entries = keys.compactMap {
        group.settings.entry($0, at: scale) ?? defaults.entry($0, at: scale)
      }
      var combinations: [[SuiteRun.Setting]] = [[]]
      var paperIndices: [Int] = [0]
      for entry in entries {
        var next: [[SuiteRun.Setting]] = []
        var nextIndices: [Int] = []
        for (combination, index) in zip(combinations, paperIndices) {
          for (offset, value) in entry.values.enumerated() {
            next.append(combination + [SuiteRun.Setting(key: entry.key, value: value)])
            nextIndices.append(entry.isSweep && group.paper.count > 1 ? offset : index)
          }
        }
        combinations = next
        paperIndices = nextIndices
      }
      for (settings, paperIndex) in zip(combinations, paperIndices) {
        let name = try fill(group.nameTemplate, with: settings, line: group.line)
        try ExperimentSuite.requireIdentifier(name, path: path, line: group.line)
        if let previous = names[name] {
          throw CLIError(
            "\(path):\(group.line): two runs are named `\(name)` (the other from line "
              + "\(previous)); put the swept settings in the `runs:` name, e.g. `{participants}`")
        }
        names[name] = group.line
        runs.append(
          SuiteRun(
            name: name, series: try fill(group.seriesTemplate, with: settings, line: group.line),
            figures: group.figures, command: command, settings: settings,
            paper: group.paper.isEmpty ? nil : group.paper[min(paperIndex, group.paper.count - 1)],
            optional: group.optional))
      }
    }
    return runs
  }

  /// `template` with every `{key}` replaced by the setting's value.
  private func fill(_ template: String, with settings: [SuiteRun.Setting], line: Int) throws
    -> String
  {
    var result = ""
    var rest = Substring(template)
    while let open = rest.firstIndex(of: "{") {
      result += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else {
        throw CLIError("\(path):\(line): `\(template)` has a `{` without `}`")
      }
      let key = String(rest[rest.index(after: open)..<close])
      guard let setting = settings.last(where: { $0.key == key }) else {
        throw CLIError("\(path):\(line): `{\(key)}` in `\(template)` is not a setting of the run")
      }
      result += setting.value
      rest = rest[rest.index(after: close)...]
    }
    return result + rest
  }
}
