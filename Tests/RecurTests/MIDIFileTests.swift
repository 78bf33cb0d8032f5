import Foundation
import Testing
@testable import Recur

/// The Standard MIDI File writer, byte for byte against files mido wrote from hand-worked event
/// lists (`Tools/Reference/midi_fixtures.py`), and its encodings against the MIDI 1.0 specification.
@Suite struct MIDIFileTests {
  func fixture(_ name: String) throws -> Data {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return try Data(contentsOf: root.appendingPathComponent("music/\(name)"))
  }

  @Test(arguments: ["tiny", "repeats", "accidentals"])
  func tunesRenderByteForByteAsTheHandWorkedFiles(name: String) throws {
    let text = String(decoding: try fixture(name + ".abc"), as: UTF8.self)
    let tune = try ABCReader.readTune(text, source: name)
    let ours = try tune.midiFile().bytes()
    let expected = [UInt8](try fixture(name + ".mid"))
    #expect(ours == expected, "\(name): first difference at byte \(zip(ours, expected).enumerated().first { $1.0 != $1.1 }?.offset ?? min(ours.count, expected.count))")
  }

  @Test func variableLengthQuantitiesAreTheSpecificationsExamples() {
    let cases: [(Int, [UInt8])] = [(0, [0x00]), (0x40, [0x40]), (0x7F, [0x7F]), (0x80, [0x81, 0x00]), (0x2000, [0xC0, 0x00]),
                                   (0x3FFF, [0xFF, 0x7F]), (0x4000, [0x81, 0x80, 0x00]), (0x100000, [0xC0, 0x80, 0x00]),
                                   (0x1FFFFF, [0xFF, 0xFF, 0x7F]), (0x200000, [0x81, 0x80, 0x80, 0x00]), (0x0FFFFFFF, [0xFF, 0xFF, 0xFF, 0x7F])]
    for (value, bytes) in cases { #expect(MIDIFile.variableLength(value) == bytes, "\(value)") }
  }

  @Test func headerEventsAndFormatFollowTheTrackCount() {
    let one = MIDIFile(ticksPerQuarter: 96, tracks: [MIDIFile.Track([])]).bytes()
    #expect(one == Array("MThd".utf8) + [0, 0, 0, 6, 0, 0, 0, 1, 0, 96] + Array("MTrk".utf8) + [0, 0, 0, 4, 0, 0xFF, 0x2F, 0])
    let two = MIDIFile(tracks: [MIDIFile.Track([]), MIDIFile.Track([])]).bytes()
    #expect(Array(two[8..<12]) == [0, 1, 0, 2])
    #expect(MIDIFile.encode(.keySignature(sharps: -3, minor: true)) == [0xFF, 0x59, 0x02, 0xFD, 0x01])
    #expect(MIDIFile.encode(.timeSignature(numerator: 6, denominator: 8)) == [0xFF, 0x58, 0x04, 6, 3, 24, 8])
    #expect(MIDIFile.encode(.tempo(microsecondsPerQuarter: 500_000)) == [0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20])
    #expect(MIDIFile.encode(.programChange(channel: 2, program: 40)) == [0xC2, 40])
    // A track name is cut to 127 bytes without splitting a character.
    let name = MIDIFile.encode(.trackName(String(repeating: "é", count: 100)))
    #expect(name[2] == 126 && name.count == 129)
  }

  @Test func eventsOfOneTickKeepTheirOrderAndTiedNotesSoundOnce() throws {
    let tune = try ABCReader.readTune("X:1\nM:2/4\nL:1/4\nK:C\nc2- | c [ce]- | [ce] z |]\n")
    let events = try tune.midiFile().tracks[0].events.compactMap { e -> String? in
      switch e.event {
      case .noteOn(_, let k, _): return "on \(k) @\(e.tick)"
      case .noteOff(_, let k, _): return "off \(k) @\(e.tick)"
      default: return nil
      }
    }
    #expect(events == ["on 72 @0", "off 72 @1440", "on 72 @1440", "on 76 @1440", "off 72 @2400", "off 76 @2400"])
  }
}
