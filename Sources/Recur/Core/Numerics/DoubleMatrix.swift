/// A dense, row-major matrix of `Double`: one row per time step, one column per feature.
///
/// The echo-state network, the ridge read-out and the time-series utilities exchange data in this
/// form (they work in double precision: a ridge of 1e-7 on reservoir states needs it). Shapes are
/// written `[rows, columns]`, e.g. inputs `[T, F]`, states `[T, units]`.
public struct DoubleMatrix: Sendable, Equatable, Codable {
  /// Number of rows (time steps).
  public private(set) var rows: Int
  /// Number of columns (features).
  public let columns: Int
  /// The elements, row after row (`rows * columns` values).
  public private(set) var storage: [Double]

  /// A matrix with every element equal to `value`.
  public init(rows: Int, columns: Int, repeating value: Double = 0) {
    precondition(checkedElementCount([rows, columns]) != nil, "DoubleMatrix needs non-negative extents whose product fits memory, got [\(rows), \(columns)]")
    self.rows = rows
    self.columns = columns
    self.storage = [Double](repeating: value, count: rows * columns)
  }

  /// A matrix whose elements are left unset (callers write every element before reading any):
  /// saves zero-filling large state matrices that a kernel overwrites anyway.
  init(uninitializedRows rows: Int, columns: Int) {
    precondition(checkedElementCount([rows, columns]) != nil, "DoubleMatrix needs non-negative extents whose product fits memory, got [\(rows), \(columns)]")
    self.rows = rows
    self.columns = columns
    self.storage = [Double](unsafeUninitializedCapacity: rows * columns) { _, count in count = rows * columns }
  }

  /// A matrix over `storage` in row-major order.
  public init(rows: Int, columns: Int, storage: [Double]) {
    precondition(checkedElementCount([rows, columns]) != nil, "DoubleMatrix needs non-negative extents whose product fits memory, got [\(rows), \(columns)]")
    precondition(storage.count == rows * columns,
                 "DoubleMatrix [\(rows), \(columns)] needs \(rows * columns) values, got \(storage.count)")
    self.rows = rows
    self.columns = columns
    self.storage = storage
  }

  /// A one-column matrix `[values.count, 1]` (a univariate series).
  public init(column values: [Double]) {
    self.init(rows: values.count, columns: 1, storage: values)
  }

  /// A matrix from rows of equal length.
  public init(rowArrays: [[Double]]) {
    let columns = rowArrays.first?.count ?? 0
    precondition(rowArrays.allSatisfy { $0.count == columns }, "DoubleMatrix rows must all have \(columns) values")
    self.init(rows: rowArrays.count, columns: columns, storage: rowArrays.flatMap { $0 })
  }

  /// The element at (`row`, `column`).
  public subscript(row: Int, column: Int) -> Double {
    get { storage[row * columns + column] }
    set { storage[row * columns + column] = newValue }
  }

  /// The values of one row.
  public func row(_ index: Int) -> [Double] {
    Array(storage[(index * columns)..<((index + 1) * columns)])
  }

  /// The values of one column.
  public func column(_ index: Int) -> [Double] {
    precondition(index >= 0 && index < columns, "column \(index) out of range 0..<\(columns)")
    return (0..<rows).map { storage[$0 * columns + index] }
  }

  /// The rows in `range`, as a new matrix.
  public func rows(_ range: Range<Int>) -> DoubleMatrix {
    precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of range 0..<\(rows)")
    return DoubleMatrix(rows: range.count, columns: columns,
                        storage: Array(storage[(range.lowerBound * columns)..<(range.upperBound * columns)]))
  }

  /// The given columns, in the given order, as a new matrix.
  public func columns(_ indices: [Int]) -> DoubleMatrix {
    var out = [Double]()
    out.reserveCapacity(rows * indices.count)
    for r in 0..<rows {
      for c in indices { out.append(storage[r * columns + c]) }
    }
    return DoubleMatrix(rows: rows, columns: indices.count, storage: out)
  }

  /// Appends a row of `columns` values.
  public mutating func append(row values: [Double]) {
    precondition(values.count == columns, "appended row has \(values.count) values, matrix has \(columns) columns")
    storage.append(contentsOf: values)
    rows += 1
  }

  /// Appends the rows of `other` (same column count).
  public mutating func append(rowsOf other: DoubleMatrix) {
    precondition(other.columns == columns, "appended matrix has \(other.columns) columns, matrix has \(columns)")
    storage.append(contentsOf: other.storage)
    rows += other.rows
  }

  /// True when every element is finite (no NaN or infinity).
  public var isFinite: Bool { storage.allSatisfy { $0.isFinite } }

  /// Reads the elements.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
    try storage.withUnsafeBufferPointer(body)
  }

  /// Writes the elements.
  public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
    try storage.withUnsafeMutableBufferPointer(body)
  }
}
