/// One of the hosts that share a PostgreSQL store, as the others see it (`stratus status`).
package struct ClusterHost: Sendable, Equatable, Codable {
    /// `hostname:pid`.
    package var id: String
    package var startedAtMs: Int64
    /// Its last heartbeat (every third of the lease time): a host silent for longer than the lease has stopped.
    package var heartbeatAtMs: Int64
    package var leader: Bool
    /// The control plane address it announced.
    package var control: String?

    package init(id: String, startedAtMs: Int64, heartbeatAtMs: Int64, leader: Bool, control: String?) {
        self.id = id
        self.startedAtMs = startedAtMs
        self.heartbeatAtMs = heartbeatAtMs
        self.leader = leader
        self.control = control
    }
}
