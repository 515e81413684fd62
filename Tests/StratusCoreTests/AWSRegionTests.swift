import StratusCore
import Testing

struct AWSRegionTests {
    @Test(arguments: ["eu-west-1", "us-gov-west-1", "ap-southeast-2", "cn-north-1"])
    func aRegionNameIsTaken(name: String) {
        #expect(AWS.region(from: name) == name)
    }

    @Test(arguments: [
        nil, "", "EU-WEST-1", "eu-west", "eu--1", "eu-west-x", "eu-west-1;rm", "eu west 1",
        String(repeating: "a-", count: 20) + "1",
    ])
    func anythingElseIsUSEast1(name: String?) {
        #expect(AWS.region(from: name) == "us-east-1")
    }
}
