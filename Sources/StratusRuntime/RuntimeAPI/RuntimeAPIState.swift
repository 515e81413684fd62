/// The Runtime API's protocol state for one worker, as a pure state machine: whether the runtime waits on
/// `/next`, which invocation the worker holds and whether the runtime has it, and whether the worker is
/// dead. `Waiter` is how a parked `/next` is answered; `Held` is what the worker keeps of an invocation (its
/// caller, timers, figures). The worker does the I/O each answer asks for.
package struct RuntimeAPIState<Waiter, Held> {
    /// What the worker holds: the invocation and whether it was handed to the runtime.
    package struct Invocation {
        package var id: String
        package var held: Held
        /// Handed to the runtime's `/next`.
        package var delivered: Bool
        /// That answer was written to the runtime's connection.
        package var received = false
    }

    /// The answer to a runtime's `GET /next`.
    package enum NextAnswer {
        /// Hand the invocation `id` to this `/next` now.
        case deliver(id: String)
        /// Keep the request open until an invocation comes.
        case park
        /// The runtime asked while it still holds invocation `id` (a protocol error, 403).
        case refuseOpen(id: String)
        /// Another `/next` already waits (409).
        case refuseSecond
    }

    /// The answer to a new invocation.
    package enum InvokeAnswer {
        /// Hand it to the parked `/next`, `waiter`.
        case deliver(to: Waiter)
        /// The runtime has not asked yet (it is starting): wait for its `/next`.
        case wait
        /// The worker is dead: the invocation fails at once.
        case dead
    }

    private var parked: (waiter: Waiter, connection: ObjectIdentifier)?
    package private(set) var current: Invocation?
    package private(set) var dead = false
    /// Whether the runtime has asked for work yet (its first `/next` ends its init).
    package private(set) var initialized = false

    package init() {}

    /// A `GET /next` from `connection`; on `.park`, `waiter` is kept to answer it later.
    package mutating func next(from connection: ObjectIdentifier, waiter: Waiter) -> NextAnswer {
        if let current, current.delivered { return .refuseOpen(id: current.id) }
        if parked != nil { return .refuseSecond }
        initialized = true
        if let current {
            self.current?.delivered = true
            return .deliver(id: current.id)
        }
        parked = (waiter, connection)
        return .park
    }

    /// A new invocation, `id`, for this worker.
    package mutating func invoke(id: String, held: Held) -> InvokeAnswer {
        guard !dead else { return .dead }
        guard let waiting = parked else {
            current = Invocation(id: id, held: held, delivered: false)
            return .wait
        }
        parked = nil
        current = Invocation(id: id, held: held, delivered: true)
        return .deliver(to: waiting.waiter)
    }

    /// Updates what the worker keeps of the invocation it holds, if it is `id`.
    package mutating func update(_ id: String, _ change: (inout Held) -> Void) {
        guard current?.id == id else { return }
        change(&current!.held)
    }

    /// Ends invocation `id` (a response, an error, a timeout, a crash) and hands back what the worker kept
    /// of it; `nil` when `id` is not the invocation held, or (unless `force`) the runtime never had it.
    package mutating func complete(_ id: String, force: Bool = false) -> Held? {
        guard let current, current.id == id, force || current.delivered else { return nil }
        self.current = nil
        return current.held
    }

    /// The answer handing invocation `id` over could not be written: the runtime does not have it, and
    /// gets it again at its next `/next`. Returns whether `id` is the invocation held.
    package mutating func undeliver(_ id: String) -> Bool {
        guard current?.id == id else { return false }
        current?.delivered = false
        current?.received = false
        return true
    }

    /// A connection closed: a `/next` it had parked is gone with it.
    package mutating func connectionClosed(_ connection: ObjectIdentifier) {
        if parked?.connection == connection { parked = nil }
    }

    /// The worker is dead (exited, killed, init failed): no more invocations. Returns the id it held, if any.
    package mutating func die() -> String? {
        dead = true
        return current?.id
    }

    /// Whether the invocation held never reached a runtime that had already asked for work: a warm worker
    /// died between invocations, and the invocation can run elsewhere as if this worker never existed.
    package var heldButNeverDelivered: Bool {
        guard let current else { return false }
        return !current.received && initialized
    }

    /// The answer handing invocation `id` over was written to the runtime's connection.
    package mutating func received(_ id: String) {
        guard current?.id == id, current?.delivered == true else { return }
        current?.received = true
    }
}
