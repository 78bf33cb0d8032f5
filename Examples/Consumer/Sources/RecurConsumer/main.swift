import Foundation
import Recur

// A tiny LSTM + Linear learns to continue sine waves: from x_t it predicts x_{t+1}, for a batch of
// waves with different phases. A few Adam steps must bring the mean squared error down.

let steps = 20, batch = 8, hidden = 16
let inputs = (0..<steps).flatMap { t in (0..<batch).map { b in Float(sin(0.4 * Double(t) + 0.8 * Double(b))) } }
let targets = (0..<steps).flatMap { t in (0..<batch).map { b in Float(sin(0.4 * Double(t + 1) + 0.8 * Double(b))) } }
let x = Tensor(shape: [steps, batch, 1], scalars: inputs)   // [T, B, 1]
let y = Tensor(shape: [steps, batch, 1], scalars: targets)

var generator = RandomGenerator(seed: 1)
let lstm = LSTM(inputSize: 1, hiddenSize: hidden, seed: 1)
let head = Linear(inputSize: hidden, outputSize: 1, generator: &generator)
let optimizer = Adam(parameters: lstm.parameters + head.parameters, learningRate: 0.02)

var losses: [Float] = []
for step in 1...60 {
  optimizer.zeroGrad()
  let (output, _) = try lstm(x)
  let loss = mseLoss(head(output), y)
  loss.backward()
  optimizer.step()
  losses.append(loss.item)
  if step == 1 || step % 10 == 0 { print("step \(step): loss \(loss.item)") }
}

guard let first = losses.first, let last = losses.last, last < first / 4 else {
  print("error: the loss did not go down enough (\(losses.first ?? .nan) → \(losses.last ?? .nan))")
  exit(1)
}
print("ok: loss \(first) → \(last)")
