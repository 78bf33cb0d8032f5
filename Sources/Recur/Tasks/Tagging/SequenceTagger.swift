/// One sentence as the tagger reads it: word ids, each word's character ids, and (for training and
/// evaluation) one tag id per word.
///
/// Word id 0 is padding and 1 the unknown word; character id 0 is padding and 1 the unknown
/// character (the layout of ``TaggingVocabulary``).
public struct TaggingExample: Sendable, Equatable {
  /// Word ids, one per token.
  public var words: [Int]
  /// Character ids of each token's spelling (at least one per token).
  public var characters: [[Int]]
  /// Tag ids, one per token (empty when unknown, as for prediction).
  public var tags: [Int]

  /// A sentence from its parts; `characters` and a non-empty `tags` have one entry per word.
  public init(words: [Int], characters: [[Int]], tags: [Int] = []) {
    self.words = words
    self.characters = characters
    self.tags = tags
  }
}

/// A part-of-speech style tagger: word embeddings plus a character-level BiLSTM encoding of each
/// word's spelling (so unseen words still get features) → a BiLSTM over the sentence → per-token
/// tag scores, optionally rescored by a ``LinearChainCRF``.
///
/// ```
/// c_w = [→h_last ; ←h_first] of char_rnn(char_embedding(spelling of w))
/// x_t = dropout([word_embedding(w_t) ; c_{w_t}])
/// o_t = rnn(x)_t                                 bidirectional, run with the sentence lengths
/// logits_t = classifier(dropout(o_t))            [T, B, K]
/// ```
///
/// Parameters are named as a PyTorch module with attributes `word_embedding`, `char_embedding`,
/// `char_rnn`, `rnn`, `classifier` and (with the CRF) `crf` would name them. Padding never changes
/// a sentence's result: the recurrent layers run with lengths and padded positions are ignored.
public final class SequenceTagger: Module {
  /// Everything needed to rebuild the model's shape (stored in archives).
  public struct Configuration: Sendable, Codable, Equatable {
    /// The recurrent cell of both recurrent layers.
    public var cell: RecurrentCellKind = .lstm
    /// Rows of the word embedding (padding 0 and unknown 1 included).
    public var wordVocabularySize: Int
    /// Rows of the character embedding (padding 0 and unknown 1 included).
    public var characterVocabularySize: Int
    /// K, the number of tags.
    public var tagCount: Int
    /// Width of the word embeddings.
    public var wordEmbeddingSize = 100
    /// Width of the character embeddings.
    public var characterEmbeddingSize = 48
    /// Hidden width of each direction of the character BiLSTM.
    public var characterHiddenSize = 64
    /// Hidden width of each direction of the sentence BiLSTM.
    public var hiddenSize = 128
    /// Stacked layers of the sentence BiLSTM.
    public var numLayers = 1
    /// Dropout on the token features and on the BiLSTM output (training only).
    public var dropout: Float = 0.5
    /// In training, the probability that a known word is read as the unknown word (so its
    /// embedding learns to stand for unseen words).
    public var unknownWordRate: Float = 0.05
    /// In training, the probability that a word seen only once in the training sentences is read
    /// as the unknown word (Lample et al. 2016 use 0.5; nil in archives written before it existed).
    public var singletonUnknownRate: Float? = 0.5
    /// Whether a linear-chain CRF scores the tag sequence.
    public var crf = false

    /// A configuration with the given vocabulary and tag sizes and default widths.
    public init(wordVocabularySize: Int, characterVocabularySize: Int, tagCount: Int) {
      self.wordVocabularySize = wordVocabularySize
      self.characterVocabularySize = characterVocabularySize
      self.tagCount = tagCount
    }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      try TrainingError.require(wordVocabularySize >= 2, "wordVocabularySize", wordVocabularySize, "at least 2 (padding and unknown)")
      try TrainingError.require(characterVocabularySize >= 2, "characterVocabularySize", characterVocabularySize, "at least 2")
      try TrainingError.require(tagCount >= 1, "tagCount", tagCount, "at least 1")
      try TrainingError.requirePositive(["wordEmbeddingSize": wordEmbeddingSize, "characterEmbeddingSize": characterEmbeddingSize,
                                         "characterHiddenSize": characterHiddenSize, "hiddenSize": hiddenSize, "numLayers": numLayers])
      try TrainingError.require(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)")
      try TrainingError.require(unknownWordRate >= 0 && unknownWordRate < 1, "unknownWordRate", unknownWordRate, "in [0, 1)")
      if let rate = singletonUnknownRate {
        try TrainingError.require(rate >= 0 && rate < 1, "singletonUnknownRate", rate, "in [0, 1)")
      }
      try TrainingError.requireFitsMemory(parameterCount, sizes: [
        "wordVocabularySize": wordVocabularySize, "characterVocabularySize": characterVocabularySize, "tagCount": tagCount,
        "wordEmbeddingSize": wordEmbeddingSize, "characterEmbeddingSize": characterEmbeddingSize,
        "characterHiddenSize": characterHiddenSize, "hiddenSize": hiddenSize, "numLayers": numLayers])
    }

    /// The number of parameters of the model, computed without building it.
    public var parameterCount: SizeTally {
      var tally = SizeTally()
      tally.add(wordVocabularySize, wordEmbeddingSize)
      tally.add(characterVocabularySize, characterEmbeddingSize)
      tally.add(RecurrentLayer.parameterCount(cell, inputSize: characterEmbeddingSize, hiddenSize: characterHiddenSize, bidirectional: true))
      var input = SizeTally()
      input.add(wordEmbeddingSize)
      input.add(2, characterHiddenSize)
      tally.add(RecurrentLayer.parameterCount(cell, inputSize: input.total ?? -1, hiddenSize: hiddenSize, numLayers: numLayers, bidirectional: true))
      tally.add(2, hiddenSize, tagCount)
      tally.add(tagCount)
      if crf { tally.add(tagCount, tagCount) }
      return tally
    }
  }

  /// The model's shape.
  public let configuration: Configuration
  /// Word vectors `[wordVocabularySize, wordEmbeddingSize]`.
  public let wordEmbedding: Embedding
  /// Character vectors `[characterVocabularySize, characterEmbeddingSize]`.
  public let characterEmbedding: Embedding
  /// The bidirectional layer over each word's characters.
  public let characterRNN: any SequenceLayer
  /// The bidirectional layer over the sentence.
  public let rnn: any SequenceLayer
  /// Maps each BiLSTM output to K tag scores.
  public let classifier: Linear
  /// The CRF output layer, when configured.
  public let crf: LinearChainCRF?
  let dropoutLayer: Dropout

  /// A tagger with PyTorch's default initialisations drawn from `seed`: the word and character
  /// embeddings, the character BiLSTM, the sentence BiLSTM, the classifier and the CRF, in that
  /// order. Throws `TrainingError.invalidSetting` for an invalid configuration.
  public init(_ configuration: Configuration, seed: UInt64) throws {
    try configuration.validate()
    let c = configuration
    var generator = RandomGenerator(seed: seed)
    self.configuration = c
    wordEmbedding = Embedding(count: c.wordVocabularySize, dimension: c.wordEmbeddingSize, generator: &generator)
    characterEmbedding = Embedding(count: c.characterVocabularySize, dimension: c.characterEmbeddingSize, generator: &generator)
    characterRNN = RecurrentLayer.make(c.cell, inputSize: c.characterEmbeddingSize, hiddenSize: c.characterHiddenSize,
                                       bidirectional: true, seed: generator.next())
    rnn = RecurrentLayer.make(c.cell, inputSize: c.wordEmbeddingSize + 2 * c.characterHiddenSize, hiddenSize: c.hiddenSize,
                              numLayers: c.numLayers, dropout: c.numLayers > 1 ? c.dropout : 0, bidirectional: true,
                              seed: generator.next())
    classifier = Linear(inputSize: rnn.outputSize, outputSize: c.tagCount, generator: &generator)
    crf = c.crf ? LinearChainCRF(tagCount: c.tagCount, generator: &generator) : nil
    dropoutLayer = Dropout(p: c.dropout)
  }

  /// The submodules under PyTorch attribute names.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = [
      ("word_embedding", wordEmbedding), ("char_embedding", characterEmbedding), ("char_rnn", characterRNN), ("rnn", rnn),
      ("classifier", classifier),
    ]
    if let crf { result.append(("crf", crf)) }
    return result
  }

  /// Per-token tag scores of a batch of sentences.
  /// - Parameters:
  ///   - sentences: the batch (each at least one word long); tags are not read.
  ///   - context: training mode (dropout, unknown-word replacement) and its generator.
  /// - Returns: logits `[T, B, K]` (T the longest sentence; rows past a sentence's end are
  ///   meaningless) and the sentences' lengths.
  public func callAsFunction(_ sentences: [TaggingExample], context: inout ForwardContext) throws -> (logits: Tensor, lengths: [Int]) {
    let lengths = sentences.map(\.words.count)
    precondition(!sentences.isEmpty && lengths.allSatisfy { $0 >= 1 }, "SequenceTagger: sentences must be non-empty")
    let steps = lengths.max()!, batch = sentences.count
    var words = [Int](repeating: 0, count: steps * batch)
    var spellings: [[Int]] = []
    var rows = [Int](repeating: 0, count: steps * batch)  // 0: padding, n + 1: the n-th real token
    for t in 0..<steps {
      for (b, s) in sentences.enumerated() where t < s.words.count {
        var id = s.words[t]
        if context.isTraining, id > 1, configuration.unknownWordRate > 0, context.generator.nextUniform() < configuration.unknownWordRate {
          id = 1
        }
        words[t * batch + b] = id
        spellings.append(s.characters[t])
        rows[t * batch + b] = spellings.count
      }
    }
    let spelled = try spellingFeatures(spellings, context: &context)
    let padded = Tensor.concatenate([Tensor.zeros([1, spelled.shape[1]]), spelled]).gatherRows(rows, indexShape: [steps, batch])
    let x = Tensor.concatenate([wordEmbedding(words, shape: [steps, batch]), padded], axis: 2)
    let (output, _) = try rnn(dropoutLayer(x, context: &context), state: nil, lengths: lengths, context: &context)
    return (classifier(dropoutLayer(output, context: &context)), lengths)
  }

  /// `[N, 2·characterHiddenSize]`: each spelling's last forward and first backward state.
  func spellingFeatures(_ spellings: [[Int]], context: inout ForwardContext) throws -> Tensor {
    let n = spellings.count, longest = Swift.max(1, spellings.map(\.count).max() ?? 1)
    var ids = [Int](repeating: 0, count: longest * n)
    for (w, spelling) in spellings.enumerated() {
      for (i, c) in spelling.enumerated() { ids[i * n + w] = c }
    }
    let embedded = characterEmbedding(ids, shape: [longest, n])
    let (_, state) = try characterRNN(embedded, state: nil, lengths: spellings.map { Swift.max(1, $0.count) }, context: &context)
    return Tensor.concatenate([state.h[row: 0], state.h[row: 1]], axis: 1)
  }

  /// The loss of a batch against its tags: the mean token cross-entropy, or with the CRF its
  /// negative log-likelihood summed over sentences and divided by the token count.
  public func loss(_ sentences: [TaggingExample], context: inout ForwardContext) throws -> BatchLoss {
    let (logits, lengths) = try self(sentences, context: &context)
    let steps = logits.shape[0], batch = sentences.count
    var targets = [Int](repeating: -100, count: steps * batch)
    for (b, s) in sentences.enumerated() {
      precondition(s.tags.count == s.words.count, "SequenceTagger.loss: sentence \(b) has \(s.words.count) words and \(s.tags.count) tags")
      for (t, tag) in s.tags.enumerated() { targets[t * batch + b] = tag }
    }
    let tokens = lengths.reduce(0, +)
    if let crf {
      let nll = crf.negativeLogLikelihood(emissions: logits, tags: targets.map { Swift.max(0, $0) }, lengths: lengths, reduction: .sum)
      return BatchLoss(loss: nll / Float(tokens), count: tokens)
    }
    return BatchLoss(loss: crossEntropy(logits: logits, targets: targets), count: tokens)
  }

  /// The predicted tags of each sentence (Viterbi with the CRF, per-token argmax without), in
  /// evaluation mode.
  public func predict(_ sentences: [TaggingExample]) throws -> [[Int]] {
    var context = ForwardContext.inference
    let (logits, lengths) = try withoutGradients { try self(sentences, context: &context) }
    if let crf { return crf.viterbi(emissions: logits, lengths: lengths) }
    let best = logits.argmax(axis: -1), batch = sentences.count
    return lengths.enumerated().map { b, n in (0..<n).map { best[$0 * batch + b] } }
  }
}
