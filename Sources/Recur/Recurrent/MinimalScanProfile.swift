import CRecurKernels

/// The two phases of a minGRU/minLSTM layer besides its GEMMs, on buffers of one shape, for
/// benchmarks (`recur bench rnn` prints their times): the pointwise gates (forward, and the gate
/// gradients of the backward) and the scan (the forward recurrence and the reverse one).
public final class MinimalScanProfile {
  let kind: MinimalRecurrentKind
  let T: Int32, B: Int32, H: Int32
  let pre, a, h, h0, dh, carry, dpre, dh0: Tensor

  /// Buffers for `steps` × `batch` × `hiddenSize`, with seeded random pre-activations.
  public init(kind: MinimalRecurrentKind, steps: Int, batch: Int, hiddenSize: Int) {
    self.kind = kind
    (T, B, H) = (Int32(steps), Int32(batch), Int32(hiddenSize))
    var g = RandomGenerator(seed: 3)
    pre = .normal([steps, batch, kind.gateCount * hiddenSize], generator: &g)
    dh = .normal([steps, batch, hiddenSize], generator: &g)
    (a, h, carry) = (.zeros([steps, batch, hiddenSize]), .zeros([steps, batch, hiddenSize]), .zeros([steps, batch, hiddenSize]))
    (h0, dh0, dpre) = (.zeros([batch, hiddenSize]), .zeros([batch, hiddenSize]), .zeros(pre.shape))
  }

  /// The forward gates and the gate gradients of the backward.
  public func gates() {
    recur_min_scan_gates(kind.kernelKind, T, B, H, pre.storage.pointer, a.storage.pointer, h.storage.pointer)
    recur_min_scan_gate_gradients(kind.kernelKind, T, B, H, pre.storage.pointer, h0.storage.pointer, h.storage.pointer,
                                  carry.storage.pointer, dpre.storage.pointer)
  }

  /// The forward recurrence and the reverse one.
  public func scan() {
    recur_min_scan_linear(T, B, H, a.storage.pointer, h0.storage.pointer, h.storage.pointer)
    recur_min_scan_linear_reverse(T, B, H, a.storage.pointer, dh.storage.pointer, carry.storage.pointer, dh0.storage.pointer)
  }
}
