// An organization's policy pack, written the way platform teams write theirs
// (JavaScript or TypeScript on @pulumi/policy from npm). The offline preview
// tests run it next to the books pack: its one mandatory rule passes on the
// stack files as committed and fails when a test sets a log retention below
// the organization's minimum.
"use strict";
const { PolicyPack } = require("@pulumi/policy");

const minimumRetentionDays = 7;

new PolicyPack("org-policy", {
    policies: [
        {
            name: "org-log-retention-minimum",
            description: `CloudWatch log groups keep logs for at least ${minimumRetentionDays} days (the organization's incident-review window).`,
            enforcementLevel: "mandatory",
            validateResource: (args, reportViolation) => {
                if (args.type !== "aws:cloudwatch/logGroup:LogGroup") {
                    return;
                }
                // Unknown during a preview: undefined, so "cannot tell yet".
                // 0 or absent means never expire, which meets the minimum.
                const days = args.props.retentionInDays;
                if (typeof days === "number" && days > 0 && days < minimumRetentionDays) {
                    reportViolation(`retentionInDays is ${days}; the organization keeps logs at least ${minimumRetentionDays} days`);
                }
            },
        },
    ],
});
