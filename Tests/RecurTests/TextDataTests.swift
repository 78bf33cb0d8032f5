import Foundation
import Testing
@testable import Recur

@Suite("Data: text tables, tokens, vocabulary")
struct TextDataTests {
  @Test func readsQuotedCSVWithSplitsAndSortedLabels() throws {
    let csv = "id,text,label,split\r\n1,\"a, b\",pos,train\n2,\"say \"\"hi\"\"\nthen go\",neg,TRAIN\n3,plain,pos,test\n\n4,more,neg,validation\n"
    let table = try LabeledTextTable.parse(csv, source: "t.csv")
    #expect(table.labels.labels == ["neg", "pos"])
    #expect(table.examples.map(\.text) == ["a, b", "say \"hi\"\nthen go", "plain", "more"])
    #expect(table.examples.map(\.label) == [1, 0, 1, 0])
    #expect(table.examples.map(\.split) == [.train, .train, .test, .validation])
    #expect(table.examples.map(\.line) == [2, 3, 5, 7])
    #expect(table.examples(in: .train).count == 2)
  }

  @Test func integerLabelsSortNumericallyAndNoSplitColumnMeansTraining() throws {
    let table = try LabeledTextTable.parse("label,body\n10,x\n2,y\n-1,z\n", textColumn: "body", source: "n.csv")
    #expect(table.labels.labels == ["-1", "2", "10"])
    #expect(table.examples.map(\.label) == [2, 1, 0])
    #expect(table.examples.allSatisfy { $0.split == nil })
  }

  @Test func readsTheRealRowsFixture() throws {
    let table = try LabeledTextTable.read(contentsOf: dataFixture("movie_snippets_head.csv"))
    #expect(table.examples.count == 8)
    #expect(table.labels.labels == ["0", "1"])
    #expect(table.examples[0].text.hasPrefix("The Rock is destined"))
  }

  @Test func errorsNameFileLineAndColumn() {
    #expect(dataError { _ = try LabeledTextTable.parse("text,lab\na,b\n", source: "e.csv") }
      == .unknownColumn(column: "label", source: "e.csv", available: ["text", "lab"]))
    #expect("\(dataError { _ = try LabeledTextTable.parse("text,lab\na,b\n", source: "e.csv") }!)"
      == "column 'label' not found in e.csv; its columns are: text, lab")
    let empty = dataError { _ = try LabeledTextTable.parse("text,label\na,1\n\"  \",2\n", source: "e.csv") }
    #expect(empty == .emptyText(source: "e.csv", line: 3, column: "text"))
    #expect("\(empty!)".contains("e.csv line 3, column 'text'"))
    let testOnly = dataError { _ = try LabeledTextTable.parse("text,label,split\na,x,train\nb,y,test\n", source: "e.csv") }
    #expect(testOnly == .labelOnlyInTest(label: "y", source: "e.csv", line: 3, column: "label"))
    #expect("\(testOnly!)".contains("e.csv line 3, column 'label'"))
    let ragged = dataError { _ = try LabeledTextTable.parse("text,label\na,1\nb,2,3\n", source: "e.csv") }
    #expect(ragged == .raggedRow(source: "e.csv", line: 3, fields: 3, expected: 2))
    #expect("\(ragged!)".contains("e.csv line 3"))
    #expect(dataError { _ = try LabeledTextTable.parse("text,label,split\na,1,later\n", source: "e.csv") }
      == .unknownSplit(value: "later", source: "e.csv", line: 2, column: "split"))
    #expect(dataError { _ = try LabeledTextTable.parse("text,label\n\"a,1\n", source: "e.csv") } == .unclosedQuote(source: "e.csv", line: 2))
    #expect(dataError { _ = try LabeledTextTable.read(contentsOf: URL(fileURLWithPath: "/nonexistent/x.csv")) } != nil)
  }

  @Test func wordTokenizerRules() {
    let t = WordTokenizer()
    #expect(t.tokens("It's 3.5 stars, ok?!") == ["it's", "3.5", "stars", ",", "ok", "?", "!"])
    #expect(t.tokens("''Conan'' co-writer 1,000 ") == ["'", "'", "conan", "'", "'", "co", "-", "writer", "1,000"])
    #expect(WordTokenizer(lowercase: false).tokens("Hi.") == ["Hi", "."])
    #expect(CharacterTokenizer().tokens("Ab c") == ["A", "b", " ", "c"])
    #expect(CharacterTokenizer(lowercase: true).tokens("Ab") == ["a", "b"])
  }

  @Test func vocabularyFromTrainingOnlyWithDeterministicOrder() throws {
    let csv = "text,label,split\nb a b,1,train\nc b,0,train\nzzz,1,test\na,0,validation\n"
    let table = try LabeledTextTable.parse(csv)
    let vocab = try table.vocabulary(tokenizer: WordTokenizer())
    #expect(vocab.tokens == ["<pad>", "<unk>", "b", "a", "c"])
    #expect(vocab.encode(["b", "zzz", "c"]) == [2, 1, 4])
    #expect(vocab.encode(["a", "b", "c"], maximumLength: 2) == [3, 2])
    #expect(vocab.decode([0, 1, 2, 99]) == ["<pad>", "<unk>", "b", "<unk>"])
    let min2 = try table.vocabulary(tokenizer: WordTokenizer(), minimumCount: 2)
    #expect(min2.tokens == ["<pad>", "<unk>", "b"])
    #expect(try table.vocabulary(tokenizer: WordTokenizer(), maximumSize: 3).tokens == ["<pad>", "<unk>", "b"])
    let data = try JSONEncoder().encode(vocab)
    #expect(String(decoding: data, as: UTF8.self) == "[\"<pad>\",\"<unk>\",\"b\",\"a\",\"c\"]")
    #expect(try JSONDecoder().decode(TokenVocabulary.self, from: data) == vocab)
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(TokenVocabulary.self, from: Data("[\"a\"]".utf8)) }
    #expect(dataError { _ = try TokenVocabulary(building: [["a"]], minimumCount: 0) }?.invalidParameter?.name == "minimumCount")
  }
}
