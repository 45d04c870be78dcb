import Foundation

/// The Kubernetes objects of `colearn launch k8s` for a provisioned federation: the server as a
/// Deployment (one replica, `Recreate`) with a Service, its state on a PersistentVolumeClaim,
/// its TLS key pair and token file as Secrets, its settings (and model or schema files) in a
/// ConfigMap; the participants of a test federation as an Indexed Job whose pod
/// `JOB_COMPLETION_INDEX` picks the participant, its token and its shard.
///
/// Built from plain values (file contents as strings), so the same inputs give the same
/// manifests byte for byte.
struct KubernetesManifests {
  var federation: String
  var namespace: String?
  var image: String
  var port: Int
  /// The server kit's `serve.yaml` as provisioned.
  var serveConfig: String
  /// Other files of the server's kit its settings name (`model.toml`, `schema.json`).
  var serverFiles: [(name: String, contents: String)]
  var serverCertificate: String
  var serverKey: String
  var caCertificate: String
  var tokenFile: String
  /// The participants in index order, with their tokens.
  var participants: [(name: String, token: String)]
  /// The `participate.` settings of the project.
  var participateSettings: [(key: String, value: String)]
  /// The preset dataset the participants' init container fetches (`colearn data fetch`).
  var dataset: String
  var storage: String
  var serverCPU: String
  var serverMemory: String
  var participantCPU: String
  var participantMemory: String

  /// `federation` as a DNS-1123 label prefix: lower case, other characters as `-`.
  var baseName: String {
    let lowered = federation.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber ? $0 : "-" }
    let trimmed = String(lowered).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    return String((trimmed.isEmpty ? "colearn" : trimmed).prefix(40))
  }

  var serviceName: String { baseName + "-server" }

  func labels(_ component: String) -> ManifestNode {
    .map([
      ("app.kubernetes.io/name", .string("colearn")),
      ("app.kubernetes.io/instance", .string(baseName)),
      ("app.kubernetes.io/component", .string(component)),
    ])
  }

  func metadata(_ name: String, _ component: String) -> ManifestNode {
    var entries: [(String, ManifestNode)] = [("name", .string(name))]
    if let namespace { entries.append(("namespace", .string(namespace))) }
    entries.append(("labels", labels(component)))
    return .map(entries)
  }

  /// `serve.yaml` for the pod: the provisioned file with the paths of the mounts.
  var podServeConfig: String {
    let replacements = [
      "listen": "0.0.0.0:\(port)", "tls-cert": "/etc/colearn/tls/server.pem",
      "tls-key": "/etc/colearn/tls/server.key", "tokens": "/etc/colearn/tokens/tokens",
      "state-dir": "/var/lib/colearn/state",
    ]
    return serveConfig.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#"),
        let value = replacements[String(line[..<colon])]
      else { return String(line) }
      return "\(line[..<colon]): \(value)"
    }.joined(separator: "\n")
  }

  /// `participate.yaml` shared by every participant pod (name, token and shard come as flags).
  var podParticipateConfig: String {
    """
    # colearn participate --config for the participants of federation \(federation) on
    # Kubernetes, written by `colearn launch k8s`: the pod adds --name, --token-file, --server
    # and --shard from its JOB_COMPLETION_INDEX.
    tls-ca: /etc/colearn/participants/ca.pem
    out: /var/lib/colearn/run

    """ + participateSettings.map { "\($0.key): \($0.value)\n" }.joined()
  }

  /// The manifests as (file name, object), in the order to apply them.
  func objects() -> [(String, ManifestNode)] {
    let configName = baseName + "-settings"
    let tlsName = baseName + "-server-tls"
    let tokensName = baseName + "-server-tokens"
    let participantTokens = baseName + "-participant-tokens"
    let claim = baseName + "-server-state"
    let configData: [(String, ManifestNode)] =
      [("serve.yaml", .text(podServeConfig)), ("participate.yaml", .text(podParticipateConfig))]
      + serverFiles.map { ($0.name, ManifestNode.text($0.contents)) }
    let configMap = ManifestNode.map([
      ("apiVersion", .string("v1")), ("kind", .string("ConfigMap")),
      ("metadata", metadata(configName, "settings")), ("data", .map(configData)),
    ])
    func secret(_ name: String, _ component: String, _ files: [(String, String)]) -> ManifestNode {
      .map([
        ("apiVersion", .string("v1")), ("kind", .string("Secret")),
        ("metadata", metadata(name, component)), ("type", .string("Opaque")),
        ("data", .map(files.map { ($0.0, .string(Data($0.1.utf8).base64EncodedString())) })),
      ])
    }
    let tls = secret(
      tlsName, "server",
      [("server.pem", serverCertificate), ("server.key", serverKey), ("ca.pem", caCertificate)])
    let tokens = secret(tokensName, "server", [("tokens", tokenFile)])
    let participantSecret = secret(
      participantTokens, "participant",
      [("ca.pem", caCertificate)] + participants.map { ($0.name, $0.token) })
    let volumeClaim = ManifestNode.map([
      ("apiVersion", .string("v1")), ("kind", .string("PersistentVolumeClaim")),
      ("metadata", metadata(claim, "server")),
      (
        "spec",
        .map([
          ("accessModes", .list([.string("ReadWriteOnce")])),
          ("resources", .map([("requests", .map([("storage", .string(storage))]))])),
        ])
      ),
    ])
    let resources = { (cpu: String, memory: String) -> ManifestNode in
      .map([
        ("requests", .map([("cpu", .string(cpu)), ("memory", .string(memory))])),
        ("limits", .map([("memory", .string(memory))])),
      ])
    }
    // Secret files are mode 0440 and group-owned by fsGroup, so the non-root user reads them.
    let security = ManifestNode.map([
      ("runAsNonRoot", .boolean(true)), ("runAsUser", .integer(65532)),
      ("runAsGroup", .integer(65532)), ("fsGroup", .integer(65532)),
    ])
    let serverPod = ManifestNode.map([
      ("metadata", .map([("labels", labels("server"))])),
      (
        "spec",
        .map([
          ("securityContext", security),
          (
            "containers",
            .list([
              .map([
                ("name", .string("server")), ("image", .string(image)),
                ("args", .list(["serve", "--config", "/etc/colearn/config/serve.yaml"].map(ManifestNode.string))),
                ("ports", .list([.map([("name", .string("grpc")), ("containerPort", .integer(port))])])),
                (
                  "readinessProbe",
                  .map([("tcpSocket", .map([("port", .integer(port))])), ("periodSeconds", .integer(5))])
                ),
                ("resources", resources(serverCPU, serverMemory)),
                (
                  "volumeMounts",
                  .list([
                    mount("config", "/etc/colearn/config"), mount("tls", "/etc/colearn/tls"),
                    mount("tokens", "/etc/colearn/tokens"), mount("state", "/var/lib/colearn", readOnly: false),
                  ])
                ),
              ])
            ])
          ),
          (
            "volumes",
            .list([
              volume("config", ("configMap", .map([("name", .string(configName))]))),
              volume("tls", ("secret", .map([("secretName", .string(tlsName)), ("defaultMode", .integer(0o440))]))),
              volume("tokens", ("secret", .map([("secretName", .string(tokensName)), ("defaultMode", .integer(0o440))]))),
              volume("state", ("persistentVolumeClaim", .map([("claimName", .string(claim))]))),
            ])
          ),
        ])
      ),
    ])
    let deployment = ManifestNode.map([
      ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")),
      ("metadata", metadata(serviceName, "server")),
      (
        "spec",
        .map([
          ("replicas", .integer(1)),
          // One server owns the state directory: the old pod stops before the new one starts.
          ("strategy", .map([("type", .string("Recreate"))])),
          ("selector", .map([("matchLabels", labels("server"))])),
          ("template", serverPod),
        ])
      ),
    ])
    let service = ManifestNode.map([
      ("apiVersion", .string("v1")), ("kind", .string("Service")),
      ("metadata", metadata(serviceName, "server")),
      (
        "spec",
        .map([
          ("selector", labels("server")),
          (
            "ports",
            .list([
              .map([
                ("name", .string("grpc")), ("port", .integer(port)), ("targetPort", .integer(port)),
              ])
            ])
          ),
        ])
      ),
    ])
    let count = participants.count
    let names = participants.map(\.name).map(SlurmBatch.quote).joined(separator: " ")
    let script = """
      set -eu
      set -- \(names)
      shift "$JOB_COMPLETION_INDEX"
      exec colearn participate --config /etc/colearn/config/participate.yaml --name "$1" \
      --token-file "/etc/colearn/participants/$1" --server \(serviceName):\(port) \
      --shard "$JOB_COMPLETION_INDEX/\(count)"
      """
    let participantPod = ManifestNode.map([
      ("metadata", .map([("labels", labels("participant"))])),
      (
        "spec",
        .map([
          ("restartPolicy", .string("OnFailure")),
          ("securityContext", security),
          (
            "initContainers",
            .list([
              .map([
                ("name", .string("fetch-data")), ("image", .string(image)),
                ("args", .list(["data", "fetch", dataset, "--data-dir", "/data"].map(ManifestNode.string))),
                ("volumeMounts", .list([mount("data", "/data", readOnly: false)])),
              ])
            ])
          ),
          (
            "containers",
            .list([
              .map([
                ("name", .string("participant")), ("image", .string(image)),
                ("command", .list(["/bin/sh", "-c"].map(ManifestNode.string))),
                ("args", .list([.string(script)])),
                ("env", .list([.map([("name", .string("COLEARN_DATA_DIR")), ("value", .string("/data"))])])),
                ("resources", resources(participantCPU, participantMemory)),
                (
                  "volumeMounts",
                  .list([
                    mount("config", "/etc/colearn/config"), mount("participants", "/etc/colearn/participants"),
                    mount("data", "/data", readOnly: false), mount("run", "/var/lib/colearn", readOnly: false),
                  ])
                ),
              ])
            ])
          ),
          (
            "volumes",
            .list([
              volume("config", ("configMap", .map([("name", .string(configName))]))),
              volume(
                "participants",
                ("secret", .map([("secretName", .string(participantTokens)), ("defaultMode", .integer(0o440))]))),
              volume("data", ("emptyDir", .map([]))),
              volume("run", ("emptyDir", .map([]))),
            ])
          ),
        ])
      ),
    ])
    let job = ManifestNode.map([
      ("apiVersion", .string("batch/v1")), ("kind", .string("Job")),
      ("metadata", metadata(baseName + "-participants", "participant")),
      (
        "spec",
        .map([
          ("completionMode", .string("Indexed")), ("completions", .integer(count)),
          ("parallelism", .integer(count)), ("backoffLimit", .integer(3 * count)),
          ("template", participantPod),
        ])
      ),
    ])
    return [
      ("00-settings.yaml", configMap), ("01-server-tls.yaml", tls),
      ("02-server-tokens.yaml", tokens), ("03-server-state.yaml", volumeClaim),
      ("04-server.yaml", deployment), ("05-server-service.yaml", service),
      ("06-participant-tokens.yaml", participantSecret), ("07-participants.yaml", job),
    ]
  }

  private func mount(_ name: String, _ path: String, readOnly: Bool = true) -> ManifestNode {
    var entries: [(String, ManifestNode)] = [("name", .string(name)), ("mountPath", .string(path))]
    if readOnly { entries.append(("readOnly", .boolean(true))) }
    return .map(entries)
  }

  private func volume(_ name: String, _ source: (String, ManifestNode)) -> ManifestNode {
    .map([("name", .string(name)), source])
  }

  /// `kustomization.yaml` listing the manifests (`kubectl apply -k OUT`).
  func kustomization() -> String {
    "# `kubectl apply -k .` applies these in order; written by `colearn launch k8s`.\n"
      + "resources:\n" + objects().map { "  - \($0.0)\n" }.joined()
  }

  /// The container build file of the `colearn` binary (context: the repository).
  static let containerfile = """
    # The colearn binary in a container, written by `colearn launch k8s`. Build from the
    # repository (the build context), then push where the cluster pulls from:
    #   docker build -f Containerfile -t REGISTRY/colearn:TAG /path/to/colearn
    FROM swift:6.1-bookworm AS build
    RUN apt-get update && apt-get install -y --no-install-recommends libopenblas-dev libdnnl-dev \\
        zlib1g-dev pkg-config && rm -rf /var/lib/apt/lists/*
    WORKDIR /src
    COPY . .
    RUN swift build -c release --product colearn --static-swift-stdlib \\
        && install -m 0755 .build/release/colearn /usr/local/bin/colearn

    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y --no-install-recommends libopenblas0 libdnnl2 zlib1g \\
        ca-certificates && rm -rf /var/lib/apt/lists/*
    COPY --from=build /usr/local/bin/colearn /usr/local/bin/colearn
    USER 65532:65532
    ENTRYPOINT ["colearn"]

    """
}
