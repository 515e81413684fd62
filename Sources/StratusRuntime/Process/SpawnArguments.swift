#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Calls `body` with the NULL-terminated `argv` (`executable` first) and `envp` (`KEY=value`) that `posix_spawn`
/// takes, and frees them afterwards.
package func withSpawnArguments<Result>(
    executable: String, arguments: [String], environment: [String: String],
    _ body: ([UnsafeMutablePointer<CChar>?], [UnsafeMutablePointer<CChar>?]) throws -> Result
) rethrows -> Result {
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    return try body(argv, envp)
}
