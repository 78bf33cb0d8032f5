extension CharLM {
  /// Samples one document: continues `prompt` until a blank line ends it (`newline` twice in a
  /// row, the boundary between the tunes of an ABC collection or the paragraphs of a text) or
  /// until `maximumLength` tokens are drawn.
  /// - Returns: the drawn ids without the closing blank line, and whether the blank line came.
  public func sampleDocument(prompt: [Int], newline: Int, maximumLength: Int, sampler: inout Sampler) throws
    -> (ids: [Int], ended: Bool) {
    var previous = prompt.last
    var ended = false
    var drawn = try generate(prompt: prompt, length: maximumLength, sampler: &sampler) { id in
      if id == newline && previous == newline {
        ended = true
        return false
      }
      previous = id
      return true
    }
    if ended {
      drawn.removeLast()
      if drawn.last == newline { drawn.removeLast() }
    }
    return (drawn, ended)
  }
}
