import Foundation

/// Who watches a training command (`train`, `simulate`) while it runs.
enum RunObserver {
  /// The console: the command prints its header, one line per evaluation and its summary, and
  /// draws its own progress bar (what `colearn train` and `colearn simulate` do).
  case console
  /// A caller that runs many commands in this process (`colearn reproduce`): the command prints
  /// nothing and reports the fraction of its work done (0…1) through the closure, so that the
  /// caller can draw one progress line for all of them.
  case quiet(progress: (Double) -> Void)
}

/// The output of one command run, routed by its ``RunObserver``: on the console through a
/// ``ProgressDisplay``, otherwise to the observer's progress closure.
///
/// Threading: called from the command's thread only.
final class RunConsole {
  private let observer: RunObserver
  private let total: Int
  private let display: ProgressDisplay?

  /// A console for `total` units of work named `unit` ("rounds", "samples").
  init(observer: RunObserver, total: Int, unit: String) {
    self.observer = observer
    self.total = max(total, 1)
    if case .console = observer {
      display = ProgressDisplay(total: total, unit: unit)
    } else {
      display = nil
    }
  }

  /// Prints `text` on the console (a header or summary line); quiet observers see nothing.
  func say(_ text: String) {
    guard display != nil else { return }
    print(text)
    fflush(nil)
  }

  /// A finished line of progress (an evaluation), clearing the bar first.
  func line(_ text: String) {
    display?.line(text)
  }

  /// Reports that `done` of the units are finished.
  func update(done: Int, label: String) {
    switch observer {
    case .console: display?.update(done: done, label: label)
    case .quiet(let progress): progress(min(1, Double(done) / Double(total)))
    }
  }
}
