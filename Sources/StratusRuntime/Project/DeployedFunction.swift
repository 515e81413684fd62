import Foundation
import StratusCore

/// A function as loaded from its directory: its manifest and where its code lives.
public struct DeployedFunction: Sendable, Equatable {
    public var config: FunctionConfig
    /// Absolute path of `functions/<name>`.
    public var directory: String
    /// A short hash of the directory's files, so a user can tell which code a record ran.
    public var revision: String

    public var name: String { config.name }
    public var version: String { "$LATEST" }
    public var arn: String { AWS.lambdaArn(name) }

    public init(config: FunctionConfig, directory: String, revision: String) {
        self.config = config
        self.directory = directory
        self.revision = revision
    }
}
