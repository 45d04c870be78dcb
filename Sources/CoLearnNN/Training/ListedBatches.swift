/// Samples listed as ``SparseRows``, cut into the batches of an evaluation and each batch into
/// chunks of up to ``chunkSamples`` samples whose entries are sorted by input (a counting sort):
/// the form in which a first ``Linear`` layer multiplies them at inference
/// (``Network/forward(listed:batch:weights:parameters:)``). Built once per test set and batching,
/// and shared by every model and core that evaluates it: the sort costs about half as much as the
/// products it serves.
///
/// Chunk c's input i has the entries `columnStarts[c·(inputs + 1) + i]..<…[… + i + 1]` of
/// `entrySamples` (the sample's position in its chunk) and `entryValues` (x′), in sample order;
/// `activeColumns[activeStarts[c]..<activeStarts[c + 1]]` lists the chunk's inputs with entries,
/// ascending. Immutable once built.
public final class ListedBatches: Sendable {
  /// Samples per chunk: their outputs (64 × 128 floats for mnist-mlp's first layer, 32 KiB) stay
  /// in L1 while the rows of Wᵀ stream by.
  public static let chunkSamples = 64

  /// The listed samples.
  public let rows: SparseRows
  /// The batches, consecutive (first sample, size).
  public let batches: [(start: Int, size: Int)]
  /// Batch b's chunks are `batchChunks[b]..<batchChunks[b + 1]`.
  let batchChunks: [Int]
  /// Each chunk's first sample; one more entry closes the last.
  let chunkStarts: [Int]
  let columnStarts: [Int]
  let activeStarts: [Int]
  let activeColumns: [Int32]
  let entrySamples: [Int32]
  let entryValues: [Float]

  /// The entries of `rows` sorted chunk by chunk for `batches` (consecutive, covering samples
  /// `0..<rows.count` or a prefix of them).
  public init(rows: SparseRows, batches: [(start: Int, size: Int)]) {
    let inputs = rows.sampleSize
    var batchChunks = [0]
    var chunkStarts: [Int] = []
    for (start, size) in batches {
      precondition(start + size <= rows.count, "a batch past the \(rows.count) listed samples")
      var chunk = start
      while chunk < start + size {
        chunkStarts.append(chunk)
        chunk = min(chunk + Self.chunkSamples, start + size)
      }
      batchChunks.append(chunkStarts.count)
    }
    chunkStarts.append(batches.last.map { $0.start + $0.size } ?? 0)
    let chunks = chunkStarts.count - 1
    let total = rows.starts[chunkStarts[chunks]] - rows.starts[chunkStarts.first ?? 0]
    var columnStarts = [Int](repeating: 0, count: chunks * (inputs + 1))
    var activeStarts = [0]
    activeStarts.reserveCapacity(chunks + 1)
    var activeColumns: [Int32] = []
    var entrySamples = [Int32](repeating: 0, count: total)
    var entryValues = [Float](repeating: 0, count: total)
    var cursors = [Int](repeating: 0, count: inputs)
    var offset = 0
    rows.starts.withUnsafeBufferPointer { starts in
      rows.inputs.withUnsafeBufferPointer { indices in
        rows.values.withUnsafeBufferPointer { values in
          for c in 0..<chunks {
            let (first, last) = (chunkStarts[c], chunkStarts[c + 1])
            for i in 0..<inputs { cursors[i] = 0 }
            for e in starts[first]..<starts[last] { cursors[Int(indices[e])] &+= 1 }
            let base = c * (inputs + 1)
            for i in 0..<inputs {
              let count = cursors[i]
              columnStarts[base + i] = offset
              cursors[i] = offset
              if count > 0 {
                activeColumns.append(Int32(truncatingIfNeeded: i))
                offset &+= count
              }
            }
            columnStarts[base + inputs] = offset
            activeStarts.append(activeColumns.count)
            for s in first..<last {
              let sample = Int32(truncatingIfNeeded: s - first)
              for e in starts[s]..<starts[s + 1] {
                let i = Int(indices[e])
                let slot = cursors[i]
                entrySamples[slot] = sample
                entryValues[slot] = values[e]
                cursors[i] = slot &+ 1
              }
            }
          }
        }
      }
    }
    self.rows = rows
    self.batches = batches
    self.batchChunks = batchChunks
    self.chunkStarts = chunkStarts
    self.columnStarts = columnStarts
    self.activeStarts = activeStarts
    self.activeColumns = activeColumns
    self.entrySamples = entrySamples
    self.entryValues = entryValues
  }

  /// The number of values of one sample.
  public var sampleSize: Int { rows.sampleSize }
}
