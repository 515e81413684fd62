import Foundation
import StratusCore

/// A function as loaded from its directory: its manifest and where its code lives.
package struct DeployedFunction: Sendable, Equatable {
    package var config: FunctionConfig
    /// Where the code runs from: `functions/<name>`, or a deployed revision's snapshot in the state directory.
    package var directory: String
    /// A short hash of the code (see `CodeStore`), so a user can tell which code a record ran.
    package var revision: String
    /// Directories put on the module path after the function's own: installed packages, layers.
    package var modulePaths: [String] = []

    package var name: String { config.name }
    package var version: String { "$LATEST" }
    package var arn: String { AWS.lambdaArn(name) }

    package init(config: FunctionConfig, directory: String, revision: String) {
        self.config = config
        self.directory = directory
        self.revision = revision
    }
}
