import CoLearnNN
import CoLearnTensor
import Testing

/// ``offBackgroundMask(_:background:)``: the bit mask of a block of 16 inputs that differ from
/// the background, which the one-pass sparse first layer (`colearn predict`, `evaluate`) takes
/// from a multiplication instead of a horizontal sum of the lanes.
@Suite struct BackgroundMaskTests {
  /// The mask the scalar loop gives: bit j set when float j's bits differ from `background`'s.
  static func scalarMask(_ values: ArraySlice<Float>, background: Float) -> UInt16 {
    var mask: UInt16 = 0
    for (j, value) in values.enumerated() where value.bitPattern != background.bitPattern {
      mask |= 1 << UInt16(j)
    }
    return mask
  }

  /// Random blocks mixing the background, the floats just above and below it, ±0, NaN (two
  /// payloads), ±∞ and arbitrary values, at every alignment of a float: the scalar compare's
  /// mask every time, including the empty and the full block.
  @Test(arguments: [Float(0), -0.4242, 1.5, -0.0, .greatestFiniteMagnitude])
  func matchesTheScalarCompare(background: Float) {
    var generator = SeededGenerator(seed: 0xB10C + UInt64(background.bitPattern))
    let special: [Float] = [
      background, background, background, background.nextUp, background.nextDown, 0, -0.0,
      .nan, Float(bitPattern: 0x7FC0_0001), .infinity, -.infinity,
    ]
    let blocks = 2_000
    var values = [Float](repeating: background, count: blocks * 16 + 15)
    for index in values.indices {
      let draw = generator.next() % 8
      switch draw {
      case 0...3: values[index] = background
      case 4...6: values[index] = special[Int(generator.next() % UInt64(special.count))]
      default: values[index] = Float.random(in: -3...3, using: &generator)
      }
    }
    // The first block all background, the second none of it.
    for j in 0..<16 {
      values[j] = background
      values[16 + j] = background.nextUp
    }
    let lanes = SIMD16<UInt32>(repeating: background.bitPattern)
    var seen = Set<UInt16>()
    values.withUnsafeBufferPointer { all in
      for offset in 0..<4 {
        for block in 0..<(blocks - 1) {
          let start = offset + 16 * block
          let mask = offBackgroundMask(
            UnsafeRawPointer(all.baseAddress! + start), background: lanes)
          let expected = Self.scalarMask(values[start..<(start + 16)], background: background)
          #expect(mask == expected, "block at \(start)")
          seen.insert(mask)
        }
      }
    }
    #expect(seen.contains(0) && seen.contains(0xFFFF))
    #expect(seen.count > 1_000)
  }
}
