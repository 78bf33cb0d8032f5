/// One tune read from ABC notation: its header fields and its melody as bars of notes with exact
/// durations and MIDI pitches (key signature and bar accidentals applied).
public struct ABCTune: Sendable {
  /// A header field as written (`T: The Enchanted Valley` → letter "T", value "The Enchanted Valley").
  public struct Field: Equatable, Sendable {
    /// The field letter.
    public let letter: Character
    /// The text after the colon, trimmed.
    public let value: String
  }

  /// One note, chord or rest of the melody.
  public struct Note: Equatable, Sendable {
    /// MIDI note numbers sounding together (middle C, ABC `C`, is 60); empty for a rest.
    public var pitches: [Int]
    /// Length in whole notes (unit note length, written length, broken rhythm and tuplet applied).
    public var duration: MusicFraction
    /// Tied (`-`) to the next note of the same pitch, which then continues this one.
    public var tiedToNext: Bool
  }

  /// How a bar line repeats or ends a section.
  public struct BarLine: Equatable, Sendable {
    /// The bar line as written (`|`, `||`, `|]`, `|:`, `:|`, `::`, `[|`…).
    public var text: String
    /// Ends a repeated section (starts with `:`).
    public var closesRepeat: Bool { text.hasPrefix(":") }
    /// Starts a repeated section (ends with `:`).
    public var opensRepeat: Bool { text.hasSuffix(":") }
    /// A double or thick bar line, or a repeat: the end of a section of the tune.
    public var endsSection: Bool { text != "|" }
  }

  /// The notes between two bar lines.
  public struct Bar: Equatable, Sendable {
    /// The notes, in order.
    public var notes: [Note]
    /// The metre in force in this bar.
    public var metre: ABCMetre
    /// The bar line before the bar (nil for the first bar when the tune does not open with one).
    public var opening: BarLine?
    /// The bar line after the bar (nil for a last bar without one).
    public var closing: BarLine?
    /// Numbers of the repeat ending this bar belongs to (`[1`, `:|2`, `[1,3`), empty outside endings.
    public var endings: [Int]
    /// Whether an ending (`[1`, `|2`) starts at this bar.
    public var startsEnding: Bool
    /// The 1-based source line where the bar starts.
    public var line: Int
    /// The sum of the notes' durations (exact).
    public var duration: MusicFraction
  }

  /// The header fields from `X:` to `K:`, in order.
  public var header: [Field]
  /// The reference number of `X:`.
  public var referenceNumber: Int
  /// The first `T:` title, if any.
  public var title: String? { header.first { $0.letter == "T" }?.value }
  /// The metre of the header's `M:` (nil when the header has none).
  public var metre: ABCMetre?
  /// The header's `L:`, or the default the ABC standard gives for the metre when absent.
  public var unitNoteLength: MusicFraction
  /// Whether `L:` was given in the header.
  public var hasExplicitUnitNoteLength: Bool
  /// The header's key.
  public var key: ABCKey
  /// Tempo in quarter notes per minute, from `Q:` (120 when absent).
  public var quartersPerMinute: Double
  /// The melody.
  public var bars: [Bar]
  /// The 1-based line of `X:` in the source.
  public var line: Int

  /// The value of the first header field `letter`, if present.
  public func field(_ letter: Character) -> String? { header.first { $0.letter == letter }?.value }

  /// The number of notes and chords (rests excluded).
  public var noteCount: Int { bars.reduce(0) { $0 + $1.notes.filter { !$0.pitches.isEmpty }.count } }
}
