import Foundation

extension LanguageModelTask {
  /// A model archive from a Recur 0.1 character-LM checkpoint (`recur.format_version` 1,
  /// `charlm.kind` = `char-lm`): the weights, the vocabulary and the model's shape. The training
  /// state is not carried over (0.1 kept its random streams inside the model), so the result
  /// generates and evaluates but starts a new run if trained on.
  public static func convertLegacyCheckpoint(_ file: SafeTensorsFile) throws -> ModelArchive {
    struct LegacyModel: Decodable {
      var cell: String
      var vocabularySize, embeddingSize, hiddenSize, numLayers: Int
      var dropout: Float
    }
    struct LegacyConfiguration: Decodable {
      var model: LegacyModel
      var seqLength: Int?
      var batchSize: Int?
      var validationFraction: Double?
      var evalBatchSize: Int?
      var seed: UInt64?
      var corpus: String?
    }
    guard file.metadata[ModelArchive.Key.legacyFormat] == "1", file.metadata["charlm.kind"] == "char-lm" else {
      throw TrainingError.inconsistentCheckpoint("it is not a Recur 0.1 character language model checkpoint")
    }
    guard let configText = file.metadata["recur.config"], let vocabularyText = file.metadata["recur.vocabulary"],
          let legacy = try? JSONDecoder().decode(LegacyConfiguration.self, from: Data(configText.utf8)),
          let codePoints = try? JSONDecoder().decode([UInt32].self, from: Data(vocabularyText.utf8)) else {
      throw TrainingError.inconsistentCheckpoint("its configuration or vocabulary is missing or damaged")
    }
    let cells: [String: RecurrentCellKind] = ["lstm": .lstm, "gru": .gru, "rnn": .rnnTanh]
    guard let cell = cells[legacy.model.cell] else {
      throw TrainingError.inconsistentCheckpoint("unknown cell \"\(legacy.model.cell.prefix(20))\"")
    }
    let m = legacy.model
    let model = CharLM.Configuration(cell: .recurrent(cell), vocabularySize: m.vocabularySize, embeddingSize: m.embeddingSize,
                                     hiddenSize: m.hiddenSize, numLayers: m.numLayers, dropout: m.dropout)
    var data = DataSettings()
    if let v = legacy.seqLength { data.seqLength = v }
    if let v = legacy.batchSize { data.batchSize = v }
    if let v = legacy.validationFraction { data.validationFraction = v }
    if let v = legacy.evalBatchSize { data.evalBatchSize = v }
    if let v = legacy.corpus { data.corpus = v }
    let stored = StoredConfiguration(model: model, vocabulary: codePoints, data: data, seed: legacy.seed ?? 0)
    var archive = ModelArchive(task: name, configuration: try ModelArchive.json(stored),
                               producer: "Recur \(RecurVersion.current) (converted from a Recur 0.1 checkpoint)")
    archive.add(file.orderedEntries.filter { !$0.name.hasPrefix("optimizer.") && !$0.name.hasPrefix("trainer.") }
      .map { ($0.name, $0.entry.tensor) })
    _ = try loadModel(from: archive)  // the weights fit the configuration
    return archive
  }
}
