import ArgumentParser
import CoLearnData
import Foundation

/// `colearn launch k8s`: Kubernetes manifests for a provisioned federation — the server as a
/// Deployment and Service with its state on a PersistentVolumeClaim and its TLS and tokens as
/// Secrets, a ConfigMap of settings, the participants of a test federation as an Indexed Job —
/// plus `kustomization.yaml` and a `Containerfile` for the image. Checked offline
/// (``KubernetesManifestCheck``) before anything is written; nothing is applied.
struct LaunchKubernetesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "k8s",
    abstract: "Write Kubernetes manifests (and a Containerfile) for a provisioned federation.",
    discussion: """
      colearn provision --project federation.yaml --out fed   # server-names: FED-server
      colearn launch k8s --federation fed --image registry.example.org/colearn:0.1 --out k8s
      kubectl apply -k k8s

      Participants dial the Service FEDERATION-server (the federation's name in lower case), \
      so the server certificate must name it: list it in the project's `server-names:`. \
      The Secret files hold the server's key, token file and every participant's token: \
      they are written with mode 0600; keep them out of version control. The participants' \
      Job is a test federation: pod I trains on shard I/N of --dataset, fetched by an init \
      container (it needs the internet), and keeps its run records only in the pod.
      """)

  @Option(help: "The federation folder written by `colearn provision`.")
  var federation: String

  @Option(help: "Where the manifests go (created; default: FEDERATION/k8s).")
  var out: String?

  @Option(help: "The container image with the colearn binary (build it from the Containerfile).")
  var image: String

  @Option(help: "The namespace of every object (default: kubectl's current one).")
  var namespace: String?

  @Option(help: "The participants' dataset (a preset their init container fetches).")
  var dataset: String = "mnist"

  @Option(help: "The size of the server's state volume.")
  var storage: String = "1Gi"

  @Option(name: .customLong("server-cpu"), help: "The server's CPU request.")
  var serverCPU: String = "1"

  @Option(name: .customLong("server-memory"), help: "The server's memory request and limit.")
  var serverMemory: String = "2Gi"

  @Option(name: .customLong("participant-cpu"), help: "Each participant's CPU request.")
  var participantCPU: String = "1"

  @Option(name: .customLong("participant-memory"), help: "Each participant's memory request and limit.")
  var participantMemory: String = "1Gi"

  func validate() throws {
    guard ["mnist", "svhn"].contains(dataset) else {
      throw ValidationError("--dataset must be mnist or svhn (a preset `colearn data fetch` downloads)")
    }
    if let namespace, !KubernetesManifestCheck.isDNSLabel(namespace, maximum: 63) || namespace.contains(".") {
      throw ValidationError("--namespace \"\(namespace)\" is not a DNS-1123 label (lower-case letters, digits, '-')")
    }
  }

  func run() throws {
    let federation = try ProvisionedFederation(path: self.federation)
    let layout = ProvisionLayout(root: federation.root)
    func read(_ path: String) throws -> String {
      do {
        return try String(contentsOfFile: path, encoding: .utf8)
      } catch {
        throw CLIError("cannot read \(path): \(error.localizedDescription)")
      }
    }
    let serveConfig = try read(layout.server + "/serve.yaml")
    let reserved: Set<String> = ["serve.yaml", "server.pem", "server.key", "tokens", "ca.pem"]
    let serverFiles = try ((try? FileManager.default.contentsOfDirectory(atPath: layout.server)) ?? [])
      .sorted()
      .filter { name in
        var isDirectory: ObjCBool = false
        return !reserved.contains(name) && !name.hasPrefix(".")
          && FileManager.default.fileExists(atPath: layout.server + "/" + name, isDirectory: &isDirectory)
          && !isDirectory.boolValue
      }
      .map { (name: $0, contents: try read(layout.server + "/" + $0)) }
    let participants = try federation.participants.map { name in
      (name: name, token: try read(layout.kits + "/" + name + "/token").trimmingCharacters(in: .whitespacesAndNewlines))
    }
    let manifests = KubernetesManifests(
      federation: federation.project.federation, namespace: namespace, image: image,
      port: federation.port, serveConfig: serveConfig, serverFiles: serverFiles,
      serverCertificate: try read(layout.server + "/server.pem"),
      serverKey: try read(layout.server + "/server.key"), caCertificate: try read(layout.caCertificate),
      tokenFile: try read(layout.tokens), participants: participants,
      participateSettings: federation.project.participateSettings, dataset: dataset,
      storage: storage, serverCPU: serverCPU, serverMemory: serverMemory,
      participantCPU: participantCPU, participantMemory: participantMemory)
    let objects = manifests.objects()
    let problems = KubernetesManifestCheck.problems(objects.map { $0.1 })
    guard problems.isEmpty else {
      throw CLIError(
        "the manifests fail the offline check, so none were written:\n  " + problems.joined(separator: "\n  "))
    }
    let output = out.map(SlurmBatch.absolute) ?? federation.root + "/k8s"
    for (name, object) in objects {
      let secret = object["kind"]?.stringValue == "Secret"
      do {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try FileIO.writeAtomically(Array(object.yaml().utf8), toPath: output + "/" + name, mode: secret ? 0o600 : 0o644)
      } catch {
        throw CLIError("cannot write \(output)/\(name): \(error)")
      }
    }
    try SlurmBatch.write(manifests.kustomization(), to: output + "/kustomization.yaml", executable: false)
    try SlurmBatch.write(KubernetesManifests.containerfile, to: output + "/Containerfile", executable: false)
    print("wrote \(objects.count) manifests, kustomization.yaml and Containerfile to \(output) (offline check passed)")
    let names = Set(federation.project.serverNames)
    if !names.contains(manifests.serviceName) && !names.contains(where: { $0.hasPrefix(manifests.serviceName + ".") }) {
      print(
        "warning: participants dial \(manifests.serviceName):\(federation.port), but the server certificate names "
          + "\(federation.project.serverNames.joined(separator: ", ")): add `server-names: \(manifests.serviceName)` "
          + "to the project and run `colearn provision --out \(self.federation) --renew-server`")
    }
    print("apply: kubectl apply -k \(output)")
  }
}
