/// A Standard MIDI File (SMF, format 0 for one track, format 1 for several) built from timed
/// events and written byte for byte as the MIDI 1.0 file specification lays it out:
///
/// ```
/// "MThd" 00000006  format(2) tracks(2) division(2)          division = ticks per quarter note
/// "MTrk" length(4) { delta-time(variable-length) event }…  FF 2F 00 (end of track)
/// ```
/// Delta times are variable-length quantities (7 bits per byte, high bit set on all but the
/// last). Channel messages use running status — a message with the status byte of the one before
/// it leaves the byte out — which a meta event cancels, as the specification and mido do.
public struct MIDIFile: Equatable, Sendable {
  /// One event of a track.
  public enum Event: Equatable, Sendable {
    /// Note on (status 0x9n).
    case noteOn(channel: Int, key: Int, velocity: Int)
    /// Note off (status 0x8n).
    case noteOff(channel: Int, key: Int, velocity: Int)
    /// Program change (status 0xCn): the instrument, 0–127 (General MIDI numbering from 0).
    case programChange(channel: Int, program: Int)
    /// Meta 0x51: microseconds per quarter note.
    case tempo(microsecondsPerQuarter: Int)
    /// Meta 0x58: numerator, denominator (a power of two), MIDI clocks per metronome click and
    /// notated 32nd notes per quarter note (24 and 8 for the usual meaning).
    case timeSignature(numerator: Int, denominator: Int, clocksPerClick: Int = 24, thirtySecondsPerQuarter: Int = 8)
    /// Meta 0x59: sharps (positive) or flats (negative), and minor.
    case keySignature(sharps: Int, minor: Bool)
    /// Meta 0x03: the track's name (UTF-8, at most 127 bytes kept).
    case trackName(String)
  }

  /// An event at an absolute time in ticks.
  public struct TimedEvent: Equatable, Sendable {
    /// Ticks from the start of the track.
    public var tick: Int
    /// The event.
    public var event: Event
    /// `event` at `tick`.
    public init(tick: Int, _ event: Event) {
      self.tick = tick
      self.event = event
    }
  }

  /// One track: its events and where it ends.
  public struct Track: Equatable, Sendable {
    /// The events; sorted by tick when written (events of one tick keep their order).
    public var events: [TimedEvent]
    /// The tick of the end-of-track event (at least the last event's; nil: the last event's), so a
    /// closing rest keeps its length.
    public var endTick: Int?
    /// A track of `events` ending at `endTick`.
    public init(_ events: [TimedEvent], endTick: Int? = nil) {
      self.events = events
      self.endTick = endTick
    }
  }

  /// Ticks per quarter note (the header's division), 1…32767.
  public var ticksPerQuarter: Int
  /// The tracks.
  public var tracks: [Track]

  /// A file of `tracks` at `ticksPerQuarter`.
  public init(ticksPerQuarter: Int = 480, tracks: [Track]) {
    precondition((1...0x7FFF).contains(ticksPerQuarter), "MIDIFile: ticksPerQuarter must be in 1...32767")
    self.ticksPerQuarter = ticksPerQuarter
    self.tracks = tracks
  }

  /// The file's bytes.
  public func bytes() -> [UInt8] {
    var out: [UInt8] = Array("MThd".utf8)
    out += Self.bigEndian(6, bytes: 4)
    out += Self.bigEndian(tracks.count > 1 ? 1 : 0, bytes: 2)
    out += Self.bigEndian(tracks.count, bytes: 2)
    out += Self.bigEndian(ticksPerQuarter, bytes: 2)
    for track in tracks {
      var body: [UInt8] = []
      var now = 0
      var running: UInt8?
      let ordered = track.events.enumerated().sorted { ($0.element.tick, $0.offset) < ($1.element.tick, $1.offset) }.map(\.element)
      for timed in ordered {
        precondition(timed.tick >= 0, "MIDIFile: negative tick \(timed.tick)")
        body += Self.variableLength(timed.tick - now)
        now = timed.tick
        let bytes = Self.encode(timed.event)
        if bytes[0] < 0xF0 {
          body += bytes[0] == running ? Array(bytes.dropFirst()) : bytes
          running = bytes[0]
        } else {
          body += bytes
          running = nil
        }
      }
      body += Self.variableLength(Swift.max(0, (track.endTick ?? now) - now)) + [0xFF, 0x2F, 0x00]
      out += Array("MTrk".utf8) + Self.bigEndian(body.count, bytes: 4) + body
    }
    return out
  }

  /// The bytes of one event after its delta time.
  static func encode(_ event: Event) -> [UInt8] {
    func data(_ v: Int) -> UInt8 {
      precondition((0...127).contains(v), "MIDIFile: data byte \(v) out of 0...127")
      return UInt8(v)
    }
    func channel(_ c: Int) -> UInt8 {
      precondition((0...15).contains(c), "MIDIFile: channel \(c) out of 0...15")
      return UInt8(c)
    }
    switch event {
    case .noteOn(let c, let key, let velocity): return [0x90 | channel(c), data(key), data(velocity)]
    case .noteOff(let c, let key, let velocity): return [0x80 | channel(c), data(key), data(velocity)]
    case .programChange(let c, let program): return [0xC0 | channel(c), data(program)]
    case .tempo(let us):
      precondition((1...0xFF_FFFF).contains(us), "MIDIFile: tempo \(us) µs per quarter out of range")
      return [0xFF, 0x51, 0x03] + bigEndian(us, bytes: 3)
    case .timeSignature(let n, let d, let clocks, let thirtySeconds):
      precondition(d > 0 && d & (d - 1) == 0 && d <= 128, "MIDIFile: time signature denominator \(d) is not a power of two")
      return [0xFF, 0x58, 0x04, data(n), UInt8(d.trailingZeroBitCount), data(clocks), data(thirtySeconds)]
    case .keySignature(let sharps, let minor):
      precondition((-7...7).contains(sharps), "MIDIFile: key signature \(sharps) out of -7...7")
      return [0xFF, 0x59, 0x02, UInt8(bitPattern: Int8(sharps)), minor ? 1 : 0]
    case .trackName(let name):
      var bytes = Array(name.utf8.prefix(127))
      while !bytes.isEmpty, String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }  // no cut character
      return [0xFF, 0x03] + variableLength(bytes.count) + bytes
    }
  }

  /// A MIDI variable-length quantity (0…0x0FFFFFFF).
  static func variableLength(_ value: Int) -> [UInt8] {
    precondition((0...0x0FFF_FFFF).contains(value), "MIDIFile: delta time \(value) out of range")
    var bytes = [UInt8(value & 0x7F)]
    var rest = value >> 7
    while rest > 0 {
      bytes.insert(UInt8(rest & 0x7F) | 0x80, at: 0)
      rest >>= 7
    }
    return bytes
  }

  static func bigEndian(_ value: Int, bytes count: Int) -> [UInt8] {
    precondition(value >= 0 && value < 1 << (8 * count), "MIDIFile: \(value) does not fit \(count) bytes")
    return (0..<count).reversed().map { UInt8((value >> (8 * $0)) & 0xFF) }
  }
}
