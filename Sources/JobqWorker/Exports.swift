// `import JobqWorker` is all a worker program writes: it brings the producer API and the model
// types along (`import Jobq` re-exports JobqCore's public types).
@_exported import Jobq
