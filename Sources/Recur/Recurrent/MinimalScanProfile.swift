import CRecurKernels

/// The three phases of a minGRU/minLSTM layer's training step, on buffers of one shape, for
/// benchmarks (`recur bench rnn` prints their times): the GEMMs (the input projection and the two
/// products of its backward), the pointwise gates (forward, and the gate gradients of the
/// backward) and the scan (the forward recurrence and the reverse one).
public final class MinimalScanProfile {
  let kind: MinimalRecurrentKind
  let T: Int32, B: Int32, H: Int32, inputSize: Int32
  let x, w, dx, dw, pre, a, h, h0, dh, carry, dpre, dh0: Tensor

  /// Buffers for `steps` × `batch` × `hiddenSize` from `inputSize` inputs, seeded random values.
  public init(kind: MinimalRecurrentKind, steps: Int, batch: Int, inputSize: Int, hiddenSize: Int) {
    self.kind = kind
    (T, B, H, self.inputSize) = (Int32(steps), Int32(batch), Int32(hiddenSize), Int32(inputSize))
    var g = RandomGenerator(seed: 3)
    let width = kind.gateCount * hiddenSize
    x = .normal([steps * batch, inputSize], generator: &g)
    w = .normal([width, inputSize], std: 0.05, generator: &g)
    (dx, dw) = (.zeros(x.shape), .zeros(w.shape))
    pre = .normal([steps, batch, width], generator: &g)
    dh = .normal([steps, batch, hiddenSize], generator: &g)
    (a, h, carry) = (.zeros([steps, batch, hiddenSize]), .zeros([steps, batch, hiddenSize]), .zeros([steps, batch, hiddenSize]))
    (h0, dh0, dpre) = (.zeros([batch, hiddenSize]), .zeros([batch, hiddenSize]), .zeros(pre.shape))
  }

  /// pre = x·Wᵀ, dx = dpre·W, dW = dpreᵀ·x: the layer's three matrix products.
  public func gemms() {
    let rows = T * B, width = Int32(kind.gateCount) * H
    recur_sgemm(0, 1, rows, width, inputSize, 1, x.storage.pointer, inputSize, w.storage.pointer, inputSize, 0, pre.storage.pointer, width)
    recur_sgemm(0, 0, rows, inputSize, width, 1, pre.storage.pointer, width, w.storage.pointer, inputSize, 0, dx.storage.pointer, inputSize)
    recur_sgemm(1, 0, width, inputSize, rows, 1, pre.storage.pointer, width, x.storage.pointer, inputSize, 0, dw.storage.pointer, inputSize)
  }

  /// The forward gates and the gate gradients of the backward.
  public func gates() {
    recur_min_scan_gates(kind.kernelKind, T, B, H, pre.storage.pointer, a.storage.pointer, h.storage.pointer)
    recur_min_scan_gate_gradients(kind.kernelKind, T, B, H, pre.storage.pointer, a.storage.pointer, h0.storage.pointer,
                                  h.storage.pointer, carry.storage.pointer, dpre.storage.pointer)
  }

  /// The forward recurrence and the reverse one.
  public func scan() {
    recur_min_scan_linear(T, B, H, a.storage.pointer, h0.storage.pointer, h.storage.pointer)
    recur_min_scan_linear_reverse(T, B, H, a.storage.pointer, dh.storage.pointer, carry.storage.pointer, dh0.storage.pointer)
  }
}
