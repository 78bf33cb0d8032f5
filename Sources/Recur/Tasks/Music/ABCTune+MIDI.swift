extension ABCTune {
  /// The longest tune `midiFile()` renders: 2^24 quarter notes (delta times must fit 28 bits).
  static let maximumMIDITicks = 0x0FFF_FFFF

  /// The bars in the order they are played: `|: … :|` sections twice, first and second endings
  /// (`[1`, `[2`) on their passes. A repeat with no `|:` goes back to the start of the tune or
  /// to the end of the previous repeat. Each `:|` sends the music back once.
  public var playedBars: [Bar] {
    var order: [Bar] = []
    var i = 0
    var repeatStart = 0
    var pass = 1
    var jumped = Set<Int>()
    while i < bars.count {
      let bar = bars[i]
      if bar.opening?.opensRepeat == true, pass == 1 { repeatStart = i }
      if !bar.endings.isEmpty, !bar.endings.contains(pass) {
        i += 1
        continue
      }
      order.append(bar)
      if bar.closing?.closesRepeat == true {
        if pass == 1, !jumped.contains(i) {
          jumped.insert(i)
          pass = 2
          i = repeatStart
          continue
        }
        pass = 1
        repeatStart = i + 1
      } else if pass == 2, !bar.endings.isEmpty, bar.closing?.endsSection == true {
        pass = 1
        repeatStart = i + 1
      }
      i += 1
    }
    return order
  }

  /// The tune as a format-0 Standard MIDI File: its title as track name, tempo, time and key
  /// signatures (a new time signature where the metre changes), and the notes of `playedBars`
  /// on channel 0 (tied notes sound as one, grace notes are not played), at `ticksPerQuarter`.
  /// Throws `ABCError` if the tune is longer than a MIDI file can time.
  public func midiFile(ticksPerQuarter: Int = 480, velocity: Int = 80) throws -> MIDIFile {
    precondition((1...127).contains(velocity), "ABCTune.midiFile: velocity must be in 1...127")
    var events: [MIDIFile.TimedEvent] = []
    if let title, !title.isEmpty { events.append(.init(tick: 0, .trackName(title))) }
    events.append(.init(tick: 0, .tempo(microsecondsPerQuarter: Int((60_000_000 / quartersPerMinute).rounded()))))
    let ticksPerWhole = 4 * ticksPerQuarter
    func tick(_ position: MusicFraction) throws -> Int {
      let t = (position.doubleValue * Double(ticksPerWhole)).rounded()
      guard t <= Double(Self.maximumMIDITicks) else {
        throw ABCError(source: "tune \(referenceNumber)", line: line, problem: "the tune is too long for a MIDI file")
      }
      return Int(t)
    }
    events.append(.init(tick: 0, .keySignature(sharps: key.sharps, minor: key.mode == .aeolian)))
    var position = MusicFraction.zero
    var lastMetre: ABCMetre?
    var tied: Set<Int> = []
    for bar in playedBars {
      if bar.metre != lastMetre {
        lastMetre = bar.metre
        let m = bar.metre.isMeasured ? bar.metre : ABCMetre(4, 4)
        if m.denominator & (m.denominator - 1) == 0, m.numerator <= 127 {
          events.append(.init(tick: try tick(position), .timeSignature(numerator: m.numerator, denominator: m.denominator)))
        }
      }
      for note in bar.notes {
        let start = try tick(position)
        guard let end = position.adding(note.duration) else {
          throw ABCError(source: "tune \(referenceNumber)", line: line, problem: "the tune is too long for a MIDI file")
        }
        let pitches = Array(Set(note.pitches)).sorted()
        for p in tied.sorted() where !pitches.contains(p) {
          events.append(.init(tick: start, .noteOff(channel: 0, key: p, velocity: 64)))
          tied.remove(p)
        }
        for p in pitches where !tied.contains(p) {
          events.append(.init(tick: start, .noteOn(channel: 0, key: p, velocity: velocity)))
        }
        let stop = try tick(end)
        for p in pitches {
          if note.tiedToNext {
            tied.insert(p)
          } else {
            tied.remove(p)
            events.append(.init(tick: stop, .noteOff(channel: 0, key: p, velocity: 64)))
          }
        }
        position = end
      }
    }
    let final = try tick(position)
    for p in tied.sorted() { events.append(.init(tick: final, .noteOff(channel: 0, key: p, velocity: 64))) }
    return MIDIFile(ticksPerQuarter: ticksPerQuarter, tracks: [MIDIFile.Track(events, endTick: final)])
  }
}
