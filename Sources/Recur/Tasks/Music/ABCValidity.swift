/// The well-formedness rules a tune must pass to count as valid: it reads, its header has `X:`,
/// `M:` and `K:`, it has notes, and its bars fit the metre.
///
/// Bar rule: no bar is longer than its metre, and every bar is exactly the metre except where a
/// partial bar is customary — the first bar (a pickup), the last bar, and the bars on either side
/// of a section's bar line (`||`, `|]`, `[|`, `|:`, `:|`, `::`) or in a repeat ending, where a
/// pickup and its complement meet. Free metre (`M:none`) bars are not checked.
public enum ABCValidity {
  /// One rule broken.
  public enum Problem: Equatable, Sendable, CustomStringConvertible {
    /// The tune could not be read at all.
    case unreadable(ABCError)
    /// A required header field is missing.
    case missingField(Character)
    /// No notes in the melody.
    case noNotes
    /// A bar (starting at `line`) lasts longer than the metre.
    case overfullBar(line: Int, duration: MusicFraction, metre: MusicFraction)
    /// A bar inside a section lasts less than the metre.
    case incompleteBar(line: Int, duration: MusicFraction, metre: MusicFraction)

    /// The problem in words, with its line.
    public var description: String {
      switch self {
      case .unreadable(let e): return e.description
      case .missingField(let letter): return "the header has no \(letter): field"
      case .noNotes: return "the melody has no notes"
      case .overfullBar(let line, let d, let m): return "line \(line): a bar lasts \(d), more than the metre's \(m)"
      case .incompleteBar(let line, let d, let m): return "line \(line): a bar inside a section lasts \(d), less than the metre's \(m)"
      }
    }
  }

  /// The problems of a tune (empty when valid).
  public static func problems(_ tune: ABCTune) -> [Problem] {
    var problems: [Problem] = []
    // X: and K: are required by the reader itself.
    if tune.metre == nil { problems.append(.missingField("M")) }
    if tune.noteCount == 0 { problems.append(.noNotes) }
    let bars = tune.bars
    for (i, bar) in bars.enumerated() where bar.metre.isMeasured {
      let metre = bar.metre.barLength
      if bar.duration > metre {
        problems.append(.overfullBar(line: bar.line, duration: bar.duration, metre: metre))
      } else if bar.duration < metre {
        let atEdge = i == 0 || i == bars.count - 1 || bar.opening?.endsSection == true || bar.closing?.endsSection == true
          || !bar.endings.isEmpty || bars[i - 1].metre != bar.metre
        if !atEdge { problems.append(.incompleteBar(line: bar.line, duration: bar.duration, metre: metre)) }
      }
    }
    return problems
  }

  /// The problems of a read attempt: `.unreadable` for a failed read, else those of the tune.
  public static func problems(_ result: Result<ABCTune, ABCError>) -> [Problem] {
    switch result {
    case .success(let tune): return problems(tune)
    case .failure(let error): return [.unreadable(error)]
    }
  }

  /// Reads `text` as one tune and checks it.
  public static func check(_ text: String, source: String = "tune") -> (tune: ABCTune?, problems: [Problem]) {
    do {
      let tune = try ABCReader.readTune(text, source: source)
      return (tune, problems(tune))
    } catch {
      return (nil, [.unreadable(error as? ABCError ?? ABCError(source: source, line: 1, problem: "\(error)"))])
    }
  }
}
