import Foundation

/// An offline structural check of Kubernetes manifests — what `kubectl apply` would reject or
/// what would leave a pod stuck, for the kinds `colearn launch k8s` writes — without a cluster
/// or the API's schemas: required fields, DNS-1123 names, selectors that match their pods,
/// volume mounts that name a volume, volumes and references that name an object in the set
/// (with the keys they use), Service ports that reach a container port, valid base64 in
/// Secrets, Indexed Jobs with a restart policy a Job accepts.
///
/// Not checked: fields the API would reject as unknown, value ranges beyond these, admission
/// policies, whether the image exists. `colearn launch k8s` runs it before writing anything.
enum KubernetesManifestCheck {
  /// The problems of `objects` (empty when they pass), each naming the object and the field.
  static func problems(_ objects: [ManifestNode]) -> [String] {
    var problems: [String] = []
    let kinds: [String: String] = [
      "ConfigMap": "v1", "Secret": "v1", "Service": "v1", "PersistentVolumeClaim": "v1",
      "Deployment": "apps/v1", "Job": "batch/v1",
    ]
    func named(_ kind: String) -> [String: ManifestNode] {
      var result: [String: ManifestNode] = [:]
      for object in objects where object["kind"]?.stringValue == kind {
        if let name = object.at("metadata.name")?.stringValue { result[name] = object }
      }
      return result
    }
    let configMaps = named("ConfigMap")
    let secrets = named("Secret")
    let claims = named("PersistentVolumeClaim")
    var podLabels: [[(String, String)]] = []
    var containerPorts: Set<Int> = []

    for object in objects {
      let kind = object["kind"]?.stringValue ?? "?"
      let name = object.at("metadata.name")?.stringValue ?? "?"
      let label = "\(kind) \(name)"
      guard let apiVersion = kinds[kind] else {
        problems.append("\(label): unknown kind (expected one of \(kinds.keys.sorted().joined(separator: ", ")))")
        continue
      }
      if object["apiVersion"]?.stringValue != apiVersion {
        problems.append("\(label): apiVersion must be \(apiVersion)")
      }
      if !isDNSLabel(name, maximum: kind == "Service" ? 63 : 253) {
        problems.append("\(label): metadata.name is not a DNS-1123 name")
      }
      if let namespace = object.at("metadata.namespace")?.stringValue, !isDNSLabel(namespace, maximum: 63) {
        problems.append("\(label): metadata.namespace is not a DNS-1123 label")
      }
      switch kind {
      case "ConfigMap":
        for (key, _) in object["data"]?.mapValue ?? [] where !isConfigKey(key) {
          problems.append("\(label): data key \"\(key)\" is not a valid file name key")
        }
      case "Secret":
        for (key, value) in object["data"]?.mapValue ?? [] {
          if !isConfigKey(key) { problems.append("\(label): data key \"\(key)\" is not a valid key") }
          if Data(base64Encoded: value.stringValue ?? "") == nil {
            problems.append("\(label): data.\(key) is not base64")
          }
        }
      case "PersistentVolumeClaim":
        if object.at("spec.resources.requests.storage")?.stringValue == nil {
          problems.append("\(label): spec.resources.requests.storage is missing")
        }
        if object.at("spec.accessModes")?.listValue.isEmpty ?? true {
          problems.append("\(label): spec.accessModes is empty")
        }
      case "Deployment", "Job":
        guard let pod = object.at("spec.template") else {
          problems.append("\(label): spec.template is missing")
          continue
        }
        let labels = (pod.at("metadata.labels")?.mapValue ?? []).compactMap { key, value in
          value.stringValue.map { (key, $0) }
        }
        podLabels.append(labels)
        if kind == "Deployment" {
          let selector = (object.at("spec.selector.matchLabels")?.mapValue ?? []).compactMap { key, value in
            value.stringValue.map { (key, $0) }
          }
          if selector.isEmpty || !selector.allSatisfy({ item in labels.contains { $0 == item } }) {
            problems.append("\(label): spec.selector.matchLabels does not match the pod template's labels")
          }
        } else {
          if object.at("spec.completionMode")?.stringValue == "Indexed",
            object.at("spec.completions")?.integerValue == nil
          {
            problems.append("\(label): an Indexed Job needs spec.completions")
          }
          let policy = pod.at("spec.restartPolicy")?.stringValue
          if policy != "Never" && policy != "OnFailure" {
            problems.append("\(label): a Job's restartPolicy must be Never or OnFailure")
          }
        }
        problems += podProblems(
          pod, label: label, configMaps: configMaps, secrets: secrets, claims: claims,
          ports: &containerPorts)
      case "Service":
        let selector = (object.at("spec.selector")?.mapValue ?? []).compactMap { key, value in
          value.stringValue.map { (key, $0) }
        }
        if selector.isEmpty {
          problems.append("\(label): spec.selector is empty")
        }
        for port in object.at("spec.ports")?.listValue ?? [] {
          if port["port"]?.integerValue == nil { problems.append("\(label): a port has no number") }
        }
      default: break
      }
    }
    // Services: a pod they select, a container port they reach.
    for object in objects where object["kind"]?.stringValue == "Service" {
      let label = "Service \(object.at("metadata.name")?.stringValue ?? "?")"
      let selector = (object.at("spec.selector")?.mapValue ?? []).compactMap { key, value in
        value.stringValue.map { (key, $0) }
      }
      if !selector.isEmpty,
        !podLabels.contains(where: { labels in selector.allSatisfy { item in labels.contains { $0 == item } } })
      {
        problems.append("\(label): spec.selector matches no pod template in the set")
      }
      for port in object.at("spec.ports")?.listValue ?? [] {
        let target = port["targetPort"]?.integerValue ?? port["port"]?.integerValue
        if let target, !containerPorts.contains(target) {
          problems.append("\(label): targetPort \(target) is no container's port")
        }
      }
    }
    return problems
  }

  private static func podProblems(
    _ pod: ManifestNode, label: String, configMaps: [String: ManifestNode],
    secrets: [String: ManifestNode], claims: [String: ManifestNode], ports: inout Set<Int>
  ) -> [String] {
    var problems: [String] = []
    let volumes = pod.at("spec.volumes")?.listValue ?? []
    var volumeNames = Set<String>()
    for volume in volumes {
      guard let name = volume["name"]?.stringValue else {
        problems.append("\(label): a volume has no name")
        continue
      }
      if !volumeNames.insert(name).inserted { problems.append("\(label): volume \(name) is listed twice") }
      if let map = volume.at("configMap.name")?.stringValue, configMaps[map] == nil {
        problems.append("\(label): volume \(name) names ConfigMap \(map), which is not in the set")
      }
      if let secret = volume.at("secret.secretName")?.stringValue, secrets[secret] == nil {
        problems.append("\(label): volume \(name) names Secret \(secret), which is not in the set")
      }
      if let claim = volume.at("persistentVolumeClaim.claimName")?.stringValue, claims[claim] == nil {
        problems.append("\(label): volume \(name) names PersistentVolumeClaim \(claim), which is not in the set")
      }
    }
    let containers = (pod.at("spec.initContainers")?.listValue ?? []) + (pod.at("spec.containers")?.listValue ?? [])
    if pod.at("spec.containers")?.listValue.isEmpty ?? true {
      problems.append("\(label): the pod has no containers")
    }
    for container in containers {
      let name = container["name"]?.stringValue ?? "?"
      if !isDNSLabel(name, maximum: 63) { problems.append("\(label): container name \"\(name)\" is not a DNS-1123 label") }
      if (container["image"]?.stringValue ?? "").isEmpty { problems.append("\(label): container \(name) has no image") }
      for mount in container["volumeMounts"]?.listValue ?? [] {
        let volume = mount["name"]?.stringValue ?? "?"
        if !volumeNames.contains(volume) {
          problems.append("\(label): container \(name) mounts volume \(volume), which the pod does not have")
        }
        if !(mount["mountPath"]?.stringValue ?? "").hasPrefix("/") {
          problems.append("\(label): container \(name) mounts \(volume) at a path that is not absolute")
        }
      }
      for port in container["ports"]?.listValue ?? [] {
        if let number = port["containerPort"]?.integerValue { ports.insert(number) }
      }
    }
    return problems
  }

  /// A DNS-1123 subdomain (labels of lower-case letters, digits and `-`, joined by `.`).
  static func isDNSLabel(_ name: String, maximum: Int) -> Bool {
    guard !name.isEmpty, name.count <= maximum else { return false }
    return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
      !part.isEmpty && part.count <= 63 && part.first != "-" && part.last != "-"
        && part.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
  }

  /// A ConfigMap or Secret key: letters, digits, `-`, `_`, `.`.
  static func isConfigKey(_ key: String) -> Bool {
    !key.isEmpty && key.count <= 253
      && key.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-_.".contains($0) }
  }
}
