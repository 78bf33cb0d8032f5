import ArgumentParser
import Foundation
import Recur

/// `recur inspect FILE`: what is inside a safetensors or .npy file, and for an RNN state_dict the
/// architecture its names and shapes imply.
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "List the tensors of a .safetensors file (or describe a .npy array) and the RNN architecture they imply.",
    discussion: """
      Reads only the header unless --stats is given. Works on files written by Recur and by \
      Python (safetensors.torch.save_file, numpy.save). The format is recognised by content, not \
      by extension.
      """
  )

  @Argument(help: "A .safetensors or .npy file.") var file: String

  @Flag(help: "Also read the data and print min / mean / max of every tensor.") var stats = false

  func run() throws {
    try reportingErrors {
      do {
        let url = URL(fileURLWithPath: file)
        // Errors opening the file are reported by the readers below, with their messages.
        let magic = (try? FileHandle(forReadingFrom: url).readPrefix(6)) ?? []
        if magic == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] {
          try inspectNumPy(url)
        } else {
          try inspectSafeTensors(url)
        }
      } catch let error as IOError {
        throw error
      } catch {
        throw CLIError("\(file): \(error.localizedDescription)")
      }
    }
  }

  // MARK: - safetensors

  private func inspectSafeTensors(_ url: URL) throws {
    let header = try SafeTensorsHeader.read(from: url)
    let isArchive = header.metadata[ModelArchive.Key.format] != nil
    let elements = header.tensors.reduce(0) { $0 + $1.elementCount }
    print("\(file): safetensors, \(header.tensors.count) tensor\(header.tensors.count == 1 ? "" : "s"), "
          + "\(grouped(elements)) elements, \(byteSize(header.dataByteCount)) of data, header \(grouped(header.headerByteCount)) bytes")

    if isArchive {
      let training = header.tensors.filter { isTrainingState($0.name) }
      let modelElements = header.tensors.filter { !isTrainingState($0.name) }.reduce(0) { $0 + $1.elementCount }
      var parts = ["format \(header.metadata[ModelArchive.Key.format]!)", "task \(header.metadata[ModelArchive.Key.task] ?? "?")",
                   "model \(grouped(modelElements)) parameters"]
      parts.append(header.metadata[ModelArchive.Key.training] != nil ? "training state \(training.count) tensors (resumable)" : "no training state")
      if let producer = header.metadata[ModelArchive.Key.producer] { parts.append("written by \(abbreviated(producer))") }
      print("Recur archive: " + parts.joined(separator: ", "))
    } else if let legacy = header.metadata[ModelArchive.Key.legacyFormat] {
      print("Recur 0.1 checkpoint (format \(abbreviated(legacy))): convert it with `recur convert`")
    }

    if !header.metadata.isEmpty {
      print("\nmetadata (\(header.metadata.count)):")
      for key in header.metadata.keys.sorted() { print("  \(abbreviated(key)) = \(abbreviated(header.metadata[key]!))") }
    }

    var values: SafeTensorsFile?
    if stats { values = try SafeTensorsFile.read(from: url) }

    if !header.tensors.isEmpty {
      let names = header.tensors.map { printable($0.name) }
      let width = min(60, max(4, names.map(\.count).max()!))
      let dtypeWidth = max(5, header.tensors.map(\.dtype.rawValue.count).max()!)
      let shapes = header.tensors.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
      let shapeWidth = max(5, shapes.map(\.count).max()!)
      print("\n" + padded("name", width) + "  " + padded("dtype", dtypeWidth) + "  " + (stats ? padded("shape", shapeWidth) + "  min / mean / max" : "shape"))
      for ((info, name), shape) in zip(zip(header.tensors, names), shapes) {
        var line = padded(name, width) + "  " + padded(info.dtype.rawValue, dtypeWidth) + "  " + (stats ? padded(shape, shapeWidth) : shape)
        if let entry = values?[info.name] { line += "  " + summary(entry.tensor) }
        print(line)
      }
    }

    let modelTensors = header.tensors.filter { !isTrainingState($0.name) }
    if let architecture = RNNStateDictArchitecture(modelTensors.map { ($0.name, $0.shape) }) {
      print("\narchitecture (from names and shapes):")
      for line in architecture.description.split(separator: "\n") { print("  " + printable(String(line))) }
    }
  }

  /// Whether a tensor of an archive belongs to the training state (optimiser, data position,
  /// trained weights beside an average).
  private func isTrainingState(_ name: String) -> Bool { ModelArchive.isTrainingEntry(name) }

  // MARK: - npy

  private func inspectNumPy(_ url: URL) throws {
    let array = try NumPyArray.read(from: url)
    let count = checkedElementCount(array.shape) ?? 0
    let shape = "[" + array.shape.map(String.init).joined(separator: ", ") + "]"
    var line = "\(file): npy, \(array.dtype) array, shape \(shape), \(grouped(count)) elements, C order"
    switch array.values {
    case .float: if array.dtype != "float32" { line += " (read as float32)" }
    case .integer: line += " (read exactly as integers)"
    }
    print(line)
    if stats { print("min / mean / max: " + summary(array.tensor)) }
  }

  // MARK: - Formatting

  private func summary(_ t: Tensor) -> String {
    guard t.count > 0 else { return "(empty)" }
    return t.withUnsafeBufferPointer { b in
      var lo = Float.infinity, hi = -Float.infinity, sum = 0.0, nans = 0
      for v in b {
        if v.isNaN { nans += 1; continue }
        lo = min(lo, v)
        hi = max(hi, v)
        sum += Double(v)
      }
      let valid = b.count - nans
      let mean = valid > 0 ? sum / Double(valid) : .nan
      return String(format: "%.4g / %.4g / %.4g", lo, mean, hi) + (nans > 0 ? " (\(nans) NaN)" : "")
    }
  }

  /// `text` with control characters escaped, so names and metadata from a hostile file cannot
  /// break lines or send terminal escape sequences.
  private func printable(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x0A: out += "\\n"
      case 0x09: out += "\\t"
      case 0..<0x20, 0x7F..<0xA0: out += "\\u{\(String(scalar.value, radix: 16))}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private func abbreviated(_ value: String) -> String {
    let oneLine = printable(value)
    guard oneLine.count > 100 else { return oneLine }
    return String(oneLine.prefix(100)) + "… (\(grouped(value.count)) characters)"
  }

  private func padded(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
  }

  private func grouped(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 && c != "-" { out.append(",") }
      out.append(c)
    }
    return out
  }

  private func byteSize(_ n: Int) -> String {
    if n < 1024 { return "\(n) bytes" }
    if n < 1 << 20 { return String(format: "%.1f KiB", Double(n) / 1024) }
    if n < 1 << 30 { return String(format: "%.1f MiB", Double(n) / 1_048_576) }
    return String(format: "%.2f GiB", Double(n) / 1_073_741_824)
  }
}

extension FileHandle {
  /// Up to `count` bytes from the start (fewer for a shorter file).
  fileprivate func readPrefix(_ count: Int) throws -> [UInt8] {
    defer { try? close() }
    return [UInt8](try read(upToCount: count) ?? Data())
  }
}
