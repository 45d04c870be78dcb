import ArgumentParser

/// The `colearn` command: privacy-preserving collaborative deep learning (Shokri & Shmatikov,
/// CCS'15) — training, simulation and deployment of distributed selective SGD.
public struct CoLearnCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "colearn",
    abstract: "Privacy-preserving collaborative deep learning (distributed selective SGD).",
    version: "0.1.0",
    subcommands: [TrainCommand.self, SimulateCommand.self, BenchCommand.self, DataCommand.self]
  )

  public init() {}
}

/// The program's entry point, called by the `colearn` executable: parses the command line and
/// runs the chosen subcommand (asynchronous ones, such as `data fetch`, included).
public func runCoLearn() async {
  await CoLearnCommand.main()
}
