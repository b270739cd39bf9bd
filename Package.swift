// swift-tools-version:6.0
import PackageDescription

/// Lua scripts embedded into the binary: one file per state transition.
let luaScripts: [Resource] = [
    "prelude", "submit", "claim", "heartbeat", "complete", "fail", "cancel",
    "retry", "reap", "promote", "progress", "doctor", "queue", "settle", "runs",
    "rerun", "schedule", "signal",
].map { .embedInCode("Scripts/\($0).lua") }

let package = Package(
    name: "jobq",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Jobq", targets: ["Jobq"]),
        .library(name: "JobqWorker", targets: ["JobqWorker"]),
        .executable(name: "jobq", targets: ["JobqCLI"]),
        .executable(name: "jobq-worker", targets: ["JobqWorkerMain"]),
        // The jobq-worker command as a library, for Integrations/OTel's jobq-worker-otel (a
        // worker with an OpenTelemetry exporter, kept out of this package because swift-otel
        // builds slowly): `JobqWorkerCommand.main(alongside:)` and nothing else is meant for use.
        .library(name: "JobqWorkerCLI", targets: ["JobqWorkerCLI"]),
        // The web dashboard's routes, for `jobq dashboard` and for mounting in a Hummingbird app.
        // Its own library so the web server stays out of the Jobq and JobqWorker dependency trees.
        .library(name: "JobqDashboard", targets: ["JobqDashboard"]),
        // NOT API: for jobq's own benchmarks package (Benchmarks/Package.swift) only. What they
        // measure (the Redis client, the engine's scripts) sits below the public API, and a path
        // dependency can use products only. No compatibility promise; do not depend on it.
        .library(name: "_JobqBenchmarkSupport", targets: ["JobqBenchmarkSupport", "JobqRedis", "JobqCore", "JobqSpawn", "JobqTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.0"),
    ],
    targets: [
        // C: hiredis through pkg-config; a shim header for what Swift cannot import directly.
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM rejects with a
        // warning on every build; the header is found as <hiredis/hiredis.h> in /usr/include.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Swift over hiredis: connection lanes, RESP values, pipelining, scripts. No task logic.
        .target(name: "JobqRedis", dependencies: ["CHiredis"]),
        // Task model, state table, keyspace, Lua scripts.
        .target(
            name: "JobqCore",
            dependencies: ["JobqRedis"],
            exclude: [],
            resources: luaScripts
        ),
        // Producer API.
        .target(
            name: "Jobq",
            dependencies: [
                "JobqCore", "JobqRedis",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // Worker runtime.
        .target(
            name: "JobqWorker",
            dependencies: [
                "Jobq", "JobqCore", "JobqRedis", "JobqSpawn",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The demo and test handlers (jobq.noop, jobq.sleep, jobq.fail, jobq.crash, … and their
        // journal) behind `jobq-worker --enable-test-handlers`: linked by the jobq-worker
        // executable and the tests only, so the JobqWorker library carries none of them.
        .target(name: "JobqTestHandlers", dependencies: ["JobqWorker", "Jobq"]),
        // The web dashboard: server-rendered pages, the JSON API, live updates (SSE). Hummingbird
        // is linked here and by the jobq executable only.
        .target(
            name: "JobqDashboard",
            dependencies: [
                "Jobq", "JobqCore", "JobqMetrics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Cluster metrics read from Redis at scrape time, and the small HTTP responder that
        // serves them (`jobq coordinator --metrics-port`) and the worker's own metrics.
        .target(
            name: "JobqMetrics",
            dependencies: [
                "Jobq", "JobqCore",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "JobqCLI",
            dependencies: [
                "Jobq", "JobqCore", "JobqSpawn", "JobqDashboard", "JobqMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .executableTarget(name: "JobqWorkerMain", dependencies: ["JobqWorkerCLI"]),
        .target(
            name: "JobqWorkerCLI",
            dependencies: [
                "JobqWorker", "JobqTestHandlers", "Jobq", "JobqCore", "JobqRedis", "JobqSpawn", "JobqMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Child processes (command handlers, jobq dev, test servers) started with posix_spawn.
        .target(name: "CJobqSpawn"),
        .target(name: "JobqSpawn", dependencies: ["CJobqSpawn"]),
        // Test support: a real redis-server per test run.
        .target(name: "JobqTestSupport", dependencies: ["JobqRedis", "JobqSpawn"]),
        // Benchmark support: public wrappers over package-level engine calls, for Benchmarks/.
        .target(
            name: "JobqBenchmarkSupport",
            dependencies: [
                "JobqCore", "JobqRedis", "Jobq", "JobqDashboard",
                // the dashboard's pages timed through its router, with no network in between
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "JobqRedisTests", dependencies: ["JobqRedis", "JobqTestSupport"]),
        .testTarget(name: "JobqCoreTests", dependencies: ["JobqCore", "JobqTestSupport"]),
        .testTarget(name: "JobqTests", dependencies: ["Jobq", "JobqCore", "JobqTestSupport"]),
        .testTarget(
            name: "JobqWorkerTests",
            dependencies: [
                "JobqWorker", "JobqTestHandlers", "Jobq", "JobqCore", "JobqRedis", "JobqSpawn", "JobqTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        // Fault tests: real jobq-worker processes killed, stopped and starved of Redis.
        .testTarget(name: "JobqFaultTests", dependencies: ["Jobq", "JobqCore", "JobqRedis", "JobqSpawn", "JobqTestSupport"]),
        .testTarget(
            name: "JobqDashboardTests",
            dependencies: [
                "JobqDashboard", "Jobq", "JobqCore", "JobqTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "JobqMetricsTests", dependencies: ["JobqMetrics", "Jobq", "JobqCore", "JobqRedis", "JobqTestSupport"]),
        .testTarget(
            name: "JobqCLITests",
            dependencies: [
                "JobqCLI", "Jobq", "JobqCore", "JobqRedis", "JobqTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
