import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// `colearn launch k8s` (issue 23 item 3): the manifests of a sample federation pinned by a
/// golden file, the offline structural check passing them and catching broken ones, and the
/// command on a provisioned federation.
@Suite struct KubernetesManifestTests {
  static func sample(namespace: String? = "colearn") -> KubernetesManifests {
    KubernetesManifests(
      federation: "Demo_Study", namespace: namespace, image: "registry.example.org/colearn:0.1",
      port: 7443,
      serveConfig: """
        # colearn serve --config serve.yaml
        listen: 0.0.0.0:7443
        tls-cert: ./server.pem
        tls-key: ./server.key
        tokens: ./tokens
        state-dir: ./state
        model: ./model.toml
        rounds: 20
        min-participants: 2

        """,
      serverFiles: [(name: "model.toml", contents: "[model]\nname = \"tiny\"\n")],
      serverCertificate: "-----BEGIN CERTIFICATE-----\nSERVER\n-----END CERTIFICATE-----\n",
      serverKey: "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
      caCertificate: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
      tokenFile: "hospital-a salt hash\nhospital-b salt hash\n",
      participants: [(name: "hospital-a", token: "colearn_aaa"), (name: "hospital-b", token: "colearn_bbb")],
      participateSettings: [(key: "lr", value: "0.05"), (key: "threads", value: "1")], dataset: "mnist",
      storage: "1Gi", serverCPU: "1", serverMemory: "2Gi", participantCPU: "1", participantMemory: "1Gi")
  }

  static func document(_ manifests: KubernetesManifests) -> String {
    manifests.objects().map { "# \($0.0)\n" + $0.1.yaml() }.joined(separator: "---\n")
  }

  @Test func theSampleFederationsManifestsMatchTheGoldenFile() throws {
    let manifests = Self.sample()
    try SlurmReproduceTests.expectGolden(Self.document(manifests), "k8s-sample-federation.yaml")
    try SlurmReproduceTests.expectGolden(manifests.kustomization(), "k8s-kustomization.yaml")
    #expect(manifests.serviceName == "demo-study-server")
    #expect(manifests.podServeConfig.contains("tls-cert: /etc/colearn/tls/server.pem\n"))
    #expect(manifests.podServeConfig.contains("model: ./model.toml\n"))
  }

  @Test func theSampleManifestsPassTheOfflineCheck() {
    #expect(KubernetesManifestCheck.problems(Self.sample().objects().map { $0.1 }) == [])
    #expect(KubernetesManifestCheck.problems(Self.sample(namespace: nil).objects().map { $0.1 }) == [])
  }

  /// Replaces the object of `kind` in the sample's objects with `change(object)`.
  func broken(_ kind: String, _ change: (ManifestNode) -> ManifestNode) -> [ManifestNode] {
    Self.sample().objects().map { $0.1 }.map { $0["kind"]?.stringValue == kind ? change($0) : $0 }
  }

  /// `node` with the value at `key` (a top-level or nested path) replaced.
  func replacing(_ node: ManifestNode, _ path: [String], with value: ManifestNode?) -> ManifestNode {
    guard case .map(var entries) = node.value, let key = path.first else { return node }
    if path.count == 1 {
      entries.removeAll { $0.0 == key }
      if let value { entries.append((key, value)) }
    } else if let index = entries.firstIndex(where: { $0.0 == key }) {
      entries[index].1 = replacing(entries[index].1, Array(path.dropFirst()), with: value)
    }
    return .map(entries)
  }

  @Test func theCheckCatchesBrokenManifests() {
    let cases: [(String, [String], ManifestNode?, String)] = [
      ("Service", ["spec", "selector"], .map([("app.kubernetes.io/name", .string("other"))]),
       "Service demo-study-server: spec.selector matches no pod template in the set"),
      ("Deployment", ["spec", "template", "spec", "volumes"], .list([]),
       "mounts volume config, which the pod does not have"),
      ("Deployment", ["spec", "selector"], .map([("matchLabels", .map([("app", .string("x"))]))]),
       "spec.selector.matchLabels does not match the pod template's labels"),
      ("Job", ["spec", "template", "spec", "restartPolicy"], .string("Always"),
       "a Job's restartPolicy must be Never or OnFailure"),
      ("Secret", ["data"], .map([("token", .string("not base64!"))]), "data.token is not base64"),
      ("ConfigMap", ["metadata", "name"], .string("Bad_Name"), "metadata.name is not a DNS-1123 name"),
      ("Deployment", ["apiVersion"], .string("v1"), "apiVersion must be apps/v1"),
    ]
    for (kind, path, value, expected) in cases {
      let problems = KubernetesManifestCheck.problems(broken(kind) { replacing($0, path, with: value) })
      #expect(problems.contains { $0.contains(expected) }, "\(kind) \(path): \(problems)")
    }
    // A ConfigMap renamed away leaves both pods' volumes dangling.
    let renamed = KubernetesManifestCheck.problems(
      broken("ConfigMap") { replacing($0, ["metadata", "name"], with: .string("other")) })
    #expect(renamed.filter { $0.contains("names ConfigMap demo-study-settings, which is not in the set") }.count == 2)
  }

  @Test func scalarsAreQuotedWhereYAMLWouldReadThemAsSomethingElse() {
    #expect(ManifestNode.scalar("mnist") == "mnist")
    #expect(ManifestNode.scalar("true") == "\"true\"")
    #expect(ManifestNode.scalar("0.1") == "\"0.1\"")
    #expect(ManifestNode.scalar("a: b") == "\"a: b\"")
    #expect(ManifestNode.scalar("") == "\"\"")
    #expect(ManifestNode.scalar("-x") == "\"-x\"")
  }

  /// The container's runtime stage installs a Debian package for every C library the binary
  /// links (beyond the C and C++ runtimes, and the Swift runtime the container links
  /// statically), read from the built binary's ELF header: a new C boundary that is not added
  /// to the Containerfile fails here instead of in a cluster.
  @Test func theContainerInstallsEveryLibraryTheBinaryLinks() throws {
    let binary = try #require(colearnExecutable())
    guard let readelf = ["/usr/bin/readelf", "/bin/readelf"].first(where: FileManager.default.isExecutableFile)
    else { return }
    let header = try runProcess(URL(fileURLWithPath: readelf), ["-d", binary.path])
    #expect(header.status == 0, "\(header.combined)")
    let needed = header.standardOutput.split(separator: "\n").compactMap {
      $0.firstMatch(of: /\(NEEDED\).*\[(.+)\]/).map { String($0.1) }
    }
    #expect(needed.contains("libopenblas.so.0"), "\(needed)")
    let runtime = ["libc.so", "libm.so", "libstdc++.so", "libgcc_s.so", "ld-linux", "libswift",
      "libFoundation", "libdispatch.so", "libBlocksRuntime.so"]
    let packages = ["libopenblas.so.0": "libopenblas0", "libdnnl.so.2": "libdnnl2", "libz.so.1": "zlib1g"]
    let runStage = try #require(KubernetesManifests.containerfile.components(separatedBy: "FROM ").last)
    for library in needed where !runtime.contains(where: library.hasPrefix) {
      let package = try #require(packages[library], "\(library): add its package to the Containerfile and here")
      #expect(runStage.contains(" \(package) "), "\(package) (for \(library)) is not installed:\n\(runStage)")
    }
  }

  /// The command on a provisioned federation: eight manifests, Secrets 0600, no warning when
  /// the certificate names the Service; a warning naming the fix when it does not.
  @Test func launchK8sWritesCheckedManifestsForAProvisionedFederation() throws {
    let binary = try #require(colearnExecutable())
    let root = try makeTemporaryDirectory("colearn-launch-k8s")
    defer { try? FileManager.default.removeItem(at: root) }
    for (folder, names) in [("named", "server-names: demo-server\n"), ("unnamed", "")] {
      let project = root.appendingPathComponent("\(folder).yaml")
      try ("federation: demo\nserver: fl.example.org:7443\n" + names
        + "participants: a, b, c\nserve.model: mnist-mlp\nserve.rounds: 5\nparticipate.lr: 0.05\n")
        .write(to: project, atomically: true, encoding: .utf8)
      let fed = root.appendingPathComponent("fed-\(folder)").path
      let provisioned = try runProcess(binary, ["provision", "--project", project.path, "--out", fed])
      #expect(provisioned.status == 0, "\(provisioned.combined)")
      let launched = try runProcess(
        binary, ["launch", "k8s", "--federation", fed, "--image", "colearn:test", "--namespace", "fl"])
      #expect(launched.status == 0, "\(launched.combined)")
      #expect(launched.standardOutput.contains("offline check passed"))
      #expect(launched.standardOutput.contains("warning") == (folder == "unnamed"), "\(launched.combined)")
      let files = try FileManager.default.contentsOfDirectory(atPath: "\(fed)/k8s").sorted()
      #expect(files.count == 10, "\(files)")
      let attributes = try FileManager.default.attributesOfItem(atPath: "\(fed)/k8s/01-server-tls.yaml")
      #expect((attributes[.posixPermissions] as? Int) == 0o600)
      let job = try String(contentsOfFile: "\(fed)/k8s/07-participants.yaml", encoding: .utf8)
      #expect(job.contains("completionMode: Indexed") && job.contains("completions: 3"))
      #expect(job.contains("--shard \\\"$JOB_COMPLETION_INDEX/3\\\""), "\(job)")
    }
    let bad = try runProcess(
      binary, ["launch", "k8s", "--federation", root.appendingPathComponent("fed-named").path, "--image", "x",
               "--namespace", "Not_A_Label"])
    #expect(bad.status != 0)
    #expect(bad.standardError.contains("--namespace \"Not_A_Label\" is not a DNS-1123 label"), "\(bad.combined)")
  }

  /// kubeconform, when installed, validates the golden manifests against the Kubernetes
  /// schemas (offline needs its schema cache; otherwise it reports missing schemas, which this
  /// test then does not count as a failure). Skipped without kubeconform.
  @Test func kubeconformAcceptsTheManifestsWhenInstalled() throws {
    let which = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["sh", "-c", "command -v kubeconform"])
    guard which.status == 0 else {
      print("skipped: kubeconform is not installed (the structural check above ran instead)")
      return
    }
    let directory = try makeTemporaryDirectory("colearn-kubeconform")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("manifests.yaml")
    try Self.document(Self.sample()).write(to: file, atomically: true, encoding: .utf8)
    let result = try runProcess(
      URL(fileURLWithPath: "/usr/bin/env"), ["kubeconform", "-strict", "-summary", file.path])
    #expect(result.status == 0 || result.combined.contains("could not find schema"), "\(result.combined)")
  }
}
