import Foundation

extension ESNForecaster {
  /// Hyper-parameters (names as in ``Reservoir`` and ``Ridge``).
  public struct Configuration: Codable, Sendable, Equatable {
    /// Neurons in the reservoir.
    public var units = 300
    /// Leak rate α in (0, 1]: the share of the new state in each update.
    public var leakRate = 0.3
    /// Spectral radius the recurrent weights are scaled to.
    public var spectralRadius = 0.9
    /// Scale of the input weights.
    public var inputScaling = 1.0
    /// Scale of the reservoir biases.
    public var biasScaling = 0.5
    /// Fraction of non-zero input weights, in (0, 1].
    public var inputConnectivity = 1.0
    /// Fraction of non-zero recurrent weights, in (0, 1].
    public var recurrentConnectivity = 0.1
    /// Seed of the reservoir's random weights.
    public var seed: UInt64 = 0
    /// nil: choose on validation data.
    public var ridge: Double? = nil
    /// Whether the read-out also sees the input u[t] beside the state.
    public var inputToReadout = true
    /// Whether the read-out learns u[t+h] − u[t] instead of u[t+h] (see the type).
    public var predictDifferences = true
    /// What the reservoir reads; nil: chosen on validation data.
    public var inputMode: InputMode? = nil
    /// Standard deviation of the Gaussian noise added to the teacher-forced reservoir inputs (and
    /// the inputs the read-out sees) while fitting, in scaled units: Jaeger's regulariser, which
    /// makes the read-out robust to its own errors once its forecasts are fed back. 0: none;
    /// nil: chosen on validation data from ``ESNForecaster/noiseGrid``.
    public var inputNoise: Double? = 0
    /// How the unfixed settings (ridge, input mode, noise) are chosen: 1 (default) by the RMSE of
    /// the `horizon`-step forecasts on the validation origins; k > 1 by the RMSE of k-step free runs
    /// from (at most 50 of) them, the model's forecasts fed back — for free-running use.
    public var selectionSteps = 1
    /// Whether the read-out is refitted on training and validation rows once the settings are
    /// chosen (default), or kept as fitted on the training rows.
    public var refit = true

    /// The defaults above: 300 units, leak rate 0.3, spectral radius 0.9, ridge and input mode chosen on validation data.
    public init() {}

    private enum CodingKeys: String, CodingKey {
      case units, leakRate, spectralRadius, inputScaling, biasScaling, inputConnectivity, recurrentConnectivity, seed, ridge
      case inputToReadout, predictDifferences, inputMode, inputNoise, selectionSteps, refit
    }

    /// Decodes a stored configuration; settings added later (noise, selection steps, refit) take
    /// the values older checkpoints were fitted with when absent.
    public init(from decoder: Decoder) throws {
      let k = try decoder.container(keyedBy: CodingKeys.self)
      units = try k.decode(Int.self, forKey: .units)
      leakRate = try k.decode(Double.self, forKey: .leakRate)
      spectralRadius = try k.decode(Double.self, forKey: .spectralRadius)
      inputScaling = try k.decode(Double.self, forKey: .inputScaling)
      biasScaling = try k.decode(Double.self, forKey: .biasScaling)
      inputConnectivity = try k.decode(Double.self, forKey: .inputConnectivity)
      recurrentConnectivity = try k.decode(Double.self, forKey: .recurrentConnectivity)
      seed = try k.decode(UInt64.self, forKey: .seed)
      ridge = try k.decodeIfPresent(Double.self, forKey: .ridge)
      inputToReadout = try k.decode(Bool.self, forKey: .inputToReadout)
      predictDifferences = try k.decode(Bool.self, forKey: .predictDifferences)
      inputMode = try k.decodeIfPresent(InputMode.self, forKey: .inputMode)
      inputNoise = k.contains(.inputNoise) ? try k.decodeIfPresent(Double.self, forKey: .inputNoise) : 0
      selectionSteps = try k.decodeIfPresent(Int.self, forKey: .selectionSteps) ?? 1
      refit = try k.decodeIfPresent(Bool.self, forKey: .refit) ?? true
    }

    /// Encodes every setting; an unset input noise (chosen on validation data) as null.
    public func encode(to encoder: Encoder) throws {
      var k = encoder.container(keyedBy: CodingKeys.self)
      try k.encode(units, forKey: .units)
      try k.encode(leakRate, forKey: .leakRate)
      try k.encode(spectralRadius, forKey: .spectralRadius)
      try k.encode(inputScaling, forKey: .inputScaling)
      try k.encode(biasScaling, forKey: .biasScaling)
      try k.encode(inputConnectivity, forKey: .inputConnectivity)
      try k.encode(recurrentConnectivity, forKey: .recurrentConnectivity)
      try k.encode(seed, forKey: .seed)
      try k.encodeIfPresent(ridge, forKey: .ridge)
      try k.encode(inputToReadout, forKey: .inputToReadout)
      try k.encode(predictDifferences, forKey: .predictDifferences)
      try k.encodeIfPresent(inputMode, forKey: .inputMode)
      try k.encode(inputNoise, forKey: .inputNoise)
      try k.encode(selectionSteps, forKey: .selectionSteps)
      try k.encode(refit, forKey: .refit)
    }
  }
}
