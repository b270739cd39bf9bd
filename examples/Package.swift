// swift-tools-version:6.0
// The Swift snippets of README.md and docs/*.md, compiled. Every ```swift block of those files
// appears verbatim in a source file here (scripts/check-snippets.sh checks it), and this package
// depends on jobq by path through its public products only, as a user's package would — so the
// docs cannot show code that does not build. scripts/run-readme-example.sh runs the README's
// producer and worker against a private redis-server; scripts/test.sh does both.
//
//     swift build --package-path examples
import PackageDescription

let package = Package(
    name: "jobq-examples",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The name makes `package: "jobq"` work whatever the checkout's directory is called.
        .package(name: "jobq", path: ".."),
        // docs/worker.md logs with swift-log and runs the worker in a swift-service-lifecycle
        // ServiceGroup: a user's package declares both too.
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // docs/dashboard.md mounts the dashboard in a Hummingbird app of one's own.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // docs/operations.md, "Tracing": spans with swift-distributed-tracing.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.0"),
    ],
    targets: [
        // README.md, "The Swift library": the producer …
        .executableTarget(
            name: "readme-producer",
            dependencies: [.product(name: "Jobq", package: "jobq")],
            path: "Sources/ReadmeProducer"
        ),
        // … and the worker that runs its workflow.
        .executableTarget(
            name: "readme-worker",
            dependencies: [
                .product(name: "Jobq", package: "jobq"),
                .product(name: "JobqWorker", package: "jobq"),
            ],
            path: "Sources/ReadmeWorker"
        ),
        // docs/worker.md, "The library".
        .executableTarget(
            name: "worker-library",
            dependencies: [
                .product(name: "Jobq", package: "jobq"),
                .product(name: "JobqWorker", package: "jobq"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/WorkerLibrary"
        ),
        // examples/crawl.yaml's worker: map, spawn and a question (scripts/run-crawl-example.sh).
        .executableTarget(
            name: "crawl-worker",
            dependencies: [
                .product(name: "Jobq", package: "jobq"),
                .product(name: "JobqWorker", package: "jobq"),
            ],
            path: "Sources/Crawl"
        ),
        // docs/dashboard.md, "Mounting the routes in your own app".
        .executableTarget(
            name: "dashboard-app",
            dependencies: [
                .product(name: "Jobq", package: "jobq"),
                .product(name: "JobqDashboard", package: "jobq"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Sources/DashboardApp"
        ),
    ],
    swiftLanguageModes: [.v6]
)
