import Hummingbird
import StratusCore
import StratusRuntime

/// `/v1/schedules`: the project's schedules, their next and last runs.
struct SchedulesController {
    let host: StratusHost

    func register(on router: Router<ControlContext>) {
        router.get("/v1/schedules") { _, _ in try JSONBody.response(V1.Schedules(schedules: try await host.schedules()))
        }
    }
}
