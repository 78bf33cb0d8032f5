import CRecurKernels

/// A sparse matrix in compressed-sparse-row form (what `scipy.sparse.csr_array` stores), used for
/// the reservoir's recurrent weights: row `i` lists the units that feed unit `i`.
struct SparseMatrix: Sendable, Equatable, Codable {
  /// Shape `[rows, columns]`.
  let rows: Int, columns: Int
  /// `rowStart[i]..<rowStart[i + 1]` indexes row `i`'s entries (`rows + 1` values).
  private(set) var rowStart: [Int32]
  /// Column of each stored entry, ascending within a row.
  private(set) var columnIndex: [Int32]
  /// Value of each stored entry.
  private(set) var values: [Double]

  /// Number of stored entries.
  var nonzeroCount: Int { values.count }

  /// A matrix from (row, column, value) entries; positions must be distinct.
  init(rows: Int, columns: Int, entries: [(row: Int, column: Int, value: Double)]) {
    precondition(rows < Int(Int32.max) && columns < Int(Int32.max), "SparseMatrix extents must fit Int32")
    self.rows = rows
    self.columns = columns
    let sorted = entries.sorted { ($0.row, $0.column) < ($1.row, $1.column) }
    var start = [Int32](repeating: 0, count: rows + 1)
    for e in sorted {
      precondition(e.row >= 0 && e.row < rows && e.column >= 0 && e.column < columns,
                   "entry (\(e.row), \(e.column)) outside [\(rows), \(columns)]")
      start[e.row + 1] += 1
    }
    for i in 0..<rows { start[i + 1] += start[i] }
    rowStart = start
    columnIndex = sorted.map { Int32($0.column) }
    values = sorted.map { $0.value }
  }

  /// A matrix from its CSR arrays (validated).
  init(rows: Int, columns: Int, rowStart: [Int32], columnIndex: [Int32], values: [Double]) throws {
    guard rowStart.count == rows + 1, rowStart.first == 0, Int(rowStart.last ?? -1) == values.count,
          columnIndex.count == values.count,
          zip(rowStart, rowStart.dropFirst()).allSatisfy({ $0 <= $1 }),
          columnIndex.allSatisfy({ $0 >= 0 && Int($0) < columns })
    else {
      throw ReservoirError.invalidData("sparse matrix arrays are inconsistent with shape [\(rows), \(columns)]; the checkpoint is damaged")
    }
    self.rows = rows
    self.columns = columns
    self.rowStart = rowStart
    self.columnIndex = columnIndex
    self.values = values
  }

  /// Multiplies every stored value by `factor`.
  mutating func scale(by factor: Double) {
    for i in values.indices { values[i] *= factor }
  }

  /// y = A x.
  func multiply(_ x: [Double]) -> [Double] {
    precondition(x.count == columns, "SparseMatrix.multiply: x has \(x.count) values, expected \(columns)")
    var y = [Double](repeating: 0, count: rows)
    multiply(x, into: &y)
    return y
  }

  /// y = A x into an existing buffer of `rows` values.
  func multiply(_ x: [Double], into y: inout [Double]) {
    rowStart.withUnsafeBufferPointer { rs in
      columnIndex.withUnsafeBufferPointer { ci in
        values.withUnsafeBufferPointer { v in
          x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
              recur_csr_matvec_f64(Int32(rows), rs.baseAddress!, ci.baseAddress, v.baseAddress, xp.baseAddress, yp.baseAddress)
            }
          }
        }
      }
    }
  }

  /// The dense form, row-major (for tests and small matrices).
  func dense() -> [Double] {
    var out = [Double](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for k in Int(rowStart[r])..<Int(rowStart[r + 1]) { out[r * columns + Int(columnIndex[k])] = values[k] }
    }
    return out
  }
}
