import Foundation
import Recur

/// The time of each row for plots and CSV output, read from the columns that were not selected:
/// `year` + `month` columns, or a first column holding years, `YYYY-MM`, `YYYY-MM-DD` or `YYYYMMDD`
/// dates, or increasing numbers; otherwise the row number.
struct TimeAxis {
  /// One value per row (fractional years for dates), increasing.
  let values: [Double]
  /// The raw label of each row (the time column's text, or the row number).
  let labels: [String]
  /// Axis title.
  let title: String
  /// Rows per year when the labels are regular dates (12 monthly, 52 weekly, 4 quarterly).
  let periodsPerYear: Int?

  init(table: TimeSeriesTable) {
    let n = table.rowCount
    let other = table.otherColumns
    // year + month (e.g. sunspots_monthly.csv).
    if let years = other["year"].flatMap(TimeAxis.numbers), let months = other["month"].flatMap(TimeAxis.numbers),
       years.count == n, months.allSatisfy({ $0 >= 1 && $0 <= 12 }) {
      let v = zip(years, months).map { $0 + ($1 - 1) / 12 }
      if TimeAxis.increasing(v) {
        self.init(values: v, labels: zip(other["year"]!, other["month"]!).map { "\($0.trimmingCharacters(in: .whitespaces))-\($1.trimmingCharacters(in: .whitespaces))" },
                  title: "year", periodsPerYear: 12)
        return
      }
    }
    // quarterly: year + quarter.
    if let years = other["year"].flatMap(TimeAxis.numbers), let quarters = other["quarter"].flatMap(TimeAxis.numbers),
       years.count == n, quarters.allSatisfy({ $0 >= 1 && $0 <= 4 }) {
      let v = zip(years, quarters).map { $0 + ($1 - 1) / 4 }
      if TimeAxis.increasing(v) {
        self.init(values: v, labels: zip(other["year"]!, other["quarter"]!).map { "\($0)Q\($1)" }, title: "year", periodsPerYear: 4)
        return
      }
    }
    // The first column of the file, when it was not selected.
    if let first = table.header.first, let texts = other[first] {
      if let dates = TimeAxis.dates(texts), TimeAxis.increasing(dates) {
        let spacing = dates.count > 1 ? (dates.last! - dates.first!) / Double(dates.count - 1) : 1
        let perYear = Int((1 / spacing).rounded())
        self.init(values: dates, labels: texts, title: "\(first) (year)",
                  periodsPerYear: [4, 12, 52].contains(perYear) ? perYear : nil)
        return
      }
      if let numbers = TimeAxis.numbers(texts), TimeAxis.increasing(numbers) {
        self.init(values: numbers, labels: texts, title: first, periodsPerYear: nil)
        return
      }
    }
    self.init(values: (0..<n).map(Double.init), labels: (0..<n).map(String.init), title: "row", periodsPerYear: nil)
  }

  private init(values: [Double], labels: [String], title: String, periodsPerYear: Int?) {
    self.values = values
    self.labels = labels.map { $0.trimmingCharacters(in: .whitespaces) }
    self.title = title
    self.periodsPerYear = periodsPerYear
  }

  /// The row number axis for `count` rows.
  static func rows(_ count: Int) -> TimeAxis {
    TimeAxis(values: (0..<count).map(Double.init), labels: (0..<count).map(String.init), title: "row", periodsPerYear: nil)
  }

  /// A value one step after the last row (for forecasts beyond the end).
  func extrapolated(_ k: Int) -> Double {
    guard values.count >= 2 else { return Double(values.count - 1 + k) }
    let step = (values.last! - values.first!) / Double(values.count - 1)
    return values.last! + Double(k) * step
  }

  private static func numbers(_ texts: [String]) -> [Double]? {
    var out: [Double] = []
    for t in texts {
      guard let v = Double(t.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
      out.append(v)
    }
    return out
  }

  /// Fractional years for `YYYY-MM`, `YYYY-MM-DD`, `YYYYMMDD` labels (nil if any is not a date).
  private static func dates(_ texts: [String]) -> [Double]? {
    var out: [Double] = []
    for raw in texts {
      let t = raw.trimmingCharacters(in: .whitespaces)
      var y = 0, m = 1, d = 1
      let parts = t.split(separator: "-")
      if parts.count == 2 || parts.count == 3, parts[0].count == 4,
         let yy = Int(parts[0]), let mm = Int(parts[1]) {
        y = yy
        m = mm
        if parts.count == 3 { guard let dd = Int(parts[2]) else { return nil }; d = dd }
      } else if t.count == 8, let v = Int(t) {
        y = v / 10000
        m = (v / 100) % 100
        d = v % 100
      } else {
        return nil
      }
      guard (1...12).contains(m), (1...31).contains(d), (1000...3000).contains(y) else { return nil }
      let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
      let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
      let dayOfYear = Double(cumulative[m - 1] + d - 1 + (leap && m > 2 ? 1 : 0))
      out.append(Double(y) + dayOfYear / (leap ? 366 : 365))
    }
    return out
  }

  private static func increasing(_ v: [Double]) -> Bool {
    zip(v, v.dropFirst()).allSatisfy { $0 < $1 }
  }
}
