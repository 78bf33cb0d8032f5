import Foundation
import Recur

/// The text data formats of the fuzzer: seeds, parsing with invariant checks, and line-aware mutations.
extension _IOFuzzer {
  /// Valid small files for every text data reader.
  public static func dataSeeds() -> [Seed] {
    func seed(_ name: String, _ format: Format, _ text: String) -> Seed { Seed(name: name, format: format, bytes: Array(text.utf8)) }
    return [
      seed("text.csv", .textCSV, "id,text,label,split\n1,\"Quoted, with \"\"quotes\"\"\nand a line\",pos,train\n2,It's 3.5 stars!,neg,train\n3,plain,pos,test\n4,more,neg,validation\n"),
      seed("wide.csv", .wideCSV, "split,label,t0,t1,t2\ntrain,1,0.5,-1,2e-3\ntrain,2,1,2,3\ntest,1,4,5,6\n"),
      seed("long.csv", .longCSV, "split,series_id,label,t,d0,d1\ntrain,0,a,1,0.1,0.2\ntrain,0,a,0,0.3,0.4\ntrain,1,b,0,1,2\ntest,2,a,0,5,6\ntest,2,a,1,7,8\n"),
      seed("sample.ts", .ts, "# comment\n@problemName X\n@univariate false\n@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n-1,0.5:2e1,3:b\n"),
      seed("upos.tsv", .tsv, "From\tADP\tIN\n#\tSYM\tNN\n.\tPUNCT\t.\n\nHi\tINTJ\tUH\n"),
      seed("pairs.tsv", .pairs, "cat\tK AE T\nread\tR IY D\nread\tR EH D\n\nx's\tEH K S IH Z\r\n"),
      seed("sample.conllu", .conllu, "# sent_id = 1\n1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t_\t_\n2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_\n2\tca\tcan\tAUX\tMD\t_\t0\troot\t_\t_\n3\tn't\tnot\tPART\tRB\t_\t2\tadvmod\t_\t_\n3.1\tx\tx\tX\tX\t_\t_\t_\t_\t_\n\n1\t#\t#\tSYM\tNN\t_\t0\troot\t_\t_\n"),
    ] + ctcSeeds()
  }

  /// Parses `bytes` as `format` and returns a broken invariant, or nil; reader errors propagate.
  static func dataProblem(_ bytes: [UInt8], format: Format) throws -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    switch format {
    case .textCSV:
      let table = try LabeledTextTable.parse(text, source: "fuzz.csv")
      if table.examples.contains(where: { $0.label < 0 || $0.label >= table.labels.count }) { return "text label id out of range" }
      let vocabulary = try table.vocabulary(tokenizer: WordTokenizer())
      for example in table.examples {
        let ids = vocabulary.encode(WordTokenizer().tokens(example.text), maximumLength: 8)
        if ids.count > 8 || ids.contains(where: { $0 < 0 || $0 >= vocabulary.count }) { return "encoded ids out of range" }
        _ = CharacterTokenizer().tokens(example.text)
      }
      let again = try JSONDecoder().decode(TokenVocabulary.self, from: JSONEncoder().encode(vocabulary))
      if again != vocabulary { return "vocabulary does not round-trip" }
      _ = try? table.splittingValidation(fraction: 0.3, seed: 1)
    case .wideCSV, .longCSV, .ts:
      let set = format == .wideCSV ? try NumericSequenceSet.parseWide(text, source: "fuzz.csv")
        : format == .longCSV ? try NumericSequenceSet.parseLong(text, source: "fuzz.csv") : try NumericSequenceSet.parseTS(text, source: "fuzz.ts")
      for item in set.items {
        if item.steps < 1 || item.values.count != item.steps * set.featureCount { return "item \(item.id) has an inconsistent shape" }
        if item.label < 0 || item.label >= set.labels.count { return "item \(item.id) label id out of range" }
        if item.values.contains(where: { !$0.isFinite }) { return "item \(item.id) has a value that is not finite" }
      }
      if let scaler = try? FeatureStandardizer(fitting: set) {
        let again = try JSONDecoder().decode(FeatureStandardizer.self, from: JSONEncoder().encode(scaler))
        if again != scaler { return "standardizer does not round-trip" }
      }
      _ = try? set.splittingValidation(fraction: 0.3, seed: 1)
    case .tsv, .conllu:
      let corpus = format == .tsv ? try TaggedSentences.parseTSV(text, source: "fuzz.tsv") : try TaggedSentences.parseCoNLLU(text, source: "fuzz.conllu")
      for s in corpus.sentences where s.forms.isEmpty || s.forms.count != s.tags.count || s.forms.count != s.lines.count {
        return "sentence with inconsistent forms, tags and lines"
      }
      let ids = try corpus.tagIDs(in: corpus.tagSet)
      if ids.joined().contains(where: { $0 < 0 || $0 >= corpus.tagSet.count }) { return "tag id out of range" }
      _ = try corpus.vocabulary()
    case .ctcLabels, .digitIndex:
      return try ctcProblem(text, format: format)
    case .pairs:
      for (sourceTokens, targetTokens) in [(Seq2SeqTokenization.chars, Seq2SeqTokenization.words), (.words, .chars)] {
        let pairs = try Seq2SeqPairs.parse(text, source: "fuzz.tsv", sourceTokenization: sourceTokens, targetTokenization: targetTokens)
        if pairs.contains(where: { $0.source.isEmpty || $0.target.isEmpty }) { return "pair with an empty side" }
        let vocabulary = try Seq2SeqVocabulary(pairs: pairs, sourceTokenization: sourceTokens, targetTokenization: targetTokens)
        for e in Seq2SeqExample.grouping(pairs, vocabulary: vocabulary) {
          if e.references.isEmpty || e.source.contains(where: { $0 < 1 || $0 >= vocabulary.source.count }) { return "source ids out of range" }
          if e.references.joined().contains(where: { $0 < 1 || $0 >= vocabulary.target.count }) { return "target ids out of range" }
        }
      }
    case .seriesCSV:
      return try seriesProblem(bytes)
    case .safetensors, .npy, .checkpoint:
      return "not a text format"
    }
    return nil
  }

  static let textInserts = ["\"", "\"\"", ",", "\n", "\r\n", "\t", ":", "?", "#", "@data\n", "@classLabel true a\n", "@dimensions 3\n",
                            "1-2\t", "1.1\t", "\t\t", " \t", "\t ", "nan", "inf", "1e999", "-0", "99999999999999999999", "train", "test", "x", "\u{FEFF}", "\u{00E9}", ""]

  /// A line-aware mutation of a text file: an inserted token, a deleted, duplicated or swapped line.
  static func mutateText(_ bytes: inout [UInt8], rng: inout RandomGenerator) -> String {
    func random(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    switch random(4) {
    case 0:
      let insert = Array(textInserts[random(textInserts.count)].utf8), at = random(bytes.count + 1)
      bytes.insert(contentsOf: insert, at: at)
      return "insert \(insert.count) bytes at \(at)"
    case 1 where lines.count > 1:
      let i = random(lines.count)
      lines.remove(at: i)
      bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
      return "delete line \(i)"
    case 2 where !lines.isEmpty:
      let i = random(lines.count)
      lines.insert(lines[i], at: random(lines.count + 1))
      bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
      return "duplicate line \(i)"
    default:
      guard lines.count > 1 else { return "no change" }
      let a = random(lines.count), b = random(lines.count)
      lines.swapAt(a, b)
      bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
      return "swap lines \(a) \(b)"
    }
  }
}
