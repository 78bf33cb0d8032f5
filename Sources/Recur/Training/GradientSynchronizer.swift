/// The one place a data-parallel step's gradients are combined: every process's gradients go into
/// one flat buffer, weighted by the items of its part of the batch, and one sum all-reduce makes
/// the buffer on every process the gradient of the mean loss over the whole global batch — what a
/// single process would have computed on it. The same reduction carries the loss and item counts.
///
/// The buffer is laid out last parameter first (the output layer's gradient is complete first in
/// backward) and reduced in buckets of `bucketSize` floats (4 MB; `recur bench allreduce --bucket`
/// compares sizes). The reduction does not overlap backward: a recurrent stack is one node of the
/// tape, whose backward finishes all its layers' gradients together, so only the small output
/// layer's bucket could start early.
public final class GradientSynchronizer {
  /// Floats per all-reduce call: 1 Mi (4 MB).
  public static let defaultBucketSize = 1 << 20

  let group: ProcessGroup
  let bucketSize = GradientSynchronizer.defaultBucketSize
  let parameters: [Parameter]
  /// Gradients (weighted), then one has-gradient flag per parameter, then loss·items and items.
  private var buffer: [Float]

  init(group: ProcessGroup, parameters: [Parameter]) {
    self.group = group
    self.parameters = parameters.reversed()
    buffer = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.count } + parameters.count + 2)
  }

  /// Replaces each gradient by the item-weighted mean over the processes (a parameter that got no
  /// gradient on any process keeps none) and returns the mean loss and the items of the global batch.
  func average(loss: Float, items: Int) throws -> (loss: Float, items: Int) {
    let weight = Float(items)
    var offset = 0
    buffer.withUnsafeMutableBufferPointer { b in
      for p in parameters {
        if let g = p.grad {
          g.withUnsafeBufferPointer { g in for i in 0..<g.count { b[offset + i] = g[i] * weight } }
        } else {
          for i in 0..<p.count { b[offset + i] = 0 }
        }
        offset += p.count
      }
      for (k, p) in parameters.enumerated() { b[offset + k] = p.grad == nil ? 0 : 1 }
      b[b.count - 2] = loss * weight
      b[b.count - 1] = weight
    }
    try group.allReduceSum(&buffer, bucketSize: bucketSize)
    let total = buffer[buffer.count - 1], flags = offset
    offset = 0
    buffer.withUnsafeBufferPointer { b in
      for (k, p) in parameters.enumerated() {
        defer { offset += p.count }
        guard b[flags + k] > 0 else { p.grad = nil; continue }
        var values = [Float](repeating: 0, count: p.count)
        for i in 0..<p.count { values[i] = b[offset + i] / total }
        p.grad = Tensor(shape: p.shape, scalars: values)
      }
    }
    return (buffer[buffer.count - 2] / total, Int(total))
  }
}
