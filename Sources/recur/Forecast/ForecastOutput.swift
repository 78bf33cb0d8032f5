import Foundation
import Recur

/// What a forecast is of: the data, the model kind and the columns (the first is the target).
struct ForecastSubject: Encodable {
  var source: String
  var model: String
  var columns: [String]
}

/// A JSON document of `recur forecast` (metrics.json, the --predict output): the subject's fields
/// and the body's side by side at the top level.
struct ForecastDocument<Body: Encodable>: Encodable {
  let subject: ForecastSubject
  let body: Body

  func encode(to encoder: Encoder) throws {
    try subject.encode(to: encoder)
    try body.encode(to: encoder)
  }
}

/// The directory `recur forecast` writes its files to, created (with its parents) when the
/// outputs are ready; the files go in as one `AtomicFileSet`, so a failed run leaves nothing behind.
struct ForecastOutputDirectory {
  let url: URL

  init(creating path: String) throws {
    url = URL(fileURLWithPath: path, isDirectory: true)
    try OutputDirectories.create(url)
  }

  /// The file `name` in the directory.
  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  /// Writes `text` to the file `name`, atomically.
  func write(_ text: String, to name: String) throws {
    try AtomicFile.write(Array(text.utf8), to: file(name))
  }
}
