// swift-tools-version: 6.2
// Benchmarks live in their own package so library users never resolve the benchmark tool.
// Run: cd Benchmarks && swift package --allow-writing-to-package-directory benchmark [--target NAME]
import PackageDescription

let benchmarkPlugin: [Target.PluginUsage] = [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "BATSBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "BATS", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "LedgerBenchmarks",
            dependencies: [.product(name: "Benchmark", package: "benchmark"), .product(name: "BATS", package: "BATS")],
            path: "Benchmarks/LedgerBenchmarks", swiftSettings: settings, plugins: benchmarkPlugin),
        .executableTarget(
            name: "ReplayBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"), .product(name: "BATS", package: "BATS"),
                .product(name: "Replay", package: "BATS"),
            ],
            path: "Benchmarks/ReplayBenchmarks", swiftSettings: settings, plugins: benchmarkPlugin),
        .executableTarget(
            name: "RouterBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"), .product(name: "BATS", package: "BATS"),
                .product(name: "Replay", package: "BATS"),
            ],
            path: "Benchmarks/RouterBenchmarks", swiftSettings: settings, plugins: benchmarkPlugin),
        .executableTarget(
            name: "GatewayBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"), .product(name: "BATS", package: "BATS"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/GatewayBenchmarks", swiftSettings: settings, plugins: benchmarkPlugin),
        .executableTarget(
            name: "FleetBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"), .product(name: "BATS", package: "BATS"),
                .product(name: "FleetLedger", package: "BATS"),
            ],
            path: "Benchmarks/FleetBenchmarks", swiftSettings: settings, plugins: benchmarkPlugin),
    ]
)
