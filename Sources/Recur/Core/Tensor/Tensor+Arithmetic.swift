import Foundation

// MARK: - Binary arithmetic with broadcasting

extension Tensor {
  /// Elementwise `self + other` without recording (same shape).
  func adding(_ other: Tensor) -> Tensor {
    precondition(shape == other.shape, "adding: shapes \(shape) and \(other.shape) differ")
    var out = Tensor(uninitializedShape: shape)
    let a = storage.pointer, b = other.storage.pointer
    out.withUnsafeMutableBufferPointer { o in for i in 0..<count { o[i] = a[i] + b[i] } }
    return out
  }

  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "+", +)
    return record(out, op: "add", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? g.sumToShape(lhs.shape) : nil, rhs.requiresGrad ? g.sumToShape(rhs.shape) : nil]
    }
  }

  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "-", -)
    return record(out, op: "sub", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? g.sumToShape(lhs.shape) : nil, rhs.requiresGrad ? g.map { -$0 }.sumToShape(rhs.shape) : nil]
    }
  }

  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "*", *)
    return record(out, op: "mul", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? broadcastMap(g, rhs, "*", *).sumToShape(lhs.shape) : nil,
       rhs.requiresGrad ? broadcastMap(g, lhs, "*", *).sumToShape(rhs.shape) : nil]
    }
  }

  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "/", /)
    return record(out, op: "div", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? broadcastMap(g, rhs, "/", /).sumToShape(lhs.shape) : nil,
       rhs.requiresGrad
         ? broadcastMap(broadcastMap(g, out, "*", *), rhs, "/", { -$0 / $1 }).sumToShape(rhs.shape) : nil]
    }
  }

  public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs + Tensor(scalar: rhs) }
  public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs - Tensor(scalar: rhs) }
  public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs * Tensor(scalar: rhs) }
  public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs / Tensor(scalar: rhs) }
  public static func + (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) + rhs }
  public static func - (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) - rhs }
  public static func * (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) * rhs }
  public static func / (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) / rhs }
  public static prefix func - (x: Tensor) -> Tensor { x * -1 }
}

// MARK: - Unary functions

extension Tensor {
  /// Applies `f` elementwise without recording.
  public func map(_ f: (Float) -> Float) -> Tensor {
    var out = Tensor(uninitializedShape: shape)
    let p = storage.pointer
    out.withUnsafeMutableBufferPointer { o in for i in 0..<count { o[i] = f(p[i]) } }
    return out
  }

  /// Elementwise op whose derivative is expressed through input `x` and output `y`.
  func unary(_ op: String, _ f: (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    let out = map(f)
    let input = self
    return Tensor.record(out, op: op, inputs: [self]) { g in
      var dx = Tensor(uninitializedShape: input.shape)
      let pg = g.storage.pointer, px = input.storage.pointer, py = out.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in for i in 0..<d.count { d[i] = pg[i] * derivative(px[i], py[i]) } }
      return [dx]
    }
  }

  public func exp() -> Tensor { unary("exp", Foundation.exp, derivative: { _, y in y }) }
  public func log() -> Tensor { unary("log", Foundation.log, derivative: { x, _ in 1 / x }) }
  public func tanh() -> Tensor { unary("tanh", Foundation.tanh, derivative: { _, y in 1 - y * y }) }
  public func sigmoid() -> Tensor {
    unary("sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, derivative: { _, y in y * (1 - y) })
  }
  public func relu() -> Tensor { unary("relu", { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
  public func sqrt() -> Tensor { unary("sqrt", Foundation.sqrt, derivative: { _, y in 0.5 / y }) }
  public func squared() -> Tensor { unary("square", { $0 * $0 }, derivative: { x, _ in 2 * x }) }
  public func abs() -> Tensor { unary("abs", Swift.abs, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
  public func pow(_ p: Float) -> Tensor {
    unary("pow", { Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
  }
  /// Clamps to [low, high]; the gradient is 1 inside the range and 0 outside.
  public func clamped(min low: Float, max high: Float) -> Tensor {
    unary("clamp", { Swift.min(Swift.max($0, low), high) }, derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
  }
}
