/// 16 floats from `pointer`, which need not be aligned (for the SIMD kernels of CoLearnNN and
/// CoLearnAVX512; always inlined, so each is compiled for its caller's instruction set).
@inlinable @inline(__always)
public func loadLanes(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
}

/// 16 floats from `pointer`, which need not be aligned.
@inlinable @inline(__always)
public func loadLanes(_ pointer: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
}

/// `value` into the 16 floats at `pointer`, which need not be aligned.
@inlinable @inline(__always)
public func storeLanes(_ value: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD16<Float>.self)
}
