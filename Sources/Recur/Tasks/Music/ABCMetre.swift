import Foundation

/// The metre of an ABC `M:` field: a fraction of a whole note per bar, or free metre.
///
/// `M:6/8`, `M:3/4`, `M:C` (common time, 4/4), `M:C|` (cut time, 2/2), `M:2+3/8` (summed
/// numerators), `M:none` (free metre: bars are not checked).
public struct ABCMetre: Equatable, Sendable {
  /// Beats in the bar as written (6 in 6/8; 4 for C, 2 for C|).
  public let numerator: Int
  /// The beat's note value as written (8 in 6/8).
  public let denominator: Int
  /// False for `M:none`.
  public let isMeasured: Bool

  /// A measured metre numerator/denominator.
  public init(_ numerator: Int, _ denominator: Int) {
    self.numerator = numerator
    self.denominator = denominator
    isMeasured = true
  }

  private init(free: Void) {
    numerator = 4
    denominator = 4
    isMeasured = false
  }

  /// Free metre (`M:none`).
  public static let free = ABCMetre(free: ())

  /// The length of a full bar in whole notes (4/4 for free metre, used only for defaults).
  public var barLength: MusicFraction { MusicFraction(numerator, denominator) ?? .one }

  /// Compound metres (6/8, 9/8, 12/8…): numerator a multiple of 3 above 3. Tuplets such as
  /// `(5` take their default "in the time of" from this, as the ABC standard says.
  public var isCompound: Bool { isMeasured && numerator % 3 == 0 && numerator > 3 }

  /// The default unit note length when a tune has no `L:` (ABC 2.1, section 3.1.7): 1/16 when
  /// the metre as a decimal is below 0.75, else 1/8 (also for free metre).
  public var defaultUnitNoteLength: MusicFraction {
    isMeasured && barLength.doubleValue < 0.75 ? MusicFraction(1, 16)! : MusicFraction(1, 8)!
  }

  /// Reads the value of an `M:` field.
  static func parse(_ value: String) throws -> ABCMetre {
    let text = value.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
      .trimmingCharacters(in: .whitespaces) ?? ""
    switch text.lowercased() {
    case "c": return ABCMetre(4, 4)
    case "c|": return ABCMetre(2, 2)
    case "none", "": return .free
    default: break
    }
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let denominator = Int(parts[1].trimmingCharacters(in: .whitespaces)), (1...64).contains(denominator) else {
      throw ABCMessage("M: \"\(value)\" is not a metre; write it as 6/8, 3/4, C, C| or none")
    }
    let terms = parts[0].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "()"))
      .split(separator: "+", omittingEmptySubsequences: false)
    var numerator = 0
    for term in terms {
      guard let n = Int(term.trimmingCharacters(in: .whitespaces)), (1...64).contains(n) else {
        throw ABCMessage("M: \"\(value)\" is not a metre; write it as 6/8, 3/4, 2+3/8, C, C| or none (numbers 1–64)")
      }
      numerator += n
    }
    return ABCMetre(numerator, denominator)
  }
}
