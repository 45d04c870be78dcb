/// The bit mask of the 16 floats at `pointer` whose bits differ from `background`'s (bit j set
/// when float j differs; compared as bits, so NaN, ±∞ and −0 against a background of 0 are
/// entries): how ``SparseInputInference/forward(features:batchSize:into:maximumDensity:)``
/// finds a block's entries off the background.
///
/// One SIMD compare, the lanes narrowed to bytes of 0 or 1 (two packs), and each half of 8 bytes
/// gathered into 8 bits by one multiplication: the byte of lane j, at bit 8j, times
/// 0x0102040810204080 (the sum of 2^(56 − 7i)) lands at bit 56 + j, and no two of the 64
/// products share a bit, so nothing carries. Swift has no move-mask; this replaced a horizontal
/// sum of the lanes' bits (about 30 instructions on AVX2 against about 20).
///
/// - Parameters:
///   - pointer: 16 floats (64 bytes), which need not be aligned.
///   - background: the background's bit pattern in every lane.
@inline(__always)
public func offBackgroundMask(_ pointer: UnsafeRawPointer, background: SIMD16<UInt32>) -> UInt16 {
  let differs = pointer.loadUnaligned(as: SIMD16<UInt32>.self) .!= background
  // Most blocks of a sparse sample are all background: a test and a branch.
  guard any(differs) else { return 0 }
  let ones = SIMD16<UInt8>(truncatingIfNeeded: SIMD16<UInt32>().replacing(with: 1, where: differs))
  let halves = unsafeBitCast(ones, to: SIMD2<UInt64>.self)
  let gather: UInt64 = 0x0102_0408_1020_4080
  let low = (halves[0] &* gather) &>> 56
  let high = (halves[1] &* gather) &>> 56
  return UInt16(truncatingIfNeeded: low | high &<< 8)
}
