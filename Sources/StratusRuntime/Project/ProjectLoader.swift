import Foundation
import StratusCore

/// Reads a project directory: `functions/<name>/function.yaml` and `triggers/*.yaml`.
package enum ProjectLoader {
    /// What was loaded, and what could not be, each with its reason.
    package struct Project: Sendable {
        package var functions: [DeployedFunction] = []
        package var triggers = Triggers()
        package var errors: [ManifestError] = []
        /// Functions whose directory exists but did not load: triggers naming them load and wait for them.
        package var failedFunctions: Set<String> = []
        /// Functions that came from `stratus deploy` rather than `functions/`.
        package var deployed: Set<String> = []
        /// What loads but will likely not work as meant (a Node function's dependencies not installed).
        package var warnings: [String] = []
    }

    /// Loads every function directory; a bad one is reported and skipped, the others load. Functions run from
    /// their directory (so that a stack trace names the file the user edits); each gets the revision of its code
    /// as read now.
    ///
    /// `deployed` are the functions put on the host with `stratus deploy` (at their live revision): they serve
    /// with the project's, and triggers may name them. A `functions/` directory of the same name wins.
    ///
    /// With `dependencies`, a Python function's `requirements.txt` is installed (once per distinct file) and its
    /// layers put on its module path; without (`validate`), layers are checked and nothing is installed.
    package static func load(
        directory: String, deployed: [DeployedFunction] = [], dependencies: Dependencies? = nil
    ) -> Project {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let functionsDir = root.appendingPathComponent("functions")
        var project = Project()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: functionsDir.path)) ?? []
        var withoutManifest: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let dir = functionsDir.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                continue
            }
            let manifest = dir.appendingPathComponent("function.yaml")
            let shownPath = "functions/\(name)/function.yaml"
            guard let text = try? String(contentsOf: manifest, encoding: .utf8) else {
                withoutManifest.append(name)
                continue
            }
            do {
                let config = try FunctionConfig.parse(yaml: text, name: name, file: shownPath)
                if let problem = checkCode(config, in: dir) {
                    project.errors.append(ManifestError(file: shownPath, line: nil, key: "", message: problem))
                    project.failedFunctions.insert(name)
                    continue
                }
                var function = DeployedFunction(
                    config: config, directory: dir.path, revision: try CodeStore.revision(of: dir.path))
                if let dependencies {
                    function = try dependencies.resolve(function, shownDirectory: "functions/\(name)")
                } else {
                    function.modulePaths = try Dependencies.layerPaths(of: function, shown: "functions/\(name)")
                }
                if let warning = nodeDependenciesMissing(function) { project.warnings.append(warning) }
                project.functions.append(function)
            } catch let error as ManifestError {
                project.errors.append(error)
                if FunctionConfig.isValidName(name) { project.failedFunctions.insert(name) }
            } catch {
                // The code could not be read (too large, unreadable).
                project.errors.append(
                    ManifestError(file: "functions/\(name)/", line: nil, key: "", message: "\(error)"))
                project.failedFunctions.insert(name)
            }
        }
        // A directory without function.yaml is an error, unless a function uses it as a layer.
        let layers = Set(project.functions.flatMap(\.modulePaths))
        for name in withoutManifest where !layers.contains(functionsDir.appendingPathComponent(name).path) {
            project.errors.append(
                ManifestError(
                    file: "functions/\(name)/function.yaml", line: nil, key: "", message: "missing or unreadable"))
            if FunctionConfig.isValidName(name) { project.failedFunctions.insert(name) }
        }
        let fromDirectories = Set(project.functions.map(\.name)).union(project.failedFunctions)
        for function in deployed where !fromDirectories.contains(function.name) {
            project.functions.append(function)
            project.deployed.insert(function.name)
        }
        loadTriggers(root.appendingPathComponent("triggers"), into: &project)
        return project
    }

    /// Merges `triggers/*.yaml` in name order; a bad file is reported and the others still load.
    private static func loadTriggers(_ dir: URL, into project: inout Project) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        let functions = Set(project.functions.map(\.name)).union(project.failedFunctions)
        let timeouts = Dictionary(uniqueKeysWithValues: project.functions.map { ($0.name, $0.config.timeout) })
        let environment = ProcessInfo.processInfo.environment
        for file in files {
            let shownPath = "triggers/\(file)"
            guard let text = try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) else {
                project.errors.append(ManifestError(file: shownPath, line: nil, key: "", message: "unreadable"))
                continue
            }
            var merged = project.triggers
            do {
                try merged.merge(
                    yaml: text, file: shownPath, functions: functions, timeouts: timeouts, environment: environment)
                project.triggers = merged
            } catch {
                project.errors.append(error)
            }
        }
        do {
            try project.triggers.validateReferences()
        } catch {
            project.errors.append(error)
        }
    }

    /// Reads and checks one function directory as a load does (`stratus deploy`, before and after the
    /// upload): its `function.yaml`, named `shownPath` in errors, and the code a runtime needs.
    package static func checkFunction(named name: String, at directory: String, shownPath: String) throws(ManifestError)
        -> FunctionConfig
    {
        let dir = URL(fileURLWithPath: directory)
        guard let text = try? String(contentsOf: dir.appendingPathComponent("function.yaml"), encoding: .utf8) else {
            throw ManifestError(file: shownPath, line: nil, key: "", message: "missing or unreadable")
        }
        let config = try FunctionConfig.parse(yaml: text, name: name, file: shownPath)
        if let problem = checkCode(config, in: dir) {
            throw ManifestError(file: shownPath, line: nil, key: "", message: problem)
        }
        return config
    }

    /// A Node function whose `package.json` lists dependencies that have no `node_modules` to come from.
    static func nodeDependenciesMissing(_ function: DeployedFunction) -> String? {
        guard function.config.runtime == .node,
            let data = FileManager.default.contents(atPath: function.directory + "/package.json"),
            let package = JSONValue.parseObject(data), case .object(let dependencies)? = package["dependencies"],
            !dependencies.isEmpty
        else { return nil }
        let installed = [function.directory + "/node_modules"] + function.modulePaths
        let missing = dependencies.keys.sorted().filter { name in
            !installed.contains { FileManager.default.fileExists(atPath: $0 + "/" + name) }
        }
        guard !missing.isEmpty else { return nil }
        return "functions/\(function.name)/package.json: dependencies not installed (no node_modules/\(missing[0])): "
            + missing.joined(separator: ", ") + "; run npm install in functions/\(function.name)"
    }

    /// Problems visible without running the code: a `provided` function needs an executable `bootstrap`.
    private static func checkCode(_ config: FunctionConfig, in dir: URL) -> String? {
        guard config.runtime == .provided else { return nil }
        let bootstrap = dir.appendingPathComponent("bootstrap").path
        guard FileManager.default.fileExists(atPath: bootstrap) else {
            return "runtime 'provided' needs an executable file 'bootstrap' in functions/\(config.name)/"
        }
        guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
            return "functions/\(config.name)/bootstrap is not executable (chmod +x it)"
        }
        return nil
    }
}
