import ArgumentParser
import CoLearnDSSGD
import CoLearnData
import CoLearnNN

extension ExchangeOrder: ExpressibleByArgument {}

/// The shape of a simulated federation and its exchange (SPEC §6, §11): how many participants,
/// how the training set is split among them, the fractions exchanged, the server's decay and the
/// exchange protocol.
struct FederationOptions: ParsableArguments {
  @Option(help: "Number of participants N.")
  var participants: Int = 30

  @Option(
    name: .customLong("shard-size"),
    help: "Training samples per participant (default: 1% of MNIST or SVHN; a file is split whole among the participants).")
  var shardSize: Int?

  @Option(help: "How the training set is split: iid, dirichlet:ALPHA or classes:K (by label).")
  var partition: String = "iid"

  @Option(
    name: .customLong("upload-fraction"), help: "θ_u: fraction of parameters uploaded per round.")
  var uploadFraction: Double = 0.1

  @Option(
    name: .customLong("download-fraction"),
    help: "θ_d: fraction of parameters downloaded per round.")
  var downloadFraction: Double = 1

  @Option(
    name: .customLong("stat-decay"), help: "β: the server's per-round decay of its update counts.")
  var statDecay: Float = 0.8

  @Option(
    name: .customLong("protocol"), help: "Exchange protocol: round-robin, random-order or async.")
  var order: ExchangeOrder = .roundRobin

  @Option(
    name: .customLong("stale-probability"),
    help: "p_stale for async: chance that a download is served from the previous round's state.")
  var staleProbability: Double = 0.5

  /// The validated DSSGD configuration with `upload`'s selection and privacy.
  func dssgdConfiguration(upload: UploadOptions) throws -> DSSGDConfiguration {
    do {
      return try DSSGDConfiguration(
        participants: participants, uploadFraction: uploadFraction,
        downloadFraction: downloadFraction, selection: upload.selection,
        threshold: upload.threshold, bound: upload.bound, statDecay: statDecay, order: order,
        staleProbability: staleProbability, privacy: upload.privacySettings())
    } catch {
      throw ValidationError("\(error)")
    }
  }

  /// The parsed --partition.
  func partitionScheme() throws -> Partition {
    do {
      return try Partition(parsing: partition)
    } catch {
      throw ValidationError(error.description)
    }
  }

  func validate() throws {
    _ = try partitionScheme()
    try requireAtLeast(1, shardSize, flag: "shard-size")
  }
}
