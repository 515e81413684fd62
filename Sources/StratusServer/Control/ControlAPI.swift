import Foundation
import Hummingbird
import StratusCore
import StratusRuntime

/// The control plane: the `/v1` JSON API the CLI uses (one controller per resource), `/metrics`, and the
/// AWS facades. Every request goes through the exposure rules, then the one error mapping.
package enum ControlAPI {
    package static func router(host: StratusHost, exposure: ControlExposure = .init()) -> Router<ControlContext> {
        let router = Router(context: ControlContext.self)
        router.add(middleware: ControlExposureMiddleware(exposure: exposure))
        router.add(middleware: APIErrorMiddleware())
        router.get("/v1/health") { _, _ in "ok" }
        router.get("/v1/openapi.json") { _, _ in JSONBody.bytes(PackageResources.openapi_json) }
        FunctionsController(host: host).register(on: router)
        QueuesController(host: host).register(on: router)
        TopicsController(host: host).register(on: router)
        SchedulesController(host: host).register(on: router)
        LogsController(host: host).register(on: router)
        Metrics.register(on: router, host: host)
        DashboardController(host: host).register(on: router)
        LambdaFacade.register(on: router, host: host)
        LambdaFunctionsAPI.register(on: router, host: host)
        AWSRouter.register(on: router, host: host)
        return router
    }
}
