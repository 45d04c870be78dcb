import CoLearnData
import Testing

/// BT.601 RGB → YUV on the 0…255 scale (SPEC §3).
@Suite struct YUVTests {
  @Test(
    arguments: [
      // (R, G, B) → (Y, U, V), computed by hand from the coefficients.
      ([255, 0, 0], [76.245, -37.51815, 156.825]),
      ([0, 255, 0], [149.685, -73.6593, -131.32245]),
      ([0, 0, 255], [29.07, 111.18, -25.50255]),
      // The U coefficients sum to 1e-5, not 0: white has U = 0.00255.
      ([255, 255, 255], [255, 0.00255, 0]),
      ([0, 0, 0], [0, 0, 0]),
    ] as [([Float], [Float])])
  func primaries(rgb: [Float], expected: [Float]) {
    let yuv = YUV.fromRGB(red: rgb[0], green: rgb[1], blue: rgb[2])
    #expect(abs(yuv.y - expected[0]) < 1e-3)
    #expect(abs(yuv.u - expected[1]) < 1e-3)
    #expect(abs(yuv.v - expected[2]) < 1e-3)
  }

  @Test func greyHasNoColour() {
    for level in stride(from: Float(0), through: 255, by: 17) {
      let yuv = YUV.fromRGB(red: level, green: level, blue: level)
      #expect(abs(yuv.y - level) < 1e-3)
      #expect(abs(yuv.u) < 3e-3)
      #expect(abs(yuv.v) < 1e-3)
    }
  }

  @Test func interleavedConversionMatchesPixelConversion() {
    var values: [Float] = [10, 20, 30, 200, 100, 50]
    values.withUnsafeMutableBufferPointer { YUV.convertInterleavedRGB($0) }
    let first = YUV.fromRGB(red: 10, green: 20, blue: 30)
    let second = YUV.fromRGB(red: 200, green: 100, blue: 50)
    #expect(values == [first.y, first.u, first.v, second.y, second.u, second.v])
  }
}
