import ArgumentParser
import Foundation
import Recur

/// What a command that trains a recurrent model tells the shared option groups
/// (``RecurrentModelOptions``, ``OptimizationOptions``): its defaults, and the words its help uses
/// for what the flags mean in its model.
protocol TrainingOptionDefaults {
  static var hiddenSize: Int { get }
  static var numLayers: Int { get }
  static var dropout: Float { get }
  static var batchSize: Int { get }
  static var learningRate: Float { get }
  static var gradClip: Float { get }
  /// Where the model applies dropout, e.g. "between layers and on the last output".
  static var dropoutPlacement: String { get }
  /// What a batch is, e.g. "parallel streams per step".
  static var batchMeaning: String { get }
  /// Which learning rate the flag sets, e.g. "peak learning rate".
  static var learningRateMeaning: String { get }
  /// The models the flags apply to when the command has others too (e.g. "LSTM/GRU"), else nil.
  static var scope: String? { get }
  /// The matrix-product precision when `--matmul-precision` is not given.
  static var matmulPrecision: Kernels.MatmulPrecision { get }
  /// The decay of the weight average when `--ema-decay` is not given (nil: no average).
  static var emaDecay: Float? { get }
}

extension TrainingOptionDefaults {
  static var scope: String? { nil }
  static var matmulPrecision: Kernels.MatmulPrecision { .highest }
  static var emaDecay: Float? { nil }

  /// `text` as a help line: after "scope: ", or capitalised.
  static func help(_ text: String) -> ArgumentHelp {
    ArgumentHelp(scope.map { "\($0): \(text)" } ?? text.prefix(1).uppercased() + text.dropFirst())
  }

  /// A default as help shows it: 0.002, 5, 0.25.
  static func shown(_ value: Float) -> String { String(format: "%g", Double(value)) }
}
