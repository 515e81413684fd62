import Hummingbird
import StratusRuntime

/// The HTTP trigger gateway. Routes from `triggers/*.yaml` are served here; unmatched requests get
/// API Gateway's `404 {"message":"Not Found"}`.
public enum Gateway {
    public static func router(host: StratusHost) -> Router<BasicRequestContext> {
        let router = Router()
        router.addMiddleware { NotFoundMiddleware() }
        return router
    }
}

/// Answers anything no route matched the way API Gateway does.
struct NotFoundMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return Response(
                status: .notFound, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"message":"Not Found"}"#)))
        }
    }
}
