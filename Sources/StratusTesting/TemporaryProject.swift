import Foundation

/// A project directory under the system temp folder, with helpers to add functions; removed by `remove()`.
package struct TemporaryProject: Sendable {
    package let path: String

    package init() throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("stratus-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path + "/functions", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path + "/triggers", withIntermediateDirectories: true)
    }

    /// Writes `functions/<name>/function.yaml` and the given files (relative to the function directory).
    package func addFunction(_ name: String, manifest: String, files: [String: String] = [:]) throws {
        let dir = path + "/functions/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try manifest.write(toFile: dir + "/function.yaml", atomically: true, encoding: .utf8)
        for (file, contents) in files {
            try contents.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
            if file == "bootstrap" {
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/" + file)
            }
        }
    }

    /// Adds a Python function whose `app.py` is `code`.
    package func addPython(_ name: String, code: String, manifest extra: String = "") throws {
        try addFunction(name, manifest: "runtime: python\nhandler: app.handler\n" + extra, files: ["app.py": code])
    }

    package func write(_ relativePath: String, _ contents: String) throws {
        let url = URL(fileURLWithPath: path + "/" + relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
