import ArgumentParser
import Foundation
import Recur

/// `recur bench allreduce`: the sum all-reduce of a data-parallel step, between the processes of
/// an MPI launch.
struct BenchAllReduce: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "allreduce",
    abstract: "Time the gradient all-reduce between processes (run it under mpirun -np N).",
    discussion: """
      Sums float32 buffers over the processes of an MPI launch (mpirun -np 2 recur bench allreduce), \
      as a data-parallel training step does with its gradients: buffers of 1 Ki, 64 Ki and 1 Mi \
      floats and the gradient of a character LSTM language model of --lm-layers × --lm-hidden (vocabulary 75, \
      embedding 64). Prints the median time, the algorithm bandwidth (bytes / time) and the bus \
      bandwidth 2(N−1)/N × bytes / time, what a ring all-reduce moves over each link.
      """
  )

  @Option(help: "Recurrent layers of the language model whose gradient is reduced.") var lmLayers = 2
  @Option(help: "Hidden units of that model.") var lmHidden = 512
  @Option(help: "Floats per all-reduce call (the trainer's bucket); 0: the whole buffer in one call.") var bucket = GradientSynchronizer.defaultBucketSize
  @Option(help: "Timed repetitions per size (after one warm-up); the median is reported.") var repeats = 21
  @Flag(help: "Print JSON instead of a table.") var json = false

  func validate() throws {
    try BenchLimits.check(repeats: repeats)
    guard bucket >= 0 else { throw ValidationError("--bucket must be at least 0 (0: one call), got \(bucket)") }
    guard lmLayers >= 1, lmHidden >= 1, lmLayers <= 64, lmHidden <= 16384 else {
      throw ValidationError("--lm-layers must be in 1...64 and --lm-hidden in 1...16384, got \(lmLayers) and \(lmHidden)")
    }
  }

  func run() throws {
    try reportingErrors {
      let group = try ProcessGroup.world()
      let model = CharLM.Configuration(vocabularySize: 75, embeddingSize: 64, hiddenSize: lmHidden, numLayers: lmLayers)
      let lmFloats = model.parameterCount.total ?? 0
      let sizes: [(String, Int)] = [("1 Ki floats", 1 << 10), ("64 Ki floats", 1 << 16), ("1 Mi floats", 1 << 20),
                                    ("char LM \(lmLayers)×\(lmHidden) gradient", lmFloats)]
      var rows: [(name: String, floats: Int, ms: Double)] = []
      for (name, floats) in sizes {
        var buffer = [Float](repeating: 1, count: floats)
        try group.barrier()
        let ms = try medianMilliseconds(repeats: repeats) {
          try group.barrier()
          try group.allReduceSum(&buffer, bucketSize: bucket > 0 ? bucket : floats)
        }
        rows.append((name, floats, ms))
      }
      let n = Double(group.size), ring = n > 1 ? 2 * (n - 1) / n : 0
      if json {
        let items = rows.map { r in
          "{\"name\": \"\(r.name)\", \"floats\": \(r.floats), \"median_ms\": \(r.ms), \"algorithm_gb_per_s\": \(Double(r.floats * 4) / r.ms / 1e6), "
            + "\"bus_gb_per_s\": \(ring * Double(r.floats * 4) / r.ms / 1e6)}"
        }
        print("{\"processes\": \(group.size), \"bucket\": \(bucket), \"library\": \"\(group.library ?? "none")\", \"sizes\": [\(items.joined(separator: ", "))]}")
        return
      }
      let calls = bucket > 0 ? "in buckets of \(bucket) floats" : "one call per buffer"
      print("recur bench allreduce — \(group.size) process(es), \(calls)" + (group.library.map { ", \($0)" } ?? ": not under an MPI launcher (every reduction is the identity; run mpirun -np N recur bench allreduce)"))
      print("buffer                               floats        MB   median ms   algo GB/s   bus GB/s")
      for r in rows {
        let mb = Double(r.floats * 4) / 1e6, algo = mb / r.ms, bus = ring * algo
        print(r.name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: " %9d %9.2f %11.3f %11.2f %10.2f", r.floats, mb, r.ms, algo, bus))
      }
    }
  }
}
