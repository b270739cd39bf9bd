/// A task's fair key (``TaskSpec/fairKey``): tasks of one queue and priority that carry fair
/// keys are claimed **in turns across keys** — one task of each key with ready work, round
/// robin — instead of in submission order across the whole lane, so one tenant's 100,000 queued
/// tasks do not make another tenant's 10 wait for all of them (docs/flow-control.md,
/// "Fairness across keys").
///
/// The key is a template like a concurrency key (`tenant-{payload.tenant}`), expanded once, at
/// submit, here in Swift: the task's spec keeps the result, so claims never parse JSON and bad
/// input is refused before anything is sent.
package enum FairKey {
    /// How errors name the setting.
    package static let option = "fair_key"

    /// The expanded key for `payload`: `invalid_option` for a placeholder the payload lacks (or
    /// that is not a scalar) or a bad template, `invalid_name` for an expansion that is not a
    /// name (`[A-Za-z0-9._-]{1,128}`). `deferringElements`: `payload` is a map's template
    /// (``KeyTemplate/expand(payload:subject:deferringElements:)``).
    package static func expand(_ template: String, payload: [UInt8], subject: String? = nil, deferringElements: Bool = false) throws(JobqError) -> String {
        try KeyTemplate(template: template, option: option, kind: .fairKey).expand(payload: payload, subject: subject, deferringElements: deferringElements)
    }
}
