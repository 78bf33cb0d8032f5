import ArgumentParser
import Foundation
import Recur

/// `recur bench ctc`: CTC loss forward + backward speed.
struct BenchCTC: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ctc",
    abstract: "Time the CTC loss, forward + backward through log-softmax, at the given sizes.",
    discussion: """
      Random logits [T, B, C], log-softmax, CTCLoss (mean) over random targets of length S with \
      full input lengths, backward to the logits. Prints the median ms; \
      Tools/Benchmarks/compare_ctc.py runs the same in torch.nn.CTCLoss, alternating.
      """
  )

  @Option(help: "Batch size.") var batch = 32
  @Option(help: "Frames per item.") var frames = 200
  @Option(help: "Classes (blank included).") var classes = 30
  @Option(help: "Target length per item.") var targetLength = 40
  @Option(help: "Timed repetitions (after one warm-up); the median is reported.") var repeats = 21
  @OptionGroup var common: BenchRunOptions

  func validate() throws {
    for (flag, value) in [("--batch", batch), ("--frames", frames), ("--classes", classes), ("--repeats", repeats)] where value < 1 {
      throw ValidationError("\(flag) must be at least 1, got \(value)")
    }
    try BenchLimits.check(repeats: repeats)
    var floats = SizeTally()
    floats.add(4, frames, batch, classes)  // logits, log-probabilities, their gradients
    try BenchLimits.check(floats: floats, what: "the CTC logits", flags: "--batch × --frames × --classes")
    guard targetLength <= Int(Int32.max) else { throw ValidationError("--target-length must be at most \(Int32.max), got \(targetLength)") }
    guard classes >= 2 else { throw ValidationError("--classes must be at least 2 (a blank and a label), got \(classes)") }
    guard targetLength >= 0, targetLength <= frames else {
      throw ValidationError("--target-length must be in 0...\(frames) (the frames), got \(targetLength)")
    }
  }

  func run() throws {
    Kernels.numThreads = common.threads
    var g = RandomGenerator(seed: 1)
    let logits = Tensor.normal([frames, batch, classes], generator: &g)
    let targets = (0..<batch).map { _ in (0..<targetLength).map { _ in 1 + Int(g.next() % UInt64(classes - 1)) } }
    let lengths = [Int](repeating: frames, count: batch)
    let loss = CTCLoss()
    let ms = try medianMilliseconds(repeats: repeats) {
      let x = logits.detached().requiringGrad()
      try loss(x.logSoftmax(), targets: targets, inputLengths: lengths).backward()
    }
    if common.json {
      print("{\"batch\": \(batch), \"frames\": \(frames), \"classes\": \(classes), \"target_length\": \(targetLength), "
        + "\"threads\": \(common.threads), \"median_ms\": \(ms)}")
    } else {
      print("recur bench ctc — B \(batch), T \(frames), C \(classes), S \(targetLength), \(common.threads) thread(s): "
        + String(format: "%.2f ms (forward + backward, median of %d)", ms, repeats))
    }
  }
}
