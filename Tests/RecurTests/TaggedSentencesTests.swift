import Foundation
import Testing
@testable import Recur

@Suite("Data: tagged sentences")
struct TaggedSentencesTests {
  @Test func readsTokenPerLineTSV() throws {
    let corpus = try TaggedSentences.readTSV(contentsOf: dataFixture("en_ewt_dev_head.tsv"))
    #expect(corpus.sentences.count == 3)
    #expect(corpus.sentences[0].forms == ["From", "the", "AP", "comes", "this", "story", ":"])
    #expect(corpus.sentences[0].tags == ["ADP", "DET", "PROPN", "VERB", "DET", "NOUN", "PUNCT"])
    #expect(corpus.sentences[1].lines.first == 9)
    let xpos = try TaggedSentences.readTSV(contentsOf: dataFixture("en_ewt_dev_head.tsv"), tagColumn: 2)
    #expect(xpos.sentences[0].tags.first == "IN")
  }

  @Test func hashIsAFormInTSVAndTagIDsUseATagSet() throws {
    let corpus = try TaggedSentences.parseTSV("#\tSYM\nx\tX\r\n\n\n#\tSYM\n", source: "h.tsv")
    #expect(corpus.sentences.map(\.forms) == [["#", "x"], ["#"]])
    #expect(corpus.tagSet.labels == ["SYM", "X"])
    #expect(try corpus.tagIDs(in: corpus.tagSet) == [[0, 1], [0]])
    let unknown = dataError { _ = try corpus.tagIDs(in: LabelSet(["SYM"])) }
    #expect(unknown == .unknownLabel(label: "X", source: "h.tsv", line: 2, column: "tag", known: ["SYM"]))
    #expect(try corpus.vocabulary().tokens == ["<pad>", "<unk>", "#", "x"])
  }

  @Test func readsCoNLLUSkippingCommentsRangesAndEmptyNodes() throws {
    let corpus = try TaggedSentences.readCoNLLU(contentsOf: dataFixture("sample.conllu"))
    #expect(corpus.sentences.map(\.forms) == [["I", "ca", "n't", "go", "."], ["#"]])
    #expect(corpus.sentences[0].tags == ["PRON", "AUX", "PART", "VERB", "PUNCT"])
    #expect(corpus.sentences[0].lines == [3, 5, 6, 7, 9])
    let xpos = try TaggedSentences.readCoNLLU(contentsOf: dataFixture("sample.conllu"), tagColumn: TaggedSentences.conlluXPOS)
    #expect(xpos.sentences[0].tags == ["PRP", "MD", "RB", "VB", "."])
    #expect(corpus.tokenCount == 6)
  }

  @Test func errorsNameLineAndColumn() {
    #expect(dataError { _ = try TaggedSentences.parseTSV("a\tB\nb\n", source: "r.tsv") } == .raggedRow(source: "r.tsv", line: 2, fields: 1, expected: 2))
    let emptyForm = dataError { _ = try TaggedSentences.parseTSV("\tB\n", source: "r.tsv") }
    #expect(emptyForm == .emptyText(source: "r.tsv", line: 1, column: "column 1"))
    #expect("\(emptyForm!)" == "r.tsv line 1, column 'column 1' is empty; every row needs a text")
    #expect(dataError { _ = try TaggedSentences.parseTSV("a\t\n", source: "r.tsv") } == .missingValue(source: "r.tsv", line: 1, column: "column 2"))
    #expect(dataError { _ = try TaggedSentences.parseCoNLLU("1\ta\ta\tX\n", source: "c.conllu") }
      == .raggedRow(source: "c.conllu", line: 1, fields: 4, expected: 10))
    #expect(dataError { _ = try TaggedSentences.parseCoNLLU("1\ta\ta\t_\t_\t_\t0\troot\t_\t_\n", source: "c.conllu") }
      == .missingValue(source: "c.conllu", line: 1, column: "column 4"))
    #expect(dataError { _ = try TaggedSentences.parseTSV("\n\n", source: "r.tsv") } == .empty(source: "r.tsv", reason: "has no sentences"))
    #expect(dataError { _ = try TaggedSentences.parseTSV("a\tB\n", tagColumn: 0) }?.invalidParameter?.name == "tagColumn")
  }
}
