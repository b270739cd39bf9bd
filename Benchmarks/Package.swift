// swift-tools-version:6.0
// jobq's benchmarks, a package of their own (as swift-nio's Benchmarks/ is) so that no benchmark
// code is part of the root package's products or its build. It depends on the root package by
// path:
//
//     swift run -c release --package-path Benchmarks JobqBenchmarks            # the list
//     swift run -c release --package-path Benchmarks JobqBenchmarks engine
//     Benchmarks/e2e.sh                                                         # real workers
//
// The `jobq-worker` the end-to-end benchmarks start is the root package's executable product,
// built from here: `swift build -c release --package-path Benchmarks --product jobq-worker`
// (it lands next to JobqBenchmarks, where they look for it).
import PackageDescription

let package = Package(
    name: "jobq-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The name makes `package: "jobq"` work whatever the checkout's directory is called
        // (a path dependency's identity is otherwise its directory name).
        .package(name: "jobq", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "JobqBenchmarks",
            dependencies: [
                .product(name: "Jobq", package: "jobq"),
                // The Redis client, the engine and the redis-server fixture: what these
                // benchmarks measure is below the public API (see the root Package.swift).
                .product(name: "_JobqBenchmarkSupport", package: "jobq"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // the tracing benchmark: an in-process worker, with and without a tracer
                .product(name: "JobqWorker", package: "jobq"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "JobqBenchmarks"
        ),
    ],
    swiftLanguageModes: [.v6]
)
