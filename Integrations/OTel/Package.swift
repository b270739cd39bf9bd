// swift-tools-version:6.1
// jobq-worker-otel: the jobq-worker command with an OpenTelemetry tracer (swift-otel) bootstrapped,
// exporting each task's `jobq.task <handler>` span (and the spans its handlers make) over
// OTLP/HTTP. A package of its own, depending on the root package by path as Benchmarks/ does,
// because swift-otel and its HTTP stack take minutes to build: the root package, its tests and
// CI stay fast, and only whoever deploys this builds it (docs/operations.md, "Tracing"):
//
//     swift build -c release --package-path Integrations/OTel --scratch-path .build-otel
//     OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 .build-otel/release/jobq-worker-otel --queues default
import PackageDescription

let package = Package(
    name: "jobq-otel",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The name makes `package: "jobq"` work whatever the checkout's directory is called.
        .package(name: "jobq", path: "../.."),
        // OTLP/HTTP only: the gRPC exporter (the other trait) would add grpc-swift to the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "jobq-worker-otel",
            dependencies: [
                .product(name: "JobqWorkerCLI", package: "jobq"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/JobqWorkerOTel"
        ),
    ],
    swiftLanguageModes: [.v6]
)
