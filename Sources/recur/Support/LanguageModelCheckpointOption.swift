import ArgumentParser
import Recur

/// `--checkpoint`: the character-level language model a command reads (written by `recur train`).
struct LanguageModelCheckpointOption: ParsableArguments {
  @Option(help: ArgumentHelp("Checkpoint written by recur train, e.g. runs/char-lm/best.safetensors.", valueName: "file")) var checkpoint: String

  /// The model, its vocabulary and its stored settings, with one-line messages for a missing
  /// path, a directory or another task's archive.
  func load() throws -> (model: CharLM, vocabulary: CharVocabulary, configuration: LanguageModelTask.StoredConfiguration) {
    try LanguageModelTask.loadModel(from: loadArchive(checkpoint))
  }
}
