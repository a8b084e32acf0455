// A TypeScript program using the zappa-vpc components. In the program's directory:
//   pulumi package add <path to zappa-vpc>/provider    (generates the local `@pulumi/zappa-vpc` SDK)
// The region is the stack's `aws:region`, as for the Python stack.
import * as pulumi from "@pulumi/pulumi";
import * as zappa from "@pulumi/zappa-vpc";

// The whole stack in one component: the network and, on it, the database, the endpoints and the Zappa
// settings (its ServiceAccess); the inputs are the Python stack's config keys.
const vpc = new zappa.PublicPrivateVpc("app", {
    availabilityZones: ["eu-west-1a", "eu-west-1b"],
    natStrategy: "one-per-az", // an enum in the schema: "none" | "single" | "one-per-az"
    bastion: "ssm",
    database: "postgres", // "none" | "postgres" | "mysql"; omitted: postgres where the pattern has data subnets
    databaseMultiAz: true,
});

// The database, endpoints and Zappa settings on a VPC someone else runs, by ids (here from config):
// only the Lambda's security group is added to that VPC.
const config = new pulumi.Config();
const shared = new zappa.ServiceAccess("shared", {
    network: {
        vpcId: config.require("sharedVpcId"),
        lambdaSubnetIds: config.requireObject<string[]>("sharedLambdaSubnetIds"),
        databaseSubnetIds: config.requireObject<string[]>("sharedDatabaseSubnetIds"),
        routeTableIds: { private: config.require("sharedPrivateRouteTableId") },
    },
    database: "mysql",
});

export const vpcId = vpc.vpcId;
export const zappaSettings = vpc.zappaSettings;
export const databaseHost = vpc.databaseHost;
export const databaseSecretArn = vpc.databaseSecretArn;
export const sharedZappaSettings = shared.zappaSettings;
export const sharedLambdaSecurityGroupId = shared.lambdaSecurityGroupId;
