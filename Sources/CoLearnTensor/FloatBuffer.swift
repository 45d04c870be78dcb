/// A fixed-size, 64-byte-aligned block of `Float`s that a layer or trainer owns as a workspace.
///
/// This is colearn's one handle type over unsafe storage (STYLE §8): layers allocate their
/// workspaces once per batch size and then read and write them through ``pointer`` in hot loops,
/// with no copy-on-write checks and no allocation. The memory is freed when the buffer is.
///
/// Threading: a buffer belongs to one owner (a layer, a trainer); it is not shared across
/// concurrency domains, hence no `Sendable`.
public final class FloatBuffer {
  /// The first element; valid for ``count`` elements while the buffer lives.
  public let pointer: UnsafeMutablePointer<Float>
  /// The number of elements.
  public let count: Int

  /// Allocates `count` elements, all zero.
  public init(count: Int) {
    precondition(count >= 0, "FloatBuffer count must be non-negative, got \(count)")
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  deinit {
    UnsafeMutableRawPointer(pointer).deallocate()
  }

  /// The elements as a buffer pointer.
  public var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: pointer, count: count)
  }

  /// Sets every element to `value`.
  public func fill(_ value: Float) {
    pointer.update(repeating: value, count: count)
  }

  /// A copy of the elements as an array (for tests and reports, not hot loops).
  public var array: [Float] { Array(buffer) }
}

/// A fixed-size block of `Int32` indices (for example the argmax positions a max-pool layer saves
/// for its backward pass), with the same ownership rules as ``FloatBuffer``.
public final class IndexBuffer {
  /// The first element; valid for ``count`` elements while the buffer lives.
  public let pointer: UnsafeMutablePointer<Int32>
  /// The number of elements.
  public let count: Int

  /// Allocates `count` elements, all zero.
  public init(count: Int) {
    precondition(count >= 0, "IndexBuffer count must be non-negative, got \(count)")
    self.count = count
    pointer = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  deinit {
    pointer.deallocate()
  }
}
