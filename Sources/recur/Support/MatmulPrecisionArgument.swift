import ArgumentParser
import Recur

extension Kernels.MatmulPrecision: ExpressibleByArgument {}

/// `--matmul-precision highest|medium` for a training command, with that command's default
/// (`Defaults.matmulPrecision`). Absent: nil, so a resumed run keeps its checkpoint's precision.
struct MatmulPrecisionOptions<Defaults: TrainingOptionDefaults>: ParsableArguments {
  @Option(name: .customLong("matmul-precision"),
          help: ArgumentHelp("medium: bfloat16 products summed in float32 where the CPU has AVX512_BF16 (faster steps, the same loss per step), "
                             + "float32 elsewhere; highest: float32 products (default \(Defaults.matmulPrecision.rawValue)).",
                             valueName: "highest|medium"))
  var matmulPrecision: String?

  /// The flag's precision, nil when it is not given. Throws a one-line error for an unknown name.
  func parsed() throws -> Kernels.MatmulPrecision? {
    guard let name = matmulPrecision else { return nil }
    guard let precision = Kernels.MatmulPrecision(rawValue: name.lowercased()) else {
      throw CLIError("unknown --matmul-precision \"\(name)\"; use highest or medium")
    }
    return precision
  }
}
