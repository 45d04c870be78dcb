import ArgumentParser

/// The `colearn` command: privacy-preserving collaborative deep learning (Shokri & Shmatikov,
/// CCS'15) — training, simulation and deployment of distributed selective SGD.
public struct CoLearnCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "colearn",
    abstract: "Privacy-preserving collaborative deep learning (distributed selective SGD).",
    version: "0.1.0",
    subcommands: [TrainCommand.self, BenchCommand.self]
  )

  public init() {}
}
