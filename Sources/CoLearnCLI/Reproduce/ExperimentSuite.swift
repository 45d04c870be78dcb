import Foundation

/// An experiment suite of `colearn reproduce`: the runs that regenerate one of the paper's
/// tables or figures, at a quick and a full scale, and how their results are drawn and compared.
///
/// Suites are files in the repository's `suites/` directory, in the flat YAML of
/// `colearn simulate --config` split into documents by `---` lines (see `suites/README.md`):
/// the first document names the suite and holds settings shared by every run, `figure:`
/// documents describe a figure, `runs:` documents a group of runs. Extensions to the config
/// format: a value `[a, b, c]` sweeps the setting (one run per value; several sweeps in a group
/// multiply), and a key prefixed `quick.` or `full.` applies at that scale only.
struct ExperimentSuite {
  /// The suite's name (`paper-figure9`), its title and free-form description.
  var name: String
  var title: String
  var description: String?
  /// Settings of every run (the group's own settings win).
  var defaults: SuiteSettings
  /// The command of groups that name none (`simulate` unless the first document says).
  var command: String
  var figures: [SuiteFigure]
  var groups: [SuiteGroup]
  /// The file the suite was read from, for messages.
  var path: String

  /// The figure with `id`, if the suite has one.
  func figure(_ id: String) -> SuiteFigure? {
    figures.first { $0.id == id }
  }
}

/// The scale a suite runs at.
enum SuiteScale: String, CaseIterable, Sendable {
  /// About 15 minutes on two cores: fewer rounds and epochs, evaluation on part of the test set.
  case quick
  /// The paper's scale (hours).
  case full
}

/// Settings in file order; each value is a single value or a sweep, possibly per scale.
struct SuiteSettings {
  struct Entry {
    var key: String
    var values: [String]
    var isSweep: Bool
    var scale: SuiteScale?
    var line: Int
  }

  var entries: [Entry] = []

  /// The entry for `key` at `scale`: the scale's own (`quick.rounds`) before the plain one.
  func entry(_ key: String, at scale: SuiteScale) -> Entry? {
    entries.first { $0.key == key && $0.scale == scale }
      ?? entries.first { $0.key == key && $0.scale == nil }
  }

  /// The keys in file order, each once.
  var keys: [String] {
    var seen = Set<String>()
    return entries.map(\.key).filter { seen.insert($0).inserted }
  }
}

/// A figure of a suite: a CSV and an SVG in the output directory, and a table in REPORT.md.
struct SuiteFigure {
  /// What the figure plots.
  enum Kind: String, CaseIterable {
    /// The best test accuracy of each run against the setting `x` (Table 4, Figures 9 and 13);
    /// runs without that setting are drawn as horizontal lines (the baselines).
    case summary
    /// Test accuracy against the round (or epoch): convergence curves (Figure 11).
    case curve
    /// Test accuracy against the bytes uploaded and downloaded so far, all participants together.
    case bytes
  }

  var id: String
  var title: String
  var kind: Kind
  /// The run setting on the x-axis of a `summary` figure (`upload-fraction`).
  var x: String?
  var xLabel: String
  var xScale: AxisScale
  /// What the paper claims here, in words, with the section it comes from.
  var claims: [String]
  /// Series labels of the baselines that REPORT.md compares every run against.
  var baselines: [String]
  /// Where the paper's reference numbers of this figure come from.
  var source: String?
}

/// A `runs:` document: settings (some swept) that expand into one run per combination.
struct SuiteGroup {
  /// The run-name and series-label templates (`rr-n{participants}`), filled per run.
  var nameTemplate: String
  var seriesTemplate: String
  /// The figures the runs appear in.
  var figures: [String]
  /// `train` or `simulate`.
  var command: String?
  /// The paper's number per run: one value, or one per value of the group's single sweep.
  var paper: [Double]
  /// Skip the group, with a note, when its dataset is missing (the SVHN models).
  var optional: Bool
  var settings: SuiteSettings
  /// The line of the `runs:` key, for messages.
  var line: Int
}
