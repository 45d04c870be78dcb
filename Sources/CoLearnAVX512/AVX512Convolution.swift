import CoLearnTensor

/// The AVX-512 twins of CoLearnNN's direct convolution kernels (`DirectConvolution`), for layers
/// whose O is a multiple of 32.
///
/// This target is compiled for `znver4` (Package.swift): a SIMD16<Float> is one 512-bit
/// register and there are 32 of them, so a tile holds 6 output positions × 64 channels (24
/// accumulators; 6 × 32 when O is no multiple of 64) where the AVX2 kernels hold 6 × 16. Call these functions only when
/// ``KernelInstructions/detected`` is `.avx512`: on another CPU they stop the process with an
/// illegal instruction. Nothing else in colearn may be compiled here, and nothing here may be
/// called by code outside this target except through that check (`AVX512ConfinementTests`
/// reads the linked binary's machine code to hold both).
///
/// Each lane sums its products in the order of the AVX2 kernel it replaces, with the same fused
/// multiply–adds, so the two give the same bits.
public enum AVX512Convolution {
  /// Whether these kernels take a layer with `outputChannels` channels.
  public static func applies(outputChannels: Int) -> Bool { outputChannels % 32 == 0 }

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
    precondition(applies(outputChannels: patches.outputChannels), "AVX-512 kernels need O % 32 == 0")
    if patches.outputChannels % 64 == 0 {
      forward(
        Block64.self, x, patches: patches, positions: positions, offsets: offsets,
        transposedWeight: wt, bias: bias, applyingTanh: applyingTanh, into: y)
    } else {
      forward(
        Block32.self, x, patches: patches, positions: positions, offsets: offsets,
        transposedWeight: wt, bias: bias, applyingTanh: applyingTanh, into: y)
    }
  }

  /// Σ x(p + k_i) · ∂y(p, o ..< o + width) for the five patch offsets k_i = `offsets[first + i]`,
  /// over the positions of `samples`, into `out[i·O + o …]` (overwritten), for every block of
  /// channels o: `dy` is ∂y [B·P, O], `out` points at row `first` of the partial ∂Wᵀ [K, O].
  public static func weightGradientBlock(
    _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, patches: ConvolutionPatches,
    samples: Range<Int>, offsets: UnsafePointer<Int>, first: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    precondition(applies(outputChannels: patches.outputChannels), "AVX-512 kernels need O % 32 == 0")
    if patches.outputChannels % 64 == 0 {
      weightGradientBlock(
        Block64.self, x, dy: dy, patches: patches, samples: samples, offsets: offsets,
        first: first, into: out)
    } else {
      weightGradientBlock(
        Block32.self, x, dy: dy, patches: patches, samples: samples, offsets: offsets,
        first: first, into: out)
    }
  }

  // MARK: - The kernels, for 64 or 32 channels a block

  @inline(__always)
  static func forward<Block: ChannelBlock>(
    _: Block.Type, _ x: UnsafePointer<Float>, patches: ConvolutionPatches, positions: Range<Int>,
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
        let b = Block(bias + o)
        var (a0, a1, a2, a3, a4, a5) = (b, b, b, b, b, b)
        var w = wt + o
        for k in 0..<patch {
          let weights = Block(w)
          let offset = offsets[k]
          a0.addProduct(c0[offset], weights)
          a1.addProduct(c1[offset], weights)
          a2.addProduct(c2[offset], weights)
          a3.addProduct(c3[offset], weights)
          a4.addProduct(c4[offset], weights)
          a5.addProduct(c5[offset], weights)
          w += outputs
        }
        let out = y + (position &* outputs &+ o)
        a0.store(out, tanh: applyingTanh)
        a1.store(out + outputs, tanh: applyingTanh)
        a2.store(out + 2 &* outputs, tanh: applyingTanh)
        a3.store(out + 3 &* outputs, tanh: applyingTanh)
        a4.store(out + 4 &* outputs, tanh: applyingTanh)
        a5.store(out + 5 &* outputs, tanh: applyingTanh)
        o &+= Block.width
      }
      position &+= 6
    }
    while position < positions.upperBound {
      let c = patches.corner(x, position)
      var o = 0
      while o < outputs {
        var a = Block(bias + o)
        for k in 0..<patch { a.addProduct(c[offsets[k]], Block(wt + (k &* outputs &+ o))) }
        a.store(y + (position &* outputs &+ o), tanh: applyingTanh)
        o &+= Block.width
      }
      position &+= 1
    }
  }

  @inline(__always)
  static func weightGradientBlock<Block: ChannelBlock>(
    _: Block.Type, _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    patches: ConvolutionPatches, samples: Range<Int>, offsets: UnsafePointer<Int>, first: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    let (outputs, step, positions) = (patches.outputChannels, patches.positionStep, patches.positions)
    let (k0, k1, k2) = (offsets[first], offsets[first &+ 1], offsets[first &+ 2])
    let (k3, k4) = (offsets[first &+ 3], offsets[first &+ 4])
    var o = 0
    while o < outputs {
      var (a0, a1, a2, a3, a4) = (Block(), Block(), Block(), Block(), Block())
      for b in samples {
        let image = x + b &* patches.imageSize
        var g = dy + (b &* positions &* outputs &+ o)
        for oh in 0..<patches.outputHeight {
          var p = image + oh &* patches.rowStep
          for _ in 0..<patches.outputWidth {
            let d = Block(g)
            a0.addProduct(p[k0], d)
            a1.addProduct(p[k1], d)
            a2.addProduct(p[k2], d)
            a3.addProduct(p[k3], d)
            a4.addProduct(p[k4], d)
            p += step
            g += outputs
          }
        }
      }
      let row = out + o
      a0.store(row, tanh: false)
      a1.store(row + outputs, tanh: false)
      a2.store(row + 2 &* outputs, tanh: false)
      a3.store(row + 3 &* outputs, tanh: false)
      a4.store(row + 4 &* outputs, tanh: false)
      o &+= Block.width
    }
  }
}

/// The channels one accumulator of a tile holds: 64 (four 512-bit registers) or 32 (two).
protocol ChannelBlock {
  /// Channels per block.
  static var width: Int { get }
  /// Zeros.
  init()
  /// `width` floats from `pointer`.
  init(_ pointer: UnsafePointer<Float>)
  /// self += v · w, lane by lane (fused).
  mutating func addProduct(_ v: Float, _ w: Self)
  /// Writes the lanes (tanh of them with `tanh`) to `pointer`.
  func store(_ pointer: UnsafeMutablePointer<Float>, tanh: Bool)
}

struct Block64: ChannelBlock {
  var a, b, c, d: SIMD16<Float>

  static var width: Int { 64 }

  @inline(__always) init() { (a, b, c, d) = (.zero, .zero, .zero, .zero) }

  @inline(__always) init(_ p: UnsafePointer<Float>) {
    (a, b, c, d) = (loadLanes(p), loadLanes(p + 16), loadLanes(p + 32), loadLanes(p + 48))
  }

  @inline(__always) mutating func addProduct(_ v: Float, _ w: Block64) {
    a = a.addingProduct(v, w.a)
    b = b.addingProduct(v, w.b)
    c = c.addingProduct(v, w.c)
    d = d.addingProduct(v, w.d)
  }

  @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, tanh: Bool) {
    storeLanes(tanh ? fastTanh(a) : a, p)
    storeLanes(tanh ? fastTanh(b) : b, p + 16)
    storeLanes(tanh ? fastTanh(c) : c, p + 32)
    storeLanes(tanh ? fastTanh(d) : d, p + 48)
  }
}

struct Block32: ChannelBlock {
  var a, b: SIMD16<Float>

  static var width: Int { 32 }

  @inline(__always) init() { (a, b) = (.zero, .zero) }

  @inline(__always) init(_ p: UnsafePointer<Float>) { (a, b) = (loadLanes(p), loadLanes(p + 16)) }

  @inline(__always) mutating func addProduct(_ v: Float, _ w: Block32) {
    a = a.addingProduct(v, w.a)
    b = b.addingProduct(v, w.b)
  }

  @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, tanh: Bool) {
    storeLanes(tanh ? fastTanh(a) : a, p)
    storeLanes(tanh ? fastTanh(b) : b, p + 16)
  }
}
