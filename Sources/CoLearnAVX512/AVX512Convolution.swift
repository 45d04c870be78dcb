import CoLearnTensor

/// The AVX-512 twins of CoLearnNN's direct convolution kernels (`DirectConvolution`), for layers
/// whose O is a multiple of 32.
///
/// This target is compiled for `znver4` (Package.swift): a SIMD16<Float> is one 512-bit
/// register and there are 32 of them, so a tile holds 6 output positions × 64 channels (24
/// accumulators; 6 × 32 when O is no multiple of 64) where the AVX2 kernels hold 6 × 16. Call
/// these functions only when ``KernelInstructions/detected`` is `.avx512`: on another CPU they
/// stop the process with an illegal instruction. Nothing else in colearn may be compiled here,
/// and nothing here may be called by code outside this target except through that check
/// (`AVX512ConfinementTests` reads the built machine code to hold both).
///
/// Each lane sums its products in the order of the AVX2 kernel it replaces, with the same fused
/// multiply–adds, so the two give the same bits.
public enum AVX512Convolution {
  /// Whether these kernels take a layer with `outputChannels` channels.
  public static func applies(outputChannels: Int) -> Bool { outputChannels % 32 == 0 }

  /// y(p, o) = b(o) + Σ_k x(p + offsets[k]) · Wᵀ[k, o] (tanh of it with `applyingTanh`) for the
  /// batch positions `positions`, in blocks of six, then one at a time, and the output channels
  /// `channels` (all by default; a range of whole blocks of 32).
  ///
  /// - Parameters:
  ///   - offsets: K patch offsets (``ConvolutionPatches``).
  ///   - transposedWeight: Wᵀ [K, O].
  ///   - bias: b [O].
  ///   - y: [B·P, O].
  public static func forward(
    _ x: UnsafePointer<Float>, patches: ConvolutionPatches, positions: Range<Int>,
    channels: Range<Int>? = nil, offsets: UnsafePointer<Int>,
    transposedWeight wt: UnsafePointer<Float>, bias: UnsafePointer<Float>, applyingTanh: Bool,
    into y: UnsafeMutablePointer<Float>
  ) {
    precondition(applies(outputChannels: patches.outputChannels), "AVX-512 kernels need O % 32 == 0")
    let channels = channels ?? 0..<patches.outputChannels
    precondition(
      channels.lowerBound % 32 == 0 && channels.count % 32 == 0, "channels in blocks of 32")
    if channels.count % 64 == 0 {
      forward(
        Lanes64.self, x, patches: patches, positions: positions, channels: channels,
        offsets: offsets, transposedWeight: wt, bias: bias, applyingTanh: applyingTanh, into: y)
    } else {
      forward(
        Lanes32.self, x, patches: patches, positions: positions, channels: channels,
        offsets: offsets, transposedWeight: wt, bias: bias, applyingTanh: applyingTanh, into: y)
    }
  }

  /// The weight gradient of output channels `channels` for one sample, in W's own layout [O, K]:
  /// g(o, k) = Σ_p ∂y(p, o) · x(p + offsets[k]) over the sample's positions in order, each a
  /// fused multiply–add from zero (per value the operations of ``weightGradientBlock``, so the
  /// same bits). With `rate`, W(o, k) −= rate · g(o, k) (one fused multiply–add) in `target`,
  /// which holds W; without, `target` gets g. Patch values run in blocks of 64 (32 when a
  /// kernel row's k·C values are no multiple of 64) read in place from the image, so a kernel
  /// row's offsets must be contiguous (stride-1 patch rows) and its length a multiple of 32;
  /// `channels` is a range of whole blocks of 4.
  ///
  /// - Parameters:
  ///   - sample: the sample of the batch `x` and `dy` hold.
  ///   - offsets: the K patch offsets.
  ///   - rowLength: k·C, the values of one kernel row.
  public static func weightGradientRows(
    _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, patches: ConvolutionPatches,
    sample: Int, channels: Range<Int>, offsets: UnsafePointer<Int>, rowLength: Int, rate: Float?,
    into target: UnsafeMutablePointer<Float>
  ) {
    precondition(rowLength % 32 == 0 && patches.patchSize % rowLength == 0, "rows of 32")
    precondition(channels.lowerBound % 4 == 0 && channels.count % 4 == 0, "channels in fours")
    if rowLength % 64 == 0 {
      weightGradientRows(
        Lanes64.self, x, dy: dy, patches: patches, sample: sample, channels: channels,
        offsets: offsets, rate: rate, into: target)
    } else {
      weightGradientRows(
        Lanes32.self, x, dy: dy, patches: patches, sample: sample, channels: channels,
        offsets: offsets, rate: rate, into: target)
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
        Lanes64.self, x, dy: dy, patches: patches, samples: samples, offsets: offsets,
        first: first, into: out)
    } else {
      weightGradientBlock(
        Lanes32.self, x, dy: dy, patches: patches, samples: samples, offsets: offsets,
        first: first, into: out)
    }
  }

  /// Wᵀ [K, O] rows `rows`, columns `channels` (all by default), from W [O, K] (O a multiple of
  /// 16): whole 16 × 16 blocks transposed in registers, the rows past the last whole block one
  /// value at a time. Called with rows that start on a multiple of 16 and channels in blocks of
  /// 16. svhn-cnn's second convolution (64 × 1,600): 9.3 µs on one core, against 16.8 for the
  /// row-by-row copy.
  public static func transpose(
    _ weight: UnsafePointer<Float>, outputs: Int, patch: Int, rows: Range<Int>,
    channels: Range<Int>? = nil, into transposed: UnsafeMutablePointer<Float>
  ) {
    let channels = channels ?? 0..<outputs
    var o = channels.lowerBound
    while o < channels.upperBound {
      var k = rows.lowerBound
      while k &+ 16 <= rows.upperBound {
        transposeBlock(weight + (o &* patch &+ k), patch, transposed + (k &* outputs &+ o), outputs)
        k &+= 16
      }
      while k < rows.upperBound {
        for i in 0..<16 { transposed[k &* outputs &+ o &+ i] = weight[(o &+ i) &* patch &+ k] }
        k &+= 1
      }
      o &+= 16
    }
  }

  /// The 16 × 16 block at `source` (rows `sourceStride` apart) transposed to `target`: four
  /// rounds of interleaving row i with row i + 8, each moving an element's row and column bits
  /// by one place (a perfect shuffle), so that after four the two have swapped.
  @inline(__always)
  static func transposeBlock(
    _ source: UnsafePointer<Float>, _ sourceStride: Int, _ target: UnsafeMutablePointer<Float>,
    _ targetStride: Int
  ) {
    #if os(Linux)
      // InlineArray keeps the 16 rows in registers (a temporary allocation did not: 25 µs);
      // on Apple platforms it needs macOS 26, and KernelInstructions picks these kernels on
      // Linux only.
      var rows = InlineArray<16, SIMD16<Float>>(repeating: .zero)
      for i in 0..<16 { rows[i] = loadLanes(source + i &* sourceStride) }
      for _ in 0..<4 {
        let previous = rows
        for i in 0..<8 {
          let (a, b) = (previous[i], previous[i &+ 8])
          rows[2 &* i] = SIMD16(
            a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6],
            a[7], b[7])
          rows[2 &* i &+ 1] = SIMD16(
            a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13],
            a[14], b[14], a[15], b[15])
        }
      }
      for i in 0..<16 { storeLanes(rows[i], target + i &* targetStride) }
    #else
      for i in 0..<16 {
        for j in 0..<16 { target[j &* targetStride &+ i] = source[i &* sourceStride &+ j] }
      }
    #endif
  }

  // MARK: - The kernels, for 64 or 32 channels a block

  @inline(__always)
  static func forward<Block: Lanes>(
    _: Block.Type, _ x: UnsafePointer<Float>, patches: ConvolutionPatches, positions: Range<Int>,
    channels: Range<Int>, offsets: UnsafePointer<Int>, transposedWeight wt: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, applyingTanh: Bool, into y: UnsafeMutablePointer<Float>
  ) {
    let (outputs, patch) = (patches.outputChannels, patches.patchSize)
    var position = positions.lowerBound
    while position &+ 6 <= positions.upperBound {
      let (c0, c1) = (patches.corner(x, position), patches.corner(x, position &+ 1))
      let (c2, c3) = (patches.corner(x, position &+ 2), patches.corner(x, position &+ 3))
      let (c4, c5) = (patches.corner(x, position &+ 4), patches.corner(x, position &+ 5))
      var o = channels.lowerBound
      while o < channels.upperBound {
        let b = Block.load(bias + o)
        var (a0, a1, a2, a3, a4, a5) = (b, b, b, b, b, b)
        var w = wt + o
        for k in 0..<patch {
          let weights = Block.load(w)
          let offset = offsets[k]
          Block.addProduct(&a0, c0[offset], weights)
          Block.addProduct(&a1, c1[offset], weights)
          Block.addProduct(&a2, c2[offset], weights)
          Block.addProduct(&a3, c3[offset], weights)
          Block.addProduct(&a4, c4[offset], weights)
          Block.addProduct(&a5, c5[offset], weights)
          w += outputs
        }
        let out = y + (position &* outputs &+ o)
        Block.store(a0, out, tanh: applyingTanh)
        Block.store(a1, out + outputs, tanh: applyingTanh)
        Block.store(a2, out + 2 &* outputs, tanh: applyingTanh)
        Block.store(a3, out + 3 &* outputs, tanh: applyingTanh)
        Block.store(a4, out + 4 &* outputs, tanh: applyingTanh)
        Block.store(a5, out + 5 &* outputs, tanh: applyingTanh)
        o &+= Block.width
      }
      position &+= 6
    }
    while position < positions.upperBound {
      let c = patches.corner(x, position)
      var o = channels.lowerBound
      while o < channels.upperBound {
        var a = Block.load(bias + o)
        for k in 0..<patch {
          Block.addProduct(&a, c[offsets[k]], Block.load(wt + (k &* outputs &+ o)))
        }
        Block.store(a, y + (position &* outputs &+ o), tanh: applyingTanh)
        o &+= Block.width
      }
      position &+= 1
    }
  }

  @inline(__always)
  static func weightGradientBlock<Block: Lanes>(
    _: Block.Type, _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    patches: ConvolutionPatches, samples: Range<Int>, offsets: UnsafePointer<Int>, first: Int,
    into out: UnsafeMutablePointer<Float>
  ) {
    let (outputs, step, positions) = (patches.outputChannels, patches.positionStep, patches.positions)
    let (k0, k1, k2) = (offsets[first], offsets[first &+ 1], offsets[first &+ 2])
    let (k3, k4) = (offsets[first &+ 3], offsets[first &+ 4])
    var o = 0
    while o < outputs {
      var (a0, a1, a2, a3, a4) = (Block.zero, Block.zero, Block.zero, Block.zero, Block.zero)
      for b in samples {
        let image = x + b &* patches.imageSize
        var g = dy + (b &* positions &* outputs &+ o)
        for oh in 0..<patches.outputHeight {
          var p = image + oh &* patches.rowStep
          for _ in 0..<patches.outputWidth {
            let d = Block.load(g)
            Block.addProduct(&a0, p[k0], d)
            Block.addProduct(&a1, p[k1], d)
            Block.addProduct(&a2, p[k2], d)
            Block.addProduct(&a3, p[k3], d)
            Block.addProduct(&a4, p[k4], d)
            p += step
            g += outputs
          }
        }
      }
      let row = out + o
      Block.store(a0, row, tanh: false)
      Block.store(a1, row + outputs, tanh: false)
      Block.store(a2, row + 2 &* outputs, tanh: false)
      Block.store(a3, row + 3 &* outputs, tanh: false)
      Block.store(a4, row + 4 &* outputs, tanh: false)
      o &+= Block.width
    }
  }
}

extension AVX512Convolution {
  /// Tiles of 4 output channels × one block of patch values: ∂y(p, o) broadcast, the block of
  /// x loaded where it lies (a kernel row's values are contiguous), 16 or 8 accumulators.
  @inline(__always)
  static func weightGradientRows<Block: Lanes>(
    _: Block.Type, _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
    patches: ConvolutionPatches, sample: Int, channels: Range<Int>, offsets: UnsafePointer<Int>,
    rate: Float?, into target: UnsafeMutablePointer<Float>
  ) {
    let (outputs, step, patch) = (patches.outputChannels, patches.positionStep, patches.patchSize)
    let image = x + sample &* patches.imageSize
    let gradient = dy + sample &* patches.positions &* outputs
    var o = channels.lowerBound
    while o < channels.upperBound {
      var k = 0
      while k < patch {
        var (a0, a1, a2, a3) = (Block.zero, Block.zero, Block.zero, Block.zero)
        let start = image + offsets[k]
        var g = gradient + o
        for oh in 0..<patches.outputHeight {
          var p = start + oh &* patches.rowStep
          for _ in 0..<patches.outputWidth {
            let v = Block.load(p)
            Block.addProduct(&a0, g[0], v)
            Block.addProduct(&a1, g[1], v)
            Block.addProduct(&a2, g[2], v)
            Block.addProduct(&a3, g[3], v)
            p += step
            g += outputs
          }
        }
        let row = target + (o &* patch &+ k)
        if let rate {
          Block.subtract(a0, times: rate, from: row)
          Block.subtract(a1, times: rate, from: row + patch)
          Block.subtract(a2, times: rate, from: row + 2 &* patch)
          Block.subtract(a3, times: rate, from: row + 3 &* patch)
        } else {
          Block.store(a0, row, tanh: false)
          Block.store(a1, row + patch, tanh: false)
          Block.store(a2, row + 2 &* patch, tanh: false)
          Block.store(a3, row + 3 &* patch, tanh: false)
        }
        k &+= Block.width
      }
      o &+= 4
    }
  }
}

/// The channels one accumulator of a tile holds, 64 (four 512-bit registers) or 32 (two), as a
/// tuple of vectors. The kernels are generic over a protocol with static requirements on a
/// caseless enum per width, not over structs holding the vectors: a 256- or 128-byte struct
/// gets a value-witness table whose `__swift_memcpy256_16` / `__swift_memcpy128_16` helper is
/// shared, at link time, with every other module's struct of that size, and would carry this
/// target's 512-bit moves to callers on any CPU (`AVX512ConfinementTests` caught it).
protocol Lanes {
  associatedtype Vectors
  /// Channels per block.
  static var width: Int { get }
  static var zero: Vectors { get }
  /// `width` floats from `pointer`.
  static func load(_ pointer: UnsafePointer<Float>) -> Vectors
  /// a += v · w, lane by lane (fused).
  static func addProduct(_ a: inout Vectors, _ v: Float, _ w: Vectors)
  /// Writes the lanes (tanh of them with `tanh`) to `pointer`.
  static func store(_ a: Vectors, _ pointer: UnsafeMutablePointer<Float>, tanh: Bool)
  /// pointer[i] = pointer[i] + (−rate) · a[i], fused: an SGD step.
  static func subtract(_ a: Vectors, times rate: Float, from pointer: UnsafeMutablePointer<Float>)
}

enum Lanes64: Lanes {
  typealias Vectors = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

  static var width: Int { @inline(__always) get { 64 } }

  static var zero: Vectors { @inline(__always) get { (.zero, .zero, .zero, .zero) } }

  @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vectors {
    (loadLanes(p), loadLanes(p + 16), loadLanes(p + 32), loadLanes(p + 48))
  }

  @inline(__always) static func addProduct(_ a: inout Vectors, _ v: Float, _ w: Vectors) {
    a.0 = a.0.addingProduct(v, w.0)
    a.1 = a.1.addingProduct(v, w.1)
    a.2 = a.2.addingProduct(v, w.2)
    a.3 = a.3.addingProduct(v, w.3)
  }

  @inline(__always) static func store(_ a: Vectors, _ p: UnsafeMutablePointer<Float>, tanh: Bool) {
    storeLanes(tanh ? fastTanh(a.0) : a.0, p)
    storeLanes(tanh ? fastTanh(a.1) : a.1, p + 16)
    storeLanes(tanh ? fastTanh(a.2) : a.2, p + 32)
    storeLanes(tanh ? fastTanh(a.3) : a.3, p + 48)
  }

  @inline(__always)
  static func subtract(_ a: Vectors, times rate: Float, from p: UnsafeMutablePointer<Float>) {
    storeLanes(loadLanes(p).addingProduct(-rate, a.0), p)
    storeLanes(loadLanes(p + 16).addingProduct(-rate, a.1), p + 16)
    storeLanes(loadLanes(p + 32).addingProduct(-rate, a.2), p + 32)
    storeLanes(loadLanes(p + 48).addingProduct(-rate, a.3), p + 48)
  }
}

enum Lanes32: Lanes {
  typealias Vectors = (SIMD16<Float>, SIMD16<Float>)

  static var width: Int { @inline(__always) get { 32 } }

  static var zero: Vectors { @inline(__always) get { (.zero, .zero) } }

  @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vectors {
    (loadLanes(p), loadLanes(p + 16))
  }

  @inline(__always) static func addProduct(_ a: inout Vectors, _ v: Float, _ w: Vectors) {
    a.0 = a.0.addingProduct(v, w.0)
    a.1 = a.1.addingProduct(v, w.1)
  }

  @inline(__always) static func store(_ a: Vectors, _ p: UnsafeMutablePointer<Float>, tanh: Bool) {
    storeLanes(tanh ? fastTanh(a.0) : a.0, p)
    storeLanes(tanh ? fastTanh(a.1) : a.1, p + 16)
  }

  @inline(__always)
  static func subtract(_ a: Vectors, times rate: Float, from p: UnsafeMutablePointer<Float>) {
    storeLanes(loadLanes(p).addingProduct(-rate, a.0), p)
    storeLanes(loadLanes(p + 16).addingProduct(-rate, a.1), p + 16)
  }
}
