// Package scripts holds the tests of the delivery scripts in this directory
// (secrets.sh, cognito-token.sh, smoke-test.sh, verify-rollout.sh) and of the
// GitHub Actions workflows that call them. The scripts are bash; the tests
// run them as processes, against the books API started locally, stand-in
// `aws`/`pulumi` commands (testdata/bin) and the real Pulumi CLI.
package scripts
