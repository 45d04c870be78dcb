import Foundation

/// The batch scripts of `colearn launch slurm` for a federation provisioned by `colearn
/// provision`: a job for the server, a job array of participants (task I is the I-th
/// participant, with its kit and its shard or data path from the index), and a job that
/// collects the run's record when the participants are done.
///
/// The server's address reaches the participants through the file system and their job
/// environment: the server job writes `HOST:PORT` to `OUT/server-address.JOBID` once it listens;
/// the array is submitted with `COLEARN_SERVER_JOB=JOBID` in its environment and
/// `--dependency=after:JOBID`; each task waits (bounded) for that file and exports
/// `COLEARN_SERVER` before `colearn participate --server "$COLEARN_SERVER"`.
struct FederationSlurmScripts {
  /// The provisioned federation (`colearn provision --out`), absolute.
  var federation: String
  var name: String
  /// The participants in array order.
  var participants: [String]
  /// Where the scripts, logs and address files go, absolute.
  var output: String
  var colearn: String
  /// The host participants dial (a name in the server certificate), or nil for the server
  /// node's `hostname`.
  var serverHost: String?
  /// Each participant trains on shard INDEX/N of the dataset (`--shard`).
  var shards: Bool
  /// A `--data` value with `{name}` and `{index}` filled per task, if given.
  var dataTemplate: String?
  /// How long a participant waits for the server's address.
  var waitSeconds: Int
  var serverResources: SlurmBatch.Resources
  var participantResources: SlurmBatch.Resources
  /// The directory the participant tasks start in (relative data paths are relative to it).
  var workingDirectory: String

  var serverScript: String { output + "/server.sbatch" }
  var participantsScript: String { output + "/participants.sbatch" }
  var collectScript: String { output + "/collect.sbatch" }
  var submitScript: String { output + "/submit.sh" }
  var logs: String { output + "/logs" }

  /// The server job: `colearn serve --config serve.yaml` in the server's kit; once it listens,
  /// its address goes to `server-address.$SLURM_JOB_ID`.
  func server() -> String {
    let q = SlurmBatch.quote
    var lines = [
      "#!/bin/bash",
      "# The server of federation \(name), written by `colearn launch slurm`: serves from the",
      "# provisioned kit \(federation)/server and publishes its address for the participants.",
      "#SBATCH --job-name=colearn-\(name)-server",
      "#SBATCH --output=\(logs)/server-%j.out",
      "#SBATCH --chdir=\(federation)/server",
    ]
    lines += serverResources.directives
    lines += [
      "set -euo pipefail",
      "cd \(q(federation + "/server"))",
      "address=\(q(output))/server-address.$SLURM_JOB_ID",
      "out=\(q(logs))/server-$SLURM_JOB_ID.stdout",
      "rm -f \"$address\"",
      SlurmBatch.commandLine([colearn, "serve", "--config", "serve.yaml"]) + " >\"$out\" &",
      "server=$!",
      "trap 'kill -TERM $server 2>/dev/null || true' TERM INT",
      "for _ in $(seq 600); do",
      "  grep -q 'listening on' \"$out\" && break",
      "  if ! kill -0 $server 2>/dev/null; then",
      "    cat \"$out\"; echo \"colearn: the server exited before listening\" >&2; wait $server; exit 1",
      "  fi",
      "  sleep 0.1",
      "done",
      "port=$(sed -nE 's/.*listening on .*:([0-9]+).*/\\1/p' \"$out\" | head -1)",
      "if [[ -z $port ]]; then echo \"colearn: the server did not listen within 60 s\" >&2; exit 1; fi",
      "host=" + (serverHost.map(q) ?? "$(hostname)"),
      "echo \"$host:$port\" >\"$address.partial\" && mv \"$address.partial\" \"$address\"",
      "echo \"colearn: federation \(name) serving at $host:$port (job $SLURM_JOB_ID)\"",
      "status=0",
      "wait $server || status=$?",
      "cat \"$out\"",
      "exit $status",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The participants' job array: task I runs `colearn participate` from kit `names[I]`.
  func participantsArray() -> String {
    let q = SlurmBatch.quote
    var data: [String] = []
    if shards { data.append("--shard \"$index/\(participants.count)\"") }
    if let dataTemplate { data.append("--data " + Self.fill(dataTemplate)) }
    var lines = [
      "#!/bin/bash",
      "# The participants of federation \(name), written by `colearn launch slurm`: task I runs",
      "# the I-th participant from its kit in \(federation)/kits. Submit after the server job:",
      "#   sbatch --dependency=after:SERVER_JOB --export=ALL,COLEARN_SERVER_JOB=SERVER_JOB THIS",
      "#SBATCH --job-name=colearn-\(name)-participants",
      "#SBATCH --array=0-\(participants.count - 1)",
      "#SBATCH --output=\(logs)/participant-%A_%a.out",
      "#SBATCH --chdir=\(workingDirectory)",
    ]
    lines += participantResources.directives
    lines += [
      "set -euo pipefail",
      "cd \(q(workingDirectory))",
      ": \"${COLEARN_SERVER_JOB:?submit with --export=ALL,COLEARN_SERVER_JOB=<the server job id>}\"",
      "names=\(SlurmBatch.array(participants))",
      "index=$SLURM_ARRAY_TASK_ID",
      "name=${names[$index]}",
      "address=\(q(output))/server-address.$COLEARN_SERVER_JOB",
      "for _ in $(seq \(waitSeconds)); do [[ -s $address ]] && break; sleep 1; done",
      "if [[ ! -s $address ]]; then",
      "  echo \"colearn: no server address in $address after \(waitSeconds) s (server job $COLEARN_SERVER_JOB)\" >&2",
      "  exit 1",
      "fi",
      "COLEARN_SERVER=$(cat \"$address\")",
      "export COLEARN_SERVER",
      "echo \"colearn: $name (task $index) joins $COLEARN_SERVER\"",
      "exec " + SlurmBatch.commandLine([colearn, "participate", "--config"]) + " \(q(federation + "/kits/"))\"$name\"/participate.yaml"
        + " --server \"$COLEARN_SERVER\"" + data.map { " " + $0 }.joined(),
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The job that collects the run's record after the participants (`--dependency=afterany`).
  func collect() -> String {
    var lines = [
      "#!/bin/bash",
      "# Collects the record of federation \(name) once its participants are done, written by",
      "# `colearn launch slurm`.",
      "#SBATCH --job-name=colearn-\(name)-collect",
      "#SBATCH --output=\(logs)/collect-%j.out",
      "#SBATCH --ntasks=1",
      "#SBATCH --cpus-per-task=1",
      "#SBATCH --mem=512M",
    ]
    if let partition = serverResources.partition { lines.append("#SBATCH --partition=\(partition)") }
    if let account = serverResources.account { lines.append("#SBATCH --account=\(account)") }
    lines += [
      "set -euo pipefail",
      "exec " + SlurmBatch.commandLine([
        colearn, "launch", "slurm", "--federation", federation, "--out", output, "--collect",
      ]),
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// A script that submits the three jobs in order, as `--submit` does.
  func submit() -> String {
    let q = SlurmBatch.quote
    return """
      #!/bin/bash
      # Submits federation \(name)'s jobs, as `colearn launch slurm --submit` does.
      set -euo pipefail
      server=$(sbatch --parsable \(q(serverScript)))
      server=${server%%;*}
      participants=$(sbatch --parsable --dependency=after:$server --export=ALL,COLEARN_SERVER_JOB=$server \(q(participantsScript)))
      participants=${participants%%;*}
      collect=$(sbatch --parsable --dependency=afterany:$participants \(q(collectScript)))
      echo "server job $server, participants job $participants, collect job ${collect%%;*}"

      """
  }

  /// `template` as a double-quoted shell word, `{name}` and `{index}` becoming the task's.
  static func fill(_ template: String) -> String {
    var escaped = ""
    for character in template {
      if "\"$`\\".contains(character) { escaped.append("\\") }
      escaped.append(character)
    }
    return "\"" + escaped.replacingOccurrences(of: "{name}", with: "${name}")
      .replacingOccurrences(of: "{index}", with: "${index}") + "\""
  }

  /// Writes the four scripts.
  func write() throws {
    try SlurmBatch.write(server(), to: serverScript)
    try SlurmBatch.write(participantsArray(), to: participantsScript)
    try SlurmBatch.write(collect(), to: collectScript)
    try SlurmBatch.write(submit(), to: submitScript)
    do {
      try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot create \(logs): \(error.localizedDescription)")
    }
  }
}
