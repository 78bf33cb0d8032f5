import Foundation
import Testing
@testable import Recur

/// The ABC reader: header fields and defaults, pitches under key signatures and bar accidentals,
/// lengths (broken rhythm, tuplets, chords, grace notes), bars, repeats and endings, errors with
/// their place, and every tune of O'Neill's collection.
@Suite struct ABCReaderTests {
  func read(_ text: String) throws -> ABCTune { try ABCReader.readTune(text) }
  func f(_ n: Int, _ d: Int) -> MusicFraction { MusicFraction(n, d)! }
  func pitches(_ tune: ABCTune) -> [[Int]] { tune.bars.flatMap { $0.notes.map(\.pitches) } }
  func durations(_ tune: ABCTune) -> [MusicFraction] { tune.bars.flatMap { $0.notes.map(\.duration) } }

  @Test func headerFieldsAreReadAndTheUnitLengthDefaultsAsTheStandardSays() throws {
    let tune = try read("X: 7\nT: A Title\nR:jig\nM:6/8\nL:1/8\nQ:3/8=120\nZ: someone\nK:Em\nGAB|\n")
    #expect(tune.referenceNumber == 7)
    #expect(tune.title == "A Title")
    #expect(tune.field("R") == "jig")
    #expect(tune.metre == ABCMetre(6, 8))
    #expect(tune.unitNoteLength == f(1, 8) && tune.hasExplicitUnitNoteLength)
    #expect(tune.quartersPerMinute == 180)
    // No L: — 1/16 below a metre of 0.75, else 1/8; C is 4/4, C| is 2/2.
    #expect(try read("X:1\nM:2/4\nK:G\nG|\n").unitNoteLength == f(1, 16))
    #expect(try read("X:1\nM:3/4\nK:G\nG|\n").unitNoteLength == f(1, 8))
    #expect(try read("X:1\nM:C\nK:G\nG|\n").metre == ABCMetre(4, 4))
    #expect(try read("X:1\nM:C|\nK:G\nG|\n").metre == ABCMetre(2, 2))
    #expect(try read("X:1\nK:G\nG|\n").unitNoteLength == f(1, 8))
  }

  @Test func keySignaturesModesAndBarAccidentalsSetThePitches() throws {
    // G major: F sharp in every octave.
    #expect(pitches(try read("X:1\nL:1/8\nK:G\nF f F, G|\n")) == [[66], [78], [54], [67]])
    // Modes: D mixolydian has C natural, A dorian F sharp only, B flat major two flats, F# minor three sharps.
    #expect(pitches(try read("X:1\nK:Dmix\nC F B|\n")) == [[60], [66], [71]])
    #expect(pitches(try read("X:1\nK:ADor\nF C B|\n")) == [[66], [60], [71]])
    #expect(pitches(try read("X:1\nK:Bb\nB E A|\n")) == [[70], [63], [69]])
    #expect(pitches(try read("X:1\nK:F#m\nF C G D|\n")) == [[66], [61], [68], [62]])
    #expect(pitches(try read("X:1\nK:A minor\nC G|\n")) == [[60], [67]])
    // An accidental lasts to the end of its bar, for its letter and octave only.
    #expect(pitches(try read("X:1\nK:C\n^F F f =F F | F\n")) == [[66], [66], [77], [65], [65], [65]])
    #expect(pitches(try read("X:1\nK:C\n__B ^^c c' B,,|\n")) == [[69], [74], [84], [47]])
    #expect(throws: ABCError.self) { try read("X:1\nK:Hm\nC|\n") }
    #expect(throws: ABCError.self) { try read("X:1\nK:B#\nC|\n") }
  }

  @Test func lengthsBrokenRhythmTupletsChordsAndGraceNotes() throws {
    let tune = try read("X:1\nM:4/4\nL:1/8\nK:C\nA2 B/ c// d3/2 e>f g<a (3abc [CEG]2 {ag}a z |\n")
    #expect(durations(tune) == [f(1, 4), f(1, 16), f(1, 32), f(3, 16), f(3, 16), f(1, 16), f(1, 16), f(3, 16),
                                f(1, 12), f(1, 12), f(1, 12), f(1, 4), f(1, 8), f(1, 8)])
    #expect(pitches(tune)[11] == [60, 64, 67])
    #expect(pitches(tune).last == [])
    // (p:q:r — p notes in the time of q, for the next r notes; (5 in compound metre takes 3.
    #expect(durations(try read("X:1\nL:1/8\nK:C\n(3:2:2ab c|\n")) == [f(1, 12), f(1, 12), f(1, 8)])
    #expect(durations(try read("X:1\nM:6/8\nL:1/8\nK:C\n(5abcde|\n")).first == f(3, 40))
    // A chord takes its first note's length times the length after it.
    #expect(durations(try read("X:1\nL:1/8\nK:C\n[C2E]3/2|\n")) == [f(3, 8)])
  }

  @Test func barsRepeatsEndingsAndFieldsInTheBody() throws {
    let tune = try read("""
      X:1
      M:3/4
      L:1/4
      K:G
      A | B c d |: e f g |1 a b c' :|2 a2 z ||
      M:2/4
      L:1/8
      [K:F] B2 z2 |]

      """)
    #expect(tune.bars.count == 6)
    #expect(tune.bars.map(\.duration) == [f(1, 4), f(3, 4), f(3, 4), f(3, 4), f(3, 4), f(1, 2)])
    #expect(tune.bars[2].opening?.opensRepeat == true)
    #expect(tune.bars[3].endings == [1] && tune.bars[3].closing?.closesRepeat == true)
    #expect(tune.bars[4].endings == [2] && tune.bars[4].startsEnding)
    #expect(tune.bars[5].metre == ABCMetre(2, 4))
    #expect(tune.bars[5].notes[0].pitches == [70])  // B flat after [K:F]
    // Played: the pickup, bar 1, the repeat with the first ending, again with the second.
    #expect(tune.playedBars.map { $0.notes[0].pitches } == [[69], [71], [76], [81], [76], [81], [70]])
  }

  @Test func readingErrorsNameTheLineAndColumn() throws {
    func error(_ text: String) -> ABCError? {
      do { _ = try ABCReader.readTune(text, source: "t.abc", firstLine: 10); return nil } catch { return error as? ABCError }
    }
    #expect(error("T:no number\nK:G\nA|\n")?.problem.contains("X:") == true)
    #expect(error("X:1\nM:6/8\nABC|\n")?.problem.contains("header field") == true)
    #expect(error("X:1\nM:6/8\n")?.problem.contains("K:") == true)
    let chord = error("X:1\nK:G\nAB [ce\n")
    #expect(chord?.line == 12 && chord?.column == 4 && chord?.problem.contains("chord") == true)
    #expect(error("X:1\nK:G\nA \"Am B|\n")?.problem.contains("quoted") == true)
    #expect(error("X:1\nK:G\nA99999|\n")?.problem.contains("larger") == true)
    #expect(error("X:1\nK:G\nA/4096/4096/4096|\n")?.problem.contains("too short") == true)
    #expect(error("X:1\nK:G\nA0|\n")?.problem.contains("0") == true)
    #expect(error("X:1\nK:G\nc'''''''|\n")?.problem.contains("MIDI") == true)
    #expect(error("X:1\nM:7/0\nK:G\nA|\n")?.problem.contains("metre") == true)
    #expect(error("X:1\nK:G\nA>|B\n")?.problem.contains("broken rhythm") == true)
    #expect(error("X:1\nK:G\nA @ B|\n")?.problem.contains("unexpected character") == true)
    #expect(error("X:x\nK:G\nA|\n")?.problem.contains("reference number") == true)
  }

  @Test func tuneBlocksAreSplitAtBlankLinesAndFreeTextIsLeftOut() {
    let blocks = ABCReader.tuneBlocks("%abc\n\nX:1\nK:G\nA|\n  \nfree text\n\nX:2\nK:D\nd|\n")
    #expect(blocks.map(\.line) == [3, 9])
    #expect(blocks[1].text == "X:2\nK:D\nd|\n")
  }

  @Test func validityNeedsMetreNotesAndBarsThatFitTheMetre() throws {
    func problems(_ text: String) -> [ABCValidity.Problem] { ABCValidity.check(text).problems }
    #expect(problems("X:1\nM:2/4\nL:1/8\nK:G\nG | ABcd | e4 :: f2 | g2 a2 | b2 |]\n").isEmpty)  // pickups at edges
    #expect(problems("X:1\nL:1/8\nK:G\nABcd|\n") == [.missingField("M")])
    #expect(problems("X:1\nM:2/4\nL:1/8\nK:G\n|]\n") == [.noNotes])
    #expect(problems("X:1\nM:2/4\nL:1/8\nK:G\nABcd | ABcde | ABcd |\n") == [.overfullBar(line: 5, duration: f(5, 8), metre: f(1, 2))])
    #expect(problems("X:1\nM:2/4\nL:1/8\nK:G\nABcd | ABc | ABcd |\n") == [.incompleteBar(line: 5, duration: f(3, 8), metre: f(1, 2))])
    #expect(problems("X:1\nM:none\nL:1/8\nK:G\nABcdefg | A |\n").isEmpty)
    // A bar is reported at the line of its first note, also when the bar line before it ends the line above.
    #expect(problems("X:1\nM:2/4\nL:1/8\nK:G\nABcd | ABcd |\n| ABcde | ABcd |\n") == [.overfullBar(line: 6, duration: f(5, 8), metre: f(1, 2))])
    #expect(problems("X:1\nM:2/4\nL:1/8\nK:G\nABcd | ABcd |\nABc | ABcd |\n") == [.incompleteBar(line: 6, duration: f(3, 8), metre: f(1, 2))])
    if case .unreadable = problems("X:1\nM:2/4\nK:G\nAB [c\n").first {} else { Issue.record("an unreadable tune must be invalid") }
  }

  @Test(.enabled(if: sharedDataDirectory() != nil, "../shared/data is absent"))
  func everyTuneOfONeillsCollectionIsRead() throws {
    let path = sharedDataDirectory()!.appendingPathComponent("music/oneills_1850.abc").path
    let book = try ABCBook.load(path: path)
    let read = book.readCount, valid = book.validCount, n = book.entries.count
    print("O'Neill's 1850: \(n) tunes, \(read) read (\(String(format: "%.2f", 100 * Double(read) / Double(n))) %), \(valid) valid")
    #expect(n == 2_009)
    #expect(Double(read) >= 0.99 * Double(n))
    // 135 tunes have no L:; each takes the standard's default.
    let tunes = book.entries.compactMap { try? $0.result.get() }
    #expect(tunes.filter { !$0.hasExplicitUnitNoteLength }.count >= 130)
    for tune in tunes where !tune.hasExplicitUnitNoteLength {
      #expect(tune.unitNoteLength == (tune.metre ?? .free).defaultUnitNoteLength)
    }
    // Every tune read becomes a MIDI file.
    for tune in tunes { _ = try tune.midiFile().bytes() }
  }
}
