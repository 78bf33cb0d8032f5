// swift-tools-version:6.2
// 6.2 is the first SwiftPM that accepts `unsafeFlags` in a package consumed as a versioned (tagged)
// dependency; older tools refuse it ("the target 'CRecurKernels' in product 'Recur' contains unsafe build
// flags"). Examples/Consumer checks this against a tagged clone.
import PackageDescription

let package = Package(
  name: "Recur",
  products: [
    .library(name: "Recur", targets: ["Recur"]),
    .executable(name: "recur", targets: ["recur"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - Kernels (C, runtime CPU dispatch)
    .target(
      name: "CRecurKernels",
      // -O3 in every configuration: debug builds (and so `swift test`) would otherwise run the kernels at -O0.
      cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
    ),

    // MARK: - MPI, loaded at run time (no build-time dependency)
    .target(name: "CRecurMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),

    // MARK: - Library
    .target(
      name: "Recur",
      dependencies: ["CRecurKernels", "CRecurMPI"],
      resources: [.copy("Resources/austen_pride_and_prejudice.txt")]
    ),

    // MARK: - Test tools (not part of the library product)
    .target(name: "RecurFuzz", dependencies: ["Recur"]),

    // MARK: - Command-line tool
    .executableTarget(
      name: "recur",
      dependencies: [
        "Recur",
        "RecurFuzz",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // MARK: - Tests
    .target(name: "_RecurTestSupport", dependencies: ["Recur"], path: "Tests/_RecurTestSupport"),
    .testTarget(
      name: "RecurTests",
      dependencies: ["Recur", "RecurFuzz", "_RecurTestSupport", "CRecurKernels"],
      resources: [.copy("Fixtures")]
    ),
  ],
  swiftLanguageModes: [.v6]
)
