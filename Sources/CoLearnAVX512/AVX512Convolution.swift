import CoLearnTensor

/// The AVX-512 twins of CoLearnNN's direct convolution kernels (`DirectConvolution`), for layers
/// whose O is a multiple of 64.
///
/// This target is compiled for `znver4` (Package.swift): a SIMD16<Float> is one 512-bit
/// register and there are 32 of them, so a tile holds 6 output positions × 64 channels (24
/// accumulators) where the AVX2 kernels hold 6 × 16. Call these functions only when
/// ``KernelInstructions/detected`` is `.avx512`: on another CPU they stop the process with an
/// illegal instruction. Nothing else in colearn may be compiled here, and nothing here may be
/// called by code outside this target except through that check (`AVX512ConfinementTests`
/// reads the linked binary's machine code to hold both).
///
/// Each lane sums its products in the order of the AVX2 kernel it replaces, with the same fused
/// multiply–adds, so the two give the same bits.
public enum AVX512Convolution {
  /// Four registers: 64 channels of one output position (or of one ∂W row).
  typealias Lanes64 = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

  @inline(__always)
  static func load64(_ p: UnsafePointer<Float>) -> Lanes64 {
    (loadLanes(p), loadLanes(p + 16), loadLanes(p + 32), loadLanes(p + 48))
  }

  @inline(__always)
  static func store64(_ a: Lanes64, _ p: UnsafeMutablePointer<Float>, tanh: Bool) {
    if tanh {
      storeLanes(fastTanh(a.0), p)
      storeLanes(fastTanh(a.1), p + 16)
      storeLanes(fastTanh(a.2), p + 32)
      storeLanes(fastTanh(a.3), p + 48)
    } else {
      storeLanes(a.0, p)
      storeLanes(a.1, p + 16)
      storeLanes(a.2, p + 32)
      storeLanes(a.3, p + 48)
    }
  }

  /// a += v · w, lane by lane (fused).
  @inline(__always)
  static func addProduct(_ a: inout Lanes64, _ v: Float, _ w: Lanes64) {
    a.0 = a.0.addingProduct(v, w.0)
    a.1 = a.1.addingProduct(v, w.1)
    a.2 = a.2.addingProduct(v, w.2)
    a.3 = a.3.addingProduct(v, w.3)
  }

  /// y(p, o) = b(o) + Σ_k x(p + offsets[k]) · Wᵀ[k, o] (tanh of it with `applyingTanh`) for the
  /// batch positions `positions`, in blocks of six, then one at a time.
  ///
  /// - Parameters:
  ///   - offsets: K patch offsets (``ConvolutionPatches``).
  ///   - transposedWeight: Wᵀ [K, O].
  ///   - bias: b [O].
  ///   - y: [B·P, O].
  public static func forward(
    _ x: UnsafePointer<Float>, patches: ConvolutionPatches, positions: Range<Int>,
    offsets: UnsafePointer<Int>, transposedWeight wt: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, applyingTanh: Bool, into y: UnsafeMutablePointer<Float>
  ) {
    let (outputs, patch) = (patches.outputChannels, patches.patchSize)
    var position = positions.lowerBound
    while position &+ 6 <= positions.upperBound {
      let (c0, c1) = (patches.corner(x, position), patches.corner(x, position &+ 1))
      let (c2, c3) = (patches.corner(x, position &+ 2), patches.corner(x, position &+ 3))
      let (c4, c5) = (patches.corner(x, position &+ 4), patches.corner(x, position &+ 5))
      var o = 0
      while o < outputs {
        let b = load64(bias + o)
        var (a0, a1, a2, a3, a4, a5) = (b, b, b, b, b, b)
        var w = wt + o
        for k in 0..<patch {
          let weights = load64(w)
          let offset = offsets[k]
          addProduct(&a0, c0[offset], weights)
          addProduct(&a1, c1[offset], weights)
          addProduct(&a2, c2[offset], weights)
          addProduct(&a3, c3[offset], weights)
          addProduct(&a4, c4[offset], weights)
          addProduct(&a5, c5[offset], weights)
          w += outputs
        }
        let out = y + (position &* outputs &+ o)
        store64(a0, out, tanh: applyingTanh)
        store64(a1, out + outputs, tanh: applyingTanh)
        store64(a2, out + 2 &* outputs, tanh: applyingTanh)
        store64(a3, out + 3 &* outputs, tanh: applyingTanh)
        store64(a4, out + 4 &* outputs, tanh: applyingTanh)
        store64(a5, out + 5 &* outputs, tanh: applyingTanh)
        o &+= 64
      }
      position &+= 6
    }
    while position < positions.upperBound {
      let c = patches.corner(x, position)
      var o = 0
      while o < outputs {
        var a = load64(bias + o)
        for k in 0..<patch { addProduct(&a, c[offsets[k]], load64(wt + (k &* outputs &+ o))) }
        store64(a, y + (position &* outputs &+ o), tanh: applyingTanh)
        o &+= 64
      }
      position &+= 1
    }
  }

  /// Σ x(p + k_i) · ∂y(p, o ..< o + 64) for the five patch offsets k_i = `offsets[first + i]`,
  /// over the positions of `samples`, into `out[i·O + o …]` (overwritten). `dy` points at
  /// channel o of ∂y [B·P, O]; `out` at row `first`, channel o of the partial ∂Wᵀ.
  public static func weightGradientBlock(
    _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, patches: ConvolutionPatches,
    samples: Range<Int>, offsets: UnsafePointer<Int>, first: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    let (outputs, step, positions) = (patches.outputChannels, patches.positionStep, patches.positions)
    let (k0, k1, k2) = (offsets[first], offsets[first &+ 1], offsets[first &+ 2])
    let (k3, k4) = (offsets[first &+ 3], offsets[first &+ 4])
    let zero = SIMD16<Float>()
    var (a0, a1, a2, a3, a4) = (
      Lanes64(zero, zero, zero, zero), Lanes64(zero, zero, zero, zero),
      Lanes64(zero, zero, zero, zero), Lanes64(zero, zero, zero, zero),
      Lanes64(zero, zero, zero, zero)
    )
    for b in samples {
      let image = x + b &* patches.imageSize
      var g = dy + b &* positions &* outputs
      for oh in 0..<patches.outputHeight {
        var p = image + oh &* patches.rowStep
        for _ in 0..<patches.outputWidth {
          let d = load64(g)
          addProduct(&a0, p[k0], d)
          addProduct(&a1, p[k1], d)
          addProduct(&a2, p[k2], d)
          addProduct(&a3, p[k3], d)
          addProduct(&a4, p[k4], d)
          p += step
          g += outputs
        }
      }
    }
    store64(a0, out, tanh: false)
    store64(a1, out + outputs, tanh: false)
    store64(a2, out + 2 &* outputs, tanh: false)
    store64(a3, out + 3 &* outputs, tanh: false)
    store64(a4, out + 4 &* outputs, tanh: false)
  }
}
