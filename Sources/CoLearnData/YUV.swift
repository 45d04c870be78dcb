/// RGB → YUV conversion with the ITU-R BT.601 coefficients, applied to SVHN as in the paper
/// (SPEC §3: "RGB converted to YUV"), on the 0…255 scale:
///
///     Y =  0.299   R + 0.587   G + 0.114   B          (0 … 255)
///     U = −0.14713 R − 0.28886 G + 0.436   B          (−111.18 … 111.18)
///     V =  0.615   R − 0.51499 G − 0.10001 B          (−156.83 … 156.83)
///
/// Y carries the luminance, U and V the blue and red colour differences; no offset is added to U
/// and V (standardisation with ``Normalization`` centres every channel afterwards).
public enum YUV {
  /// Converts one RGB pixel (0…255 per channel) to YUV.
  @inlinable
  public static func fromRGB(red: Float, green: Float, blue: Float) -> (
    y: Float, u: Float, v: Float
  ) {
    (
      0.299 * red + 0.587 * green + 0.114 * blue,
      -0.14713 * red - 0.28886 * green + 0.436 * blue,
      0.615 * red - 0.51499 * green - 0.10001 * blue
    )
  }

  /// Converts interleaved RGB pixels (`r g b r g b …`) to interleaved YUV, in place.
  ///
  /// - Precondition: `values.count` is a multiple of 3.
  /// - Complexity: O(values.count).
  public static func convertInterleavedRGB(_ values: UnsafeMutableBufferPointer<Float>) {
    precondition(values.count % 3 == 0, "\(values.count) values are not whole RGB pixels")
    var index = 0
    while index < values.count {
      let yuv = fromRGB(red: values[index], green: values[index + 1], blue: values[index + 2])
      values[index] = yuv.y
      values[index + 1] = yuv.u
      values[index + 2] = yuv.v
      index += 3
    }
  }
}
