import ArgumentParser
import Foundation

/// `colearn launch slurm`: a provisioned federation as Slurm jobs — the server, an array of
/// participants, and a job that collects the run's record — written to `--out` and, with
/// `--submit`, submitted in order.
struct LaunchSlurmCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "slurm",
    abstract: "Write (and submit) Slurm jobs for a provisioned federation; --collect its record.",
    discussion: """
      colearn provision --project federation.yaml --out fed
      colearn launch slurm --federation fed --shards --submit
      colearn launch slurm --federation fed --collect       # also run by the collect job

      Writes OUT/server.sbatch (colearn serve --config serve.yaml in fed/server), \
      OUT/participants.sbatch (a job array: task I runs the I-th participant's kit, with \
      --shard I/N under --shards, or --data from a template with {name} and {index}), \
      OUT/collect.sbatch and OUT/submit.sh. The server job writes its HOST:PORT to \
      OUT/server-address.JOBID once it listens; the array gets COLEARN_SERVER_JOB=JOBID in its \
      environment and starts after the server job has started; each task exports \
      COLEARN_SERVER. The host participants dial must be a name in the server's certificate: \
      provision with `server-names:` listing the compute nodes, or pass --server-host. The \
      federation folder must be on a file system every node sees. Set serve.rounds in the \
      project, or the server runs until its time limit.
      """)

  @Option(help: "The federation folder written by `colearn provision`.")
  var federation: String

  @Option(help: "Where the scripts, logs and record go (default: FEDERATION/slurm).")
  var out: String?

  @Flag(help: "Participant I trains on the dataset's shard I/N (--shard), as a test federation.")
  var shards = false

  @Option(
    help: ArgumentHelp(
      "Each participant's --data, with {name} and {index} replaced (e.g. csv:/data/{name}.csv).",
      valueName: "template"))
  var data: String?

  @Option(name: .customLong("server-host"), help: "The host participants dial (default: the server node's hostname).")
  var serverHost: String?

  @Option(name: .customLong("wait-server"), help: "Seconds a participant waits for the server's address.")
  var waitServer: Int = 600

  @Flag(help: "Submit the jobs with sbatch (else only write them).")
  var submit = false

  @Flag(help: "Gather the run's record from the shared file system (after the jobs).")
  var collect = false

  @Option(help: "The partition (sbatch --partition).")
  var partition: String?

  @Option(help: "The account (sbatch --account).")
  var account: String?

  @Option(help: "Each job's time limit (sbatch --time, e.g. 4:00:00).")
  var time: String?

  @Option(name: .customLong("server-cpus"), help: "The server job's CPUs.")
  var serverCPUs: Int = 2

  @Option(name: .customLong("server-mem-mb"), help: "The server job's memory in MiB.")
  var serverMemoryMB: Int = 2048

  @Option(name: .customLong("participant-cpus"), help: "Each participant's CPUs (set participate.threads to match).")
  var participantCPUs: Int = 1

  @Option(name: .customLong("participant-mem-mb"), help: "Each participant's memory in MiB.")
  var participantMemoryMB: Int = 1024

  @Option(name: .customLong("colearn"), help: "The colearn binary the jobs run (default: this one).")
  var colearn: String?

  func validate() throws {
    try requireAtLeast(1, waitServer, flag: "wait-server")
    try requireAtLeast(1, serverCPUs, flag: "server-cpus")
    try requireAtLeast(1, participantCPUs, flag: "participant-cpus")
    try requireAtLeast(64, serverMemoryMB, flag: "server-mem-mb")
    try requireAtLeast(64, participantMemoryMB, flag: "participant-mem-mb")
    if collect, submit { throw ValidationError("give --submit or --collect, not both") }
  }

  func makeScripts(_ federation: ProvisionedFederation) -> FederationSlurmScripts {
    FederationSlurmScripts(
      federation: federation.root, name: federation.project.federation,
      participants: federation.participants,
      output: out.map(SlurmBatch.absolute) ?? federation.root + "/slurm",
      colearn: colearn.map(SlurmBatch.absolute) ?? SlurmBatch.currentExecutable(),
      serverHost: serverHost, shards: shards, dataTemplate: data, waitSeconds: waitServer,
      serverResources: .init(
        cpus: serverCPUs, memoryMB: serverMemoryMB, time: time, partition: partition, account: account),
      participantResources: .init(
        cpus: participantCPUs, memoryMB: participantMemoryMB, time: time, partition: partition,
        account: account),
      workingDirectory: FileManager.default.currentDirectoryPath)
  }

  func run() throws {
    let federation = try ProvisionedFederation(path: self.federation)
    let scripts = makeScripts(federation)
    if collect {
      let collector = FederationRecordCollector(
        federation: federation.root, name: federation.project.federation,
        participants: federation.participants, output: scripts.output)
      let record = try collector.collect()
      for line in FederationRecordCollector.describe(record) { print(line) }
      guard record.complete else {
        throw CLIError(
          "the federation did not finish with every round acknowledged by every participant "
            + "(see the lines above; the record is in \(scripts.output)/federation-record.json)")
      }
      print("record in \(scripts.output)/record and \(scripts.output)/federation-record.json")
      return
    }
    try scripts.write()
    print(
      "wrote \(scripts.serverScript), \(scripts.participantsScript) (\(federation.participants.count) "
        + "participants), \(scripts.collectScript) and \(scripts.submitScript)")
    guard submit else {
      print("submit them with `bash \(scripts.submitScript)` (or add --submit)")
      return
    }
    let server = try SlurmBatch.submit(scripts.serverScript)
    let participants = try SlurmBatch.submit(
      scripts.participantsScript,
      arguments: ["--dependency=after:\(server)", "--export=ALL,COLEARN_SERVER_JOB=\(server)"])
    let collectJob = try SlurmBatch.submit(
      scripts.collectScript, arguments: ["--dependency=afterany:\(participants)"])
    let jobs = FederationRecordCollector.Jobs(server: server, participants: participants, collect: collectJob)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try SlurmBatch.write(
      String(decoding: try encoder.encode(jobs), as: UTF8.self) + "\n",
      to: scripts.output + "/jobs.json", executable: false)
    print("submitted: server job \(server), participants job \(participants), collect job \(collectJob)")
  }
}
