package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/books-platform/books/tests/harness"
)

const typAccount = "aws:apigateway/account:Account"

// TestApiAccountIsAStackSetting: the region's API Gateway account settings
// (the CloudWatch role of execution logs) are one per account and region,
// so exactly one stack manages them (books:api.manageAccount). A stack that
// does not registers no Account; the one that does keeps its role on
// destroy, so the other stacks' logging keeps working.
func TestApiAccountIsAStackSetting(t *testing.T) {
	off := mustRunWith(t, "dev", "api", map[string]any{"manageAccount": false})
	if n := len(off.ByType(typAccount)); n != 0 {
		t.Errorf("manageAccount=false but %d apigateway.Account", n)
	}
	for _, r := range off.ByType("aws:iam/role:Role") {
		if strings.Contains(propString(r, "assumeRolePolicy"), "apigateway.amazonaws.com") && strings.Contains(r.Name, "cloudwatch") {
			t.Errorf("manageAccount=false but the account CloudWatch role %s exists", r.Name)
		}
	}
	on := mustRunWith(t, "dev", "api", map[string]any{"manageAccount": true})
	acct := only(t, on, typAccount)
	var role *harness.Resource
	for _, r := range on.ByType("aws:iam/role:Role") {
		if r.Outputs["arn"].StringValue() == propString(acct, "cloudwatchRoleArn") {
			role = r
		}
	}
	if role == nil {
		t.Fatal("the account's CloudWatch role is not a role of the stack")
	}
	if !role.RetainOnDelete {
		t.Error("destroying the managing stack would delete the role every stack's execution logging uses (want retainOnDelete)")
	}
	for _, p := range on.ByType("aws:iam/rolePolicy:RolePolicy") {
		if p.Parent == role.URN && !p.RetainOnDelete {
			t.Errorf("role policy %s is not retained with its role", p.Name)
		}
	}
	stage := only(t, on, typStage)
	if !slices.Contains(stage.Dependencies, acct.URN) {
		t.Error("the stage does not wait for the account's CloudWatch role")
	}

	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "books:api.manageAccount") {
		t.Error("README does not say how to choose the stack that manages the API Gateway account settings")
	}
}
