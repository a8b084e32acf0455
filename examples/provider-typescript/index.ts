// A TypeScript program using the zappa-vpc components. In the program's directory:
//   pulumi package add <path to zappa-vpc>/provider    (generates the local `@pulumi/zappa-vpc` SDK)
import * as zappa from "@pulumi/zappa-vpc";

const vpc = new zappa.PublicPrivateVpc("app", {
    availabilityZones: ["eu-west-1a", "eu-west-1b"],
    natStrategy: "one-per-az", // an enum in the schema: "none" | "single" | "one-per-az"
    bastion: "ssm",
});

export const vpcId = vpc.vpcId;
export const zappaVpcConfig = vpc.zappaVpcConfig;
