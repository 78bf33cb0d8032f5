// swift-tools-version:6.0
// A package that uses Recur the way a stranger would: through a git URL and a version, not a path.
// SwiftPM exempts path dependencies (and the root package) from its checks on dependencies, such as the
// refusal of `unsafeFlags` in versioned dependencies before tools version 6.2; this one gets them all.
//
// build.sh clones the enclosing checkout into a temporary folder, tags the clone 99.0.0 and points
// RECUR_URL at it. Without RECUR_URL, the dependency is the enclosing checkout itself, which resolves
// only if it carries a tag 99.x.y.
import PackageDescription

let enclosingCheckout = "file://" + Context.packageDirectory.split(separator: "/").dropLast(2)
  .reduce("") { $0 + "/" + $1 }
let recurURL = Context.environment["RECUR_URL"] ?? enclosingCheckout

let package = Package(
  name: "RecurConsumer",
  dependencies: [
    .package(url: recurURL, from: "99.0.0"),
  ],
  targets: [
    .executableTarget(
      name: "RecurConsumer",
      dependencies: [.product(name: "Recur", package: "Recur")]
    ),
  ],
  swiftLanguageModes: [.v6]
)
