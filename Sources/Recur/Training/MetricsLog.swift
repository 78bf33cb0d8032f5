import Foundation

/// One evaluation of a training run: where it was, how well the model did.
public struct MetricsRecord: Sendable, Equatable, Decodable {
  /// Optimiser steps done.
  public var step: Int
  /// Training target tokens processed so far.
  public var tokens: Int
  /// Mean training loss (nats/token) over the steps since the previous record.
  public var trainLoss: Double
  /// Mean validation loss (nats/token), nil when there is no validation text.
  public var validationLoss: Double?
  /// Learning rate of the last step.
  public var learningRate: Double
  /// Training wall time so far, seconds.
  public var elapsed: Double
  /// Training throughput since the previous record.
  public var tokensPerSecond: Double
  /// The task's other validation metrics (accuracy, RMSE…).
  public var metrics: [String: Double]
  /// The validation examples each process evaluated (one entry for a single process; nil without
  /// validation).
  public var validationExamples: [Int]?

  /// A record from its fields.
  public init(step: Int, tokens: Int, trainLoss: Double, validationLoss: Double?, learningRate: Double,
              elapsed: Double, tokensPerSecond: Double, metrics: [String: Double] = [:], validationExamples: [Int]? = nil) {
    self.metrics = metrics
    self.validationExamples = validationExamples
    self.step = step
    self.tokens = tokens
    self.trainLoss = trainLoss
    self.validationLoss = validationLoss
    self.learningRate = learningRate
    self.elapsed = elapsed
    self.tokensPerSecond = tokensPerSecond
  }

  /// Validation loss in bits per token (nats / ln 2).
  public var validationBitsPerToken: Double? { validationLoss.map { $0 / M_LN2 } }

  enum CodingKeys: String, CodingKey {
    case step, tokens
    case trainLoss = "train_loss"
    case validationLoss = "val_loss"
    case learningRate = "lr"
    case elapsed = "elapsed_s"
    case tokensPerSecond = "tokens_per_s"
    case metrics
    case validationExamples = "val_examples"
  }

  /// Decodes a record; files written before `metrics` existed have none.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    step = try c.decode(Int.self, forKey: .step)
    tokens = try c.decode(Int.self, forKey: .tokens)
    trainLoss = try c.decode(Double.self, forKey: .trainLoss)
    validationLoss = try c.decodeIfPresent(Double.self, forKey: .validationLoss)
    learningRate = try c.decode(Double.self, forKey: .learningRate)
    elapsed = try c.decode(Double.self, forKey: .elapsed)
    tokensPerSecond = try c.decode(Double.self, forKey: .tokensPerSecond)
    metrics = try c.decodeIfPresent([String: Double].self, forKey: .metrics) ?? [:]
    validationExamples = try c.decodeIfPresent([Int].self, forKey: .validationExamples)
  }
}

/// The evaluations of a run, kept in memory and written as `metrics.jsonl`: one JSON object per
/// line, one line per evaluation, in step order.
///
/// The file is rewritten atomically after every evaluation (it is small), so a reader never
/// sees half a line and an interrupted run leaves a complete file. A resumed run reads the old
/// file back and drops the records after the checkpoint's step, so the log continues as if the
/// run had never stopped.
public struct MetricsLog: Sendable {
  /// The records in step order.
  public private(set) var records: [MetricsRecord] = []

  /// A log holding `records` (empty by default).
  public init(records: [MetricsRecord] = []) { self.records = records }

  /// Reads `url`; a missing file is an empty log. Lines that do not parse are skipped.
  public static func read(from url: URL) -> MetricsLog {
    guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else { return MetricsLog() }
    let decoder = JSONDecoder()
    let records = text.split(separator: "\n").compactMap { try? decoder.decode(MetricsRecord.self, from: Data($0.utf8)) }
    return MetricsLog(records: records)
  }

  /// Adds a record (records at or after its step are replaced: a resumed run supersedes them).
  public mutating func append(_ record: MetricsRecord) {
    records.removeAll { $0.step >= record.step }
    records.append(record)
  }

  /// Keeps only the records up to `step`.
  public mutating func truncate(after step: Int) { records.removeAll { $0.step > step } }

  /// The log as JSON lines, keys in a fixed order (step, tokens, train_loss, val_loss, lr,
  /// tokens_per_s, elapsed_s, then metrics and val_examples when there are any); a missing
  /// validation loss is `null`.
  public func jsonLines() -> String {
    func number(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
    func examples(_ r: MetricsRecord) -> String {
      guard let counts = r.validationExamples else { return "" }
      return ",\"val_examples\":[" + counts.map(String.init).joined(separator: ",") + "]"
    }
    return records.map { r in
      "{\"step\":\(r.step),\"tokens\":\(r.tokens),\"train_loss\":\(number(r.trainLoss)),"
        + "\"val_loss\":\(r.validationLoss.map(number) ?? "null"),\"lr\":\(number(r.learningRate)),"
        + "\"tokens_per_s\":\(number(r.tokensPerSecond)),\"elapsed_s\":\(number(r.elapsed))"
        + (r.metrics.isEmpty ? "" : ",\"metrics\":{" + r.metrics.sorted { $0.key < $1.key }
          .map { "\(jsonQuoted($0.key)):\(number($0.value))" }.joined(separator: ",") + "}")
        + examples(r) + "}\n"
    }.joined()
  }

  /// Writes the log atomically.
  public func write(to url: URL) throws {
    try AtomicFile.write(Array(jsonLines().utf8), to: url)
  }

  /// The best (lowest) validation loss so far and its step.
  public var best: (step: Int, loss: Double)? {
    records.compactMap { r in r.validationLoss.map { (r.step, $0) } }.min { $0.1 < $1.1 }
  }
}
