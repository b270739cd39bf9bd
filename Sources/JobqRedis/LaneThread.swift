import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A wake-up signal for one lane thread: `park()` sleeps until `unpark()` (a single permit,
/// like Rust's `thread::park`), so a wake-up sent before the thread sleeps is not lost.
///
/// Safety: this is the one `@unchecked Sendable` type of JobqRedis. Its only stored state is a
/// pthread mutex, a condition variable (both heap-allocated once, never moved, freed in `deinit`
/// when no thread can hold a reference) and `permit`, which is read and written only while the
/// mutex is held. pthread mutexes and condition variables are designed to be shared between
/// threads.
final class ThreadParker: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var permit = false

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        #if canImport(Glibc)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        #else
        pthread_cond_init(condition, nil)
        #endif
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes the parked thread, or makes its next `park()` return at once.
    func unpark() {
        pthread_mutex_lock(mutex)
        permit = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until `unpark()` (returns at once if a permit is pending); consumes the permit.
    func park() {
        pthread_mutex_lock(mutex)
        while !permit {
            pthread_cond_wait(condition, mutex)
        }
        permit = false
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until `unpark()` or until `duration` has passed; consumes a permit if there was one.
    func park(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Int(max(0, seconds)) * 1_000_000_000 + Int(max(0, attoseconds) / 1_000_000_000)
        pthread_mutex_lock(mutex)
        #if canImport(Glibc)
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let total = Int(deadline.tv_nsec) + nanoseconds
        deadline.tv_sec += total / 1_000_000_000
        deadline.tv_nsec = total % 1_000_000_000
        while !permit {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        #else
        var relative = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
        if !permit { _ = pthread_cond_timedwait_relative_np(condition, mutex, &relative) }
        #endif
        permit = false
        pthread_mutex_unlock(mutex)
    }
}

/// Starts detached OS threads for lanes (the client owns them; they never run Swift tasks).
enum LaneThread {
    private final class Body: Sendable {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Runs `body` on a new detached thread named `name` (truncated to 15 bytes on Linux).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            jobq_set_thread_name(body.name)
            body.run()
            return nil
        }, box)
        #else
        var thread: pthread_t?
        let rc = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            _ = body.name.withCString { pthread_setname_np($0) }
            body.run()
            return nil
        }, box)
        #endif
        precondition(rc == 0, "JobqRedis: cannot start a lane thread (pthread_create: \(rc))")
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        if let thread { pthread_detach(thread) }
        #endif
    }
}
