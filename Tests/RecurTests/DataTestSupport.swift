import Foundation
@testable import Recur

/// A file under `Tests/RecurTests/Fixtures/data/`.
func dataFixture(_ name: String) throws -> URL {
  guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
    throw FixtureError(description: "the test bundle has no Fixtures directory")
  }
  return root.appendingPathComponent("data").appendingPathComponent(name)
}

/// The `DataError` `body` throws (nil if it throws nothing or another error).
func dataError(_ body: () throws -> Void) -> DataError? {
  do {
    try body()
    return nil
  } catch let error as DataError {
    return error
  } catch {
    return nil
  }
}

/// The shared data directory (`../shared/data` next to the repository), if present.
func sharedDataDirectory() -> URL? {
  let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  let dir = repo.deletingLastPathComponent().appendingPathComponent("shared/data")
  return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
}
