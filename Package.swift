// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "BATS",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BATS", targets: ["BATS", "ModelSelection", "SpendLedger", "Gateway", "GatewayHTTP", "BATSConfiguration", "BudgetAlerts"]),
        .library(name: "FleetLedger", targets: ["FleetLedger"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "BATSServer", targets: ["BATSServer"]),
        .executable(name: "bats", targets: ["bats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        // YAML with a line and column on every node, for configuration errors that name the line (docs/configuration.md).
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        // `bats serve`: the HTTP server, its lifecycle, its metrics, and a back-pressured channel for streamed replies.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-async-algorithms", exact: "1.1.4"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        // The fleet ledger: one budget on a PostgreSQL server shared by many hosts (docs/fleet.md).
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // Pure policy: catalog, prices, tiers, budget snapshots, the selector. No I/O, no clock.
        .target(
            name: "ModelSelection",
            resources: [.copy("Resources/catalog.json")],
            swiftSettings: swiftSettings
        ),
        // The SQLite spend ledger (GRDB): reservations, settlements, window totals, audit queries.
        .target(
            name: "SpendLedger",
            dependencies: [
                "ModelSelection",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The system SQLite's C API, for the few statements on the reserve/settle hot path.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                // SHA-256 and HMAC-SHA256 for the hash chain.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL ledger (postgres-nio) for fleets, and budget leases that keep reservations local.
        .target(
            name: "FleetLedger",
            dependencies: [
                "ModelSelection", "SpendLedger",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The gateway protocol, OpenAI wire types and the server-sent-events parser. No networking.
        .target(
            name: "Gateway",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The OpenAI-compatible HTTP client (TARS or any compatible endpoint) over AsyncHTTPClient.
        .target(
            name: "GatewayHTTP",
            dependencies: [
                "Gateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Budget alerts out of the ledger: an AsyncSequence, log lines, an HTTP webhook with retries.
        .target(
            name: "BudgetAlerts",
            dependencies: [
                "SpendLedger", "ModelSelection",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The router that ties selection, ledger and gateway together: the product users import.
        .target(
            name: "BATS",
            dependencies: [
                // GatewayHTTP for `GatewayClient`, re-exported (Exports.swift) so `import BATS` is the one import.
                "ModelSelection", "SpendLedger", "Gateway", "GatewayHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Workloads (native JSONL, Azure import, generator), replay engine, reports, charts, audit.
        .target(
            name: "Replay",
            dependencies: [
                "BATS", "ModelSelection", "SpendLedger", "Gateway",
                .product(name: "Logging", package: "swift-log"),
                // Latency percentiles of replays and simulations.
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The deployment configuration file (YAML): catalog, routing, budgets and scopes, alerts, gateway, ledger.
        .target(
            name: "BATSConfiguration",
            dependencies: [
                // Gateway for `JSONValue` and `JSONSchema`: a cascade's schema verifier is checked as the file is read.
                "ModelSelection", "SpendLedger", "Gateway", "GatewayHTTP",
                .product(name: "Yams", package: "Yams"),
                // SHA-256 of caller keys' secrets (the keys file stores only the digest).
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // `bats serve`: the OpenAI-compatible sidecar (Hummingbird), its caller keys, metrics, budget JSON and dashboard.
        .target(
            name: "BATSServer",
            dependencies: [
                "BATS", "Replay", "ModelSelection", "SpendLedger", "Gateway", "BudgetAlerts", "FleetLedger",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command-line interface (thin): parsing and presentation only.
        .target(
            name: "BATSCommands",
            dependencies: [
                "BATS", "Replay", "ModelSelection", "SpendLedger", "Gateway", "GatewayHTTP", "BATSConfiguration", "BudgetAlerts", "BATSServer",
                "FleetLedger",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bats",
            dependencies: ["BATSCommands"],
            swiftSettings: swiftSettings
        ),
        // Test helpers: a loopback OpenAI-format HTTP server, a scripted gateway, ledger fixtures.
        .target(
            name: "BATSTestSupport",
            dependencies: [
                "BATS", "Gateway", "GatewayHTTP", "SpendLedger", "ModelSelection",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BATSTests",
            dependencies: [
                "BATS", "ModelSelection", "SpendLedger", "Gateway", "GatewayHTTP", "Replay",
                "BATSCommands", "BATSTestSupport", "BATSConfiguration", "BudgetAlerts", "BATSServer", "FleetLedger",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
    ]
)
