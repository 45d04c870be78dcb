import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// `colearn launch slurm` (issue 23 item 2): the federation's batch scripts (pinned by golden
/// files), the jobs run as Slurm runs them (bash with Slurm's variables), the record collected,
/// and — with a Slurm up — a real 3-participant federation through `--submit`.
@Suite(.serialized) struct LaunchSlurmTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  @Test func theFederationScriptsMatchTheGoldenFiles() throws {
    let scripts = FederationSlurmScripts(
      federation: "/shared/fed", name: "demo", participants: ["hospital-a", "hospital-b", "hospital-c"],
      output: "/shared/fed/slurm", colearn: "/opt/colearn/bin/colearn", serverHost: nil, shards: true,
      dataTemplate: "csv:/data/{name} \"$x\".csv", waitSeconds: 300,
      serverResources: .init(cpus: 2, memoryMB: 2048, time: "1:00:00", partition: "cpu"),
      participantResources: .init(cpus: 1, memoryMB: 1024, time: "1:00:00", partition: "cpu"),
      workingDirectory: "/home/me")
    try SlurmReproduceTests.expectGolden(scripts.server(), "federation-server.sbatch")
    try SlurmReproduceTests.expectGolden(scripts.participantsArray(), "federation-participants.sbatch")
    try SlurmReproduceTests.expectGolden(scripts.collect(), "federation-collect.sbatch")
    try SlurmReproduceTests.expectGolden(scripts.submit(), "federation-submit.sh")
  }

  /// The data template becomes one double-quoted word: the task's name and index expand, and
  /// nothing else the template holds does.
  @Test func theDataTemplateExpandsOnlyNameAndIndex() throws {
    let word = FederationSlurmScripts.fill("csv:/d/{name}-{index} $HOME `x`.csv")
    let result = try runProcess(
      URL(fileURLWithPath: "/bin/bash"), ["-c", "name=h-a; index=2; printf %s \(word)"])
    #expect(result.standardOutput == "csv:/d/h-a-2 $HOME `x`.csv", "\(result.combined)")
  }

  /// A 3-participant federation on the tiny MNIST, provisioned for localhost (TLS), with the
  /// scripts written for it; returns the federation folder.
  func provisionFederation(in root: URL, rounds: Int) throws -> String {
    try writeTinyMNIST(in: root.appendingPathComponent("data"))
    let port = try freeLocalPort()
    let project = root.appendingPathComponent("federation.yaml")
    try """
    federation: slurm-demo
    server: localhost:\(port)
    listen: 127.0.0.1:\(port)
    participants: hospital-a, hospital-b, hospital-c
    serve.model: mnist-mlp
    serve.participants: 3
    serve.rounds: \(rounds)
    serve.upload-fraction: 0.1
    participate.lr: 0.1
    participate.threads: 1
    participate.shard-size: 60
    participate.test-limit: 50
    participate.data-dir: \(root.appendingPathComponent("data").path)
    """.write(to: project, atomically: true, encoding: .utf8)
    let fed = root.appendingPathComponent("fed").path
    let provisioned = try runProcess(binary(), ["provision", "--project", project.path, "--out", fed])
    #expect(provisioned.status == 0, "\(provisioned.combined)")
    return fed
  }

  /// Each participant's acknowledged rounds.
  func acknowledgedRounds(_ fed: String, _ name: String) -> [String] {
    let text = (try? String(contentsOfFile: "\(fed)/kits/\(name)/run/acks.csv", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) }
  }

  /// The jobs run as Slurm would run them: the server script with SLURM_JOB_ID, the array's
  /// tasks with SLURM_ARRAY_TASK_ID and COLEARN_SERVER_JOB; then --collect finds every round
  /// acknowledged by every participant. Before the jobs, --collect says what is missing.
  @Test func theJobsRunAFederationAndItsRecordIsCollected() throws {
    let root = try makeTemporaryDirectory("colearn-launch-slurm")
    defer { try? FileManager.default.removeItem(at: root) }
    let fed = try provisionFederation(in: root, rounds: 2)
    let written = try runProcess(
      binary(),
      ["launch", "slurm", "--federation", fed, "--shards", "--server-host", "localhost", "--wait-server", "60",
       "--colearn", binary().path])
    #expect(written.status == 0, "\(written.combined)")
    let early = try runProcess(binary(), ["launch", "slurm", "--federation", fed, "--collect"])
    #expect(early.status != 0)
    #expect(early.combined.contains("hospital-a: 0 rounds acknowledged, NOT finished"), "\(early.combined)")

    let bash = URL(fileURLWithPath: "/bin/bash")
    let server = try BackgroundProcess(bash, ["\(fed)/slurm/server.sbatch"], environment: ["SLURM_JOB_ID": "41"])
    let participants = try (0..<3).map { index in
      try BackgroundProcess(
        bash, ["\(fed)/slurm/participants.sbatch"],
        environment: ["SLURM_ARRAY_TASK_ID": "\(index)", "COLEARN_SERVER_JOB": "41"])
    }
    for (index, participant) in participants.enumerated() {
      #expect(participant.wait(timeout: 300) == 0, "participant \(index): \(participant.combined)")
      #expect(participant.standardOutput.contains("joins localhost:"), "\(participant.combined)")
    }
    #expect(server.wait(timeout: 60) == 0, "\(server.combined)")
    #expect(server.standardOutput.contains("colearn: federation slurm-demo serving at localhost:"))
    let collected = try runProcess(binary(), ["launch", "slurm", "--federation", fed, "--collect"])
    #expect(collected.status == 0, "\(collected.combined)")
    #expect(collected.standardOutput.contains("server completed 2 rounds"), "\(collected.combined)")
    for name in ["hospital-a", "hospital-b", "hospital-c"] {
      #expect(Set(acknowledgedRounds(fed, name)) == ["1", "2"], "\(name)")
    }
    let record = try String(contentsOfFile: "\(fed)/slurm/federation-record.json", encoding: .utf8)
    #expect(record.contains(#""complete" : true"#), "\(record)")
    #expect(FileManager.default.fileExists(atPath: "\(fed)/slurm/record/server-metrics.csv"))
  }

  @Test func aFolderThatIsNotAFederationIsRefused() throws {
    let root = try makeTemporaryDirectory("colearn-launch-bad")
    defer { try? FileManager.default.removeItem(at: root) }
    let result = try runProcess(binary(), ["launch", "slurm", "--federation", root.path])
    #expect(result.status != 0)
    #expect(result.standardError.contains("is not a federation folder of `colearn provision`"), "\(result.combined)")
  }

  /// The done-when of item 2 on a real Slurm: a 3-participant federation through `colearn
  /// launch slurm --submit` (server job, participant array, collect job) finishes with every
  /// round acknowledged by every participant, and the collect job says so.
  @Test func aRealSlurmRunsAThreeParticipantFederation() throws {
    guard SlurmTestCluster.required() else { return }
    let root = try makeTemporaryDirectory("colearn-launch-slurm-real")
    defer { try? FileManager.default.removeItem(at: root) }
    let fed = try provisionFederation(in: root, rounds: 3)
    let submitted = try runProcess(
      binary(),
      ["launch", "slurm", "--federation", fed, "--shards", "--server-host", "localhost", "--wait-server", "120",
       "--server-cpus", "1", "--server-mem-mb", "1024", "--participant-mem-mb", "768", "--time", "10:00",
       "--submit", "--colearn", SlurmTestCluster.jobBinary(binary())])
    #expect(submitted.status == 0, "\(submitted.combined)")
    let jobs = try JSONDecoder().decode(
      FederationRecordCollector.Jobs.self,
      from: Data(contentsOf: URL(fileURLWithPath: "\(fed)/slurm/jobs.json")))
    let collectJob = try #require(jobs.collect)
    let done = try SlurmTestCluster.waitForJobs([jobs.server, jobs.participants, collectJob], timeout: 300)
    let logs = (try? FileManager.default.contentsOfDirectory(atPath: "\(fed)/slurm/logs"))?.sorted() ?? []
    let logText = logs.map { name in
      "\n--- \(name)\n" + ((try? String(contentsOfFile: "\(fed)/slurm/logs/\(name)", encoding: .utf8)) ?? "")
    }.joined()
    #expect(done, "jobs still queued after 300 s\(logText)")
    let collectLog = try? String(contentsOfFile: "\(fed)/slurm/logs/collect-\(collectJob).out", encoding: .utf8)
    #expect(collectLog?.contains("server completed 3 rounds") == true, "\(logText)")
    for name in ["hospital-a", "hospital-b", "hospital-c"] {
      #expect(Set(acknowledgedRounds(fed, name)) == ["1", "2", "3"], "\(name)\(logText)")
    }
    let record = try String(contentsOfFile: "\(fed)/slurm/federation-record.json", encoding: .utf8)
    #expect(record.contains(#""complete" : true"#), "\(record)\(logText)")
    #expect(record.contains(#""jobId" : "\#(jobs.participants)_0""#), "\(record)")
  }
}
