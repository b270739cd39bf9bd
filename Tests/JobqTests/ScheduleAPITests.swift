import Jobq
import JobqCore
import JobqTestSupport
import Testing

/// Schedules through the public API: a `Workflow` scheduled, listed, triggered, paused, removed.
@Suite("schedule API", .enabled(if: RedisServerFixture.shouldRun))
struct ScheduleAPITests {
    @Test func aWorkflowOnASchedule() async throws {
        let server = try await RedisServerFixture.shared()
        let redis = server.makeClient()
        let client = JobqClient(engine: try Coordinator(redis: redis, namespace: "api-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)))
        var flow = Workflow("report")
        let fetch = try flow.add("fetch", handler: "http.get")
        try flow.add("mail", handler: "mail", requires: [fetch])
        let schedule = try await client.addSchedule("weekly-report", .cron("0 8 * * mon", timeZone: "Europe/Paris"), workflow: flow, overlap: .cancel, catchUp: .none)
        #expect(schedule.specText == "cron 0 8 * * mon" && schedule.timeZone == "Europe/Paris" && schedule.nextFire != nil)
        #expect(try await client.schedules().map(\.name) == ["weekly-report"])

        let run = try await client.triggerSchedule("weekly-report")
        #expect(run.id.hasPrefix("weekly-report-") && run.submitted.map(\.id) == [run.taskID("fetch"), run.taskID("mail")])
        #expect(try await run.status().definition == "report")
        let listed = try await client.schedule("weekly-report")
        #expect(listed.lastRun == run.id && listed.overlap == .cancel && listed.catchUp == Schedule.CatchUp.none)
        #expect(try await client.schedules().first?.lastRunState == .pending)

        #expect(try await client.pauseSchedule("weekly-report"))
        #expect(try await client.schedule("weekly-report").paused)
        #expect(try await client.resumeSchedule("weekly-report"))
        try await client.removeSchedule("weekly-report")
        let gone = await #expect(throws: JobqError.self) { _ = try await client.schedule("weekly-report") }
        #expect(gone?.code == .notFound)
        await redis.close()
    }
}
