import ArgumentParser
import Foundation

/// `colearn launch`: a provisioned federation on a cluster — batch scripts for Slurm, manifests
/// for Kubernetes (docs/CLUSTER.md).
struct LaunchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "launch",
    abstract: "Run a provisioned federation on a cluster: Slurm jobs or Kubernetes manifests.",
    discussion: """
      Both start from a federation folder written by `colearn provision` (the server's kit, \
      the participants' kits, the CA). See docs/CLUSTER.md.
      """,
    subcommands: [LaunchSlurmCommand.self, LaunchKubernetesCommand.self])
}

/// The federation folder of `colearn provision` as `colearn launch` reads it.
struct ProvisionedFederation {
  var root: String
  var project: ProvisionProject
  /// The participants in the project's order, then any added later (`provision --add`), sorted.
  var participants: [String]

  /// Reads `path` (absolute or relative to the current directory).
  ///
  /// - Throws: ``CLIError`` when it is not a provisioned federation folder.
  init(path: String) throws {
    root = SlurmBatch.absolute(path)
    let layout = ProvisionLayout(root: root)
    guard FileManager.default.fileExists(atPath: layout.project),
      FileManager.default.fileExists(atPath: layout.server + "/serve.yaml")
    else {
      throw CLIError(
        "\(root) is not a federation folder of `colearn provision` (it needs project.yaml and "
          + "server/serve.yaml): run `colearn provision --project FILE --out \(path)` first")
    }
    let project = try ProvisionProject(path: layout.project)
    self.project = project
    let kits = ((try? FileManager.default.contentsOfDirectory(atPath: layout.kits)) ?? [])
      .filter { FileManager.default.fileExists(atPath: layout.kits + "/" + $0 + "/participate.yaml") }
    let listed = project.participants.filter { kits.contains($0) }
    participants = listed + kits.filter { !project.participants.contains($0) }.sorted()
    guard !listed.isEmpty || !kits.isEmpty else {
      throw CLIError("\(layout.kits) holds no participant kit (kits/NAME/participate.yaml)")
    }
  }

  /// The port the server listens on (the project's `listen`).
  var port: Int {
    (try? HostPort(parsing: project.listen, flag: "listen"))?.port ?? project.server.port
  }
}
