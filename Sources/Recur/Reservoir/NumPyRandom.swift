/// The bit generator behind `numpy.random.default_rng(seed)`: `SeedSequence` entropy mixing feeding a
/// PCG64 (XSL-RR 128/64) generator, and `Generator.random()` doubles.
///
/// Only what reproducing ReservoirPy's data sets needs (its Mackey-Glass history is
/// `default_rng(seed).random(n)`), bit for bit. Reservoir weights use the package's own
/// ``RandomGenerator``; this type is not a general-purpose generator.
struct NumPyRandom {
  /// PCG64 state and increment (128-bit, as high/low words).
  private var stateHigh: UInt64, stateLow: UInt64
  private let incHigh: UInt64, incLow: UInt64

  private static let multiplierHigh: UInt64 = 0x2360_ED05_1FC6_5DA4
  private static let multiplierLow: UInt64 = 0x4385_DF64_9FCC_F645

  /// The generator `numpy.random.default_rng(seed)` creates.
  init(seed: UInt64) {
    let words = NumPyRandom.seedSequenceState(entropy: seed, words64: 4)
    // pcg64_set_seed(state, seed = words[0..1], inc = words[2..3]); each 128-bit value is (high, low).
    let initHigh = words[0], initLow = words[1]
    let seqHigh = words[2], seqLow = words[3]
    // inc = (initseq << 1) | 1
    incHigh = (seqHigh << 1) | (seqLow >> 63)
    incLow = (seqLow << 1) | 1
    stateHigh = 0
    stateLow = 0
    step()
    let (low, carry) = stateLow.addingReportingOverflow(initLow)
    stateLow = low
    stateHigh = stateHigh &+ initHigh &+ (carry ? 1 : 0)
    step()
  }

  /// state = state * multiplier + increment (mod 2^128).
  private mutating func step() {
    let lowProduct = stateLow.multipliedFullWidth(by: NumPyRandom.multiplierLow)
    var high = lowProduct.high
    high = high &+ stateHigh &* NumPyRandom.multiplierLow
    high = high &+ stateLow &* NumPyRandom.multiplierHigh
    let (low, carry) = lowProduct.low.addingReportingOverflow(incLow)
    stateLow = low
    stateHigh = high &+ incHigh &+ (carry ? 1 : 0)
  }

  /// The next 64-bit output (step, then XSL-RR output of the new state).
  mutating func nextUInt64() -> UInt64 {
    step()
    let value = stateHigh ^ stateLow
    let rotation = stateHigh >> 58
    return (value >> rotation) | (value << ((64 - rotation) & 63))
  }

  /// `Generator.random()`: uniform in [0, 1) with 53 random bits.
  mutating func nextDouble() -> Double {
    Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
  }

  // MARK: - SeedSequence

  /// `SeedSequence(entropy).generate_state(words64, np.uint64)` for a non-negative integer entropy
  /// and no spawn key.
  static func seedSequenceState(entropy: UInt64, words64: Int) -> [UInt64] {
    let initA: UInt32 = 0x43B0_D7E5, multA: UInt32 = 0x931E_8875
    let initB: UInt32 = 0x8B51_F9DD, multB: UInt32 = 0x58F3_8DED
    let mixMultL: UInt32 = 0xCA01_F9DD, mixMultR: UInt32 = 0x4973_F715
    let poolSize = 4

    // The integer as little-endian 32-bit words (0 is one word).
    var entropyWords: [UInt32] = []
    var e = entropy
    repeat {
      entropyWords.append(UInt32(truncatingIfNeeded: e))
      e >>= 32
    } while e != 0

    var hashConst = initA
    func hashmix(_ value: UInt32) -> UInt32 {
      var v = value ^ hashConst
      hashConst = hashConst &* multA
      v = v &* hashConst
      v ^= v >> 16
      return v
    }
    func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
      var r = (mixMultL &* x) &- (mixMultR &* y)
      r ^= r >> 16
      return r
    }

    var pool = [UInt32](repeating: 0, count: poolSize)
    for i in 0..<poolSize {
      pool[i] = hashmix(i < entropyWords.count ? entropyWords[i] : 0)
    }
    for src in 0..<poolSize {
      for dst in 0..<poolSize where src != dst {
        pool[dst] = mix(pool[dst], hashmix(pool[src]))
      }
    }
    if entropyWords.count > poolSize {
      for src in poolSize..<entropyWords.count {
        for dst in 0..<poolSize {
          pool[dst] = mix(pool[dst], hashmix(entropyWords[src]))
        }
      }
    }

    var hashB = initB
    var words32: [UInt32] = []
    for i in 0..<(2 * words64) {
      var v = pool[i % poolSize]
      v ^= hashB
      hashB = hashB &* multB
      v = v &* hashB
      v ^= v >> 16
      words32.append(v)
    }
    return (0..<words64).map { UInt64(words32[2 * $0]) | (UInt64(words32[2 * $0 + 1]) << 32) }
  }
}
