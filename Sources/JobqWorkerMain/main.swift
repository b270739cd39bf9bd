// The jobq-worker executable: the command lives in the JobqWorkerCLI library, so that
// Integrations/OTel's jobq-worker-otel runs the very same command.
import JobqWorkerCLI

await JobqWorkerCommand.main(alongside: [])
