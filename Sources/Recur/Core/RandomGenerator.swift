/// A seeded, fast, reproducible random number generator (xoshiro256**), with a state that can be
/// saved in a checkpoint and restored bit-for-bit.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
  /// The four 64-bit words of state.
  public var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator seeded by splitmix64 expansion of `seed`.
  public init(seed: UInt64) {
    var s = seed
    func splitmix() -> UInt64 {
      s &+= 0x9E37_79B9_7F4A_7C15
      var z = s
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  /// Restores a generator from saved state words.
  public init(state words: [UInt64]) {
    precondition(words.count == 4, "RandomGenerator state has 4 words")
    state = (words[0], words[1], words[2], words[3])
  }

  /// The state as four words (for checkpoints).
  public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

  /// The next 64 random bits (one xoshiro256** step).
  public mutating func next() -> UInt64 {
    let result = rotl(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotl(state.3, 45)
    return result
  }

  @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// Uniform in [0, 1) with 24 bits of precision.
  public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// Uniform in [0, 1) with 53 bits of precision.
  public mutating func nextUniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

  /// Standard normal (Box–Muller).
  public mutating func nextNormal() -> Float {
    let u1 = max(nextUniformDouble(), 1e-300)
    let u2 = nextUniformDouble()
    return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
  }

  /// Two generators are equal when their states are: they will produce the same stream.
  public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.stateWords == b.stateWords }
}

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Foundation

extension Tensor {
  /// Uniform in [low, high).
  public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator) -> Tensor {
    var t = Tensor(uninitializedShape: shape)
    t.withUnsafeMutableBufferPointer { buf in
      for i in buf.indices { buf[i] = low + (high - low) * generator.nextUniform() }
    }
    return t
  }

  /// Normal with the given mean and standard deviation.
  public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout RandomGenerator) -> Tensor {
    var t = Tensor(uninitializedShape: shape)
    t.withUnsafeMutableBufferPointer { buf in
      for i in buf.indices { buf[i] = mean + std * generator.nextNormal() }
    }
    return t
  }
}
