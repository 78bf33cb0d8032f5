import Foundation
import CRecurKernels

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

  /// Elementwise sum with NumPy broadcasting; the gradient is summed back to each operand's shape.
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "+", +)
    return record(out, op: "add", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? g.sumToShape(lhs.shape) : nil, rhs.requiresGrad ? g.sumToShape(rhs.shape) : nil]
    }
  }

  /// Elementwise difference with NumPy broadcasting; differentiable in both operands.
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "-", -)
    return record(out, op: "sub", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? g.sumToShape(lhs.shape) : nil, rhs.requiresGrad ? g.map { -$0 }.sumToShape(rhs.shape) : nil]
    }
  }

  /// Elementwise product with NumPy broadcasting; differentiable in both operands.
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "*", *)
    return record(out, op: "mul", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? broadcastMap(g, rhs, "*", *).sumToShape(lhs.shape) : nil,
       rhs.requiresGrad ? broadcastMap(g, lhs, "*", *).sumToShape(rhs.shape) : nil]
    }
  }

  /// Elementwise quotient with NumPy broadcasting; differentiable in both operands.
  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = broadcastMap(lhs, rhs, "/", /)
    return record(out, op: "div", inputs: [lhs, rhs]) { g in
      [lhs.requiresGrad ? broadcastMap(g, rhs, "/", /).sumToShape(lhs.shape) : nil,
       rhs.requiresGrad
         ? broadcastMap(broadcastMap(g, out, "*", *), rhs, "/", { -$0 / $1 }).sumToShape(rhs.shape) : nil]
    }
  }

  /// Adds a scalar to every element.
  public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs + Tensor(scalar: rhs) }
  /// Subtracts a scalar from every element.
  public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs - Tensor(scalar: rhs) }
  /// Multiplies every element by a scalar.
  public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs * Tensor(scalar: rhs) }
  /// Divides every element by a scalar.
  public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs / Tensor(scalar: rhs) }
  /// Adds every element to a scalar.
  public static func + (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) + rhs }
  /// Subtracts every element from a scalar.
  public static func - (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) - rhs }
  /// Multiplies a scalar by every element.
  public static func * (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) * rhs }
  /// Divides a scalar by every element.
  public static func / (lhs: Float, rhs: Tensor) -> Tensor { Tensor(scalar: lhs) / rhs }
  /// Negates every element.
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
    recordUnary(op, map(f), derivative: derivative)
  }

  /// Elementwise op computed by a vectorised C kernel (`kernel(x, y, n)`), derivative as in `unary`.
  func unary(_ op: String, kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
             derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    var out = Tensor(uninitializedShape: shape)
    let p = storage.pointer
    out.withUnsafeMutableBufferPointer { o in if let base = o.baseAddress, o.count > 0 { kernel(p, base, o.count) } }
    return recordUnary(op, out, derivative: derivative)
  }

  private func recordUnary(_ op: String, _ out: Tensor, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    let input = self
    return Tensor.record(out, op: op, inputs: [self]) { g in
      var dx = Tensor(uninitializedShape: input.shape)
      let pg = g.storage.pointer, px = input.storage.pointer, py = out.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in for i in 0..<d.count { d[i] = pg[i] * derivative(px[i], py[i]) } }
      return [dx]
    }
  }

  /// Elementwise eˣ (differentiable).
  public func exp() -> Tensor { unary("exp", kernel: { recur_vexp($0, $1, $2) }, derivative: { _, y in y }) }
  /// Elementwise natural logarithm (differentiable).
  public func log() -> Tensor { unary("log", Foundation.log, derivative: { x, _ in 1 / x }) }
  /// Elementwise hyperbolic tangent (differentiable).
  public func tanh() -> Tensor { unary("tanh", kernel: { recur_vtanh($0, $1, $2) }, derivative: { _, y in 1 - y * y }) }
  /// Elementwise logistic sigmoid 1 / (1 + e⁻ˣ) (differentiable).
  public func sigmoid() -> Tensor {
    unary("sigmoid", kernel: { recur_vsigmoid($0, $1, $2) }, derivative: { _, y in y * (1 - y) })
  }
  /// Elementwise max(x, 0); the gradient is 1 where x > 0 and 0 elsewhere.
  public func relu() -> Tensor { unary("relu", { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
  /// Elementwise square root (differentiable).
  public func sqrt() -> Tensor { unary("sqrt", Foundation.sqrt, derivative: { _, y in 0.5 / y }) }
  /// Elementwise x² (differentiable).
  public func squared() -> Tensor { unary("square", { $0 * $0 }, derivative: { x, _ in 2 * x }) }
  /// Elementwise absolute value; the gradient is the sign of x (0 at 0).
  public func abs() -> Tensor { unary("abs", Swift.abs, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
  /// Elementwise xᵖ for a constant exponent `p` (differentiable in x).
  public func pow(_ p: Float) -> Tensor {
    unary("pow", { Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
  }
  /// Clamps to [low, high]; the gradient is 1 inside the range and 0 outside.
  public func clamped(min low: Float, max high: Float) -> Tensor {
    unary("clamp", { Swift.min(Swift.max($0, low), high) }, derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
  }
}
