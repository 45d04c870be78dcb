import ArgumentParser
import Foundation

/// The `colearn` command: collaborative deep learning after Shokri & Shmatikov (CCS'15) —
/// training, simulation and deployment of distributed selective SGD, private only with a
/// differential-privacy mechanism.
public struct CoLearnCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "colearn",
    abstract: """
      Collaborative deep learning: distributed selective SGD, FedAvg, split learning, DP-SGD. \
      Without differential privacy nothing shared carries a formal guarantee.
      """,
    version: "0.1.0",
    subcommands: [
      TrainCommand.self, SimulateCommand.self, SplitCommand.self, ServeCommand.self,
      ParticipateCommand.self, ProvisionCommand.self, LaunchCommand.self, StatusCommand.self, TokenCommand.self, BenchCommand.self, LoadgenCommand.self,
      DataCommand.self, ModelCommand.self, PredictCommand.self, EvaluateCommand.self,
      ExportCommand.self,
      ReproduceCommand.self, PlotCommand.self, CompareCommand.self, AuditCommand.self,
    ]
  )

  public init() {}
}

/// The program's entry point, called by the `colearn` executable: parses the command line and
/// runs the chosen subcommand (asynchronous ones, such as `data fetch`, included).
///
/// `--config FILE` (any subcommand) is expanded first: the file's settings become flags placed
/// before the command line's own, which therefore win.
public func runCoLearn() async {
  let arguments = Array(CommandLine.arguments.dropFirst())
  do {
    let (expanded, origins) = try ConfigFile.expand(arguments)
    if expanded.contains("--config") || expanded.contains(where: { $0.hasPrefix("--config=") }) {
      throw CLIError("--config may name one or more files, but not inside a config file")
    }
    if !origins.isEmpty {
      do {
        _ = try CoLearnCommand.parseAsRoot(expanded)
      } catch {
        let command = expanded.prefix { !$0.hasPrefix("-") }
        if let message = ConfigFile.unknownKeyMessage(
          CoLearnCommand.message(for: error), origins: origins, command: Array(command))
        {
          throw CLIError(message)
        }
      }
    }
    await runParsed(expanded)
  } catch {
    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
    exit(64)
  }
}


/// Parses and runs the subcommand, as `AsyncParsableCommand.main` would, but prints a failure
/// (or help) in one write: ArgumentParser writes its messages to unbuffered standard error a
/// byte at a time, so a reader of the pipe (a supervisor, a log collector, a test) could see a
/// line cut anywhere, even inside a character.
private func runParsed(_ arguments: [String]) async {
  do {
    var command = try CoLearnCommand.parseAsRoot(arguments)
    if var asynchronous = command as? AsyncParsableCommand {
      try await asynchronous.run()
    } else {
      try command.run()
    }
  } catch {
    let code = CoLearnCommand.exitCode(for: error)
    let message = CoLearnCommand.fullMessage(for: error)
    if !message.isEmpty {
      let handle = code == .success ? FileHandle.standardOutput : FileHandle.standardError
      handle.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }
    exit(code.rawValue)
  }
}
