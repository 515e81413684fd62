import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of the control plane's `/v1` API, with the CLI's exit codes for its failures.
struct ControlClient {
    var endpoint: String

    /// Sends a request; exits 69 when the host cannot be reached.
    func send(_ method: String, _ path: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
        guard let url = URL(string: endpoint.trimmingSuffix("/") + path) else {
            throw ValidationError("invalid endpoint '\(endpoint)'")
        }
        var request = URLRequest(url: url, timeoutInterval: 960)
        request.httpMethod = method
        request.httpBody = body
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            printError("cannot reach the Stratus host at \(endpoint): \(error.localizedDescription)")
            printError("start it with `stratus serve` (or `make run`), or point --endpoint / STRATUS_ENDPOINT at it")
            throw ExitCode(69)
        }
    }

    /// Sends a request and returns the body of a 2xx answer; prints the API error and exits 1 otherwise.
    func call(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        let (status, data) = try await send(method, path, body: body)
        guard (200..<300).contains(status) else {
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            let error = object?["error"] as? [String: Any]
            printError("error: \(error?["message"] as? String ?? String(decoding: data, as: UTF8.self)) (HTTP \(status))")
            throw ExitCode.failure
        }
        return data
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }

    var percentEncodedQuery: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}
