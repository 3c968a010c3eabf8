package scripts

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	fixtureCluster = "books-dev-cluster-4f2a1c3"
	fixtureService = "books-dev-service-9b7e2d1"
	taskDefRev7    = "arn:aws:ecs:eu-west-1:123456789012:task-definition/books-dev-task-5c8d0e2:7"
)

// rollout runs verify-rollout.sh against the stand-in aws answering the
// given fixtures in turn, and returns the result and the aws call log.
func rollout(t *testing.T, fixtures []string, args ...string) (result, []string) {
	t.Helper()
	requireProgram(t, "jq", "apt-get install jq")
	dir := t.TempDir()
	log := filepath.Join(dir, "aws.log")
	var files []string
	for _, f := range fixtures {
		if f == "error" {
			files = append(files, f)
			continue
		}
		p, err := filepath.Abs(filepath.Join("testdata", "ecs", f))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	env := []string{fakeBinPath(t), "FAKE_AWS_LOG=" + log, "FAKE_AWS_ECS_RESPONSES=" + strings.Join(files, " ")}
	if len(args) == 0 {
		// Every default-argument case ends by itself within its fixtures (the
		// fake aws answers instantly), so the timeout is only a guard: 60 s
		// keeps a loaded machine (each fake call runs a shell and jq) from
		// turning a three-poll case into a spurious timeout. The timeout
		// cases pass their own short --timeout.
		args = []string{"--cluster", fixtureCluster, "--service", fixtureService,
			"--task-definition", taskDefRev7, "--region", "eu-west-1", "--interval", "0", "--timeout", "60"}
	}
	r := run(t, 90*time.Second, env, "verify-rollout.sh", args...)
	calls := strings.Split(strings.TrimSpace(readFile(t, log)), "\n")
	if len(calls) == 1 && calls[0] == "" {
		calls = nil
	}
	return r, calls
}

func TestVerifyRollout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fixtures []string
		code     int
		calls    int    // describe-services calls expected
		want     string // in stderr
	}{
		{"Completed", []string{"completed.json"}, 0, 1, "ok: " + fixtureService + " runs " + taskDefRev7 + " (2/2 tasks)"},
		{"InProgressThenCompleted", []string{"in-progress.json", "in-progress.json", "completed.json"}, 0, 3, "COMPLETED"},
		{"RollingBack", []string{"rolling-back.json"}, 1, 1, "ROLLED BACK: the primary deployment ecs-svc/5527350176411129902 (IN_PROGRESS) runs arn:aws:ecs:eu-west-1:123456789012:task-definition/books-dev-task-5c8d0e2:6"},
		{"RolledBackLooksCompleted", []string{"rolled-back.json"}, 1, 1, "ROLLED BACK"},
		{"InProgressThenRolledBack", []string{"in-progress.json", "rolling-back.json"}, 1, 2, "circuit breaker: tasks failed to start"},
		{"FailedWithoutRollback", []string{"failed-no-rollback.json"}, 1, 1, "FAILED: ecs-svc/7716240914470598291"},
		{"ServiceMissing", []string{"missing.json"}, 1, 1, "MISSING"},
		{"DescribeFails", []string{"error"}, 1, 1, "aws ecs describe-services --cluster " + fixtureCluster},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, calls := rollout(t, c.fixtures)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("want exit %d and %q in stderr, got %s", c.code, c.want, r)
			}
			if len(calls) != c.calls {
				t.Fatalf("want %d describe-services calls, got %d: %q", c.calls, len(calls), calls)
			}
			wantCall := "ecs describe-services --cluster " + fixtureCluster + " --services " + fixtureService + " --region eu-west-1 --output json"
			if calls[0] != wantCall {
				t.Fatalf("aws called as %q, want %q", calls[0], wantCall)
			}
		})
	}

	t.Run("RollbackEventsShown", func(t *testing.T) {
		r, _ := rollout(t, []string{"rolled-back.json"})
		if !strings.Contains(r.stderr, "rolling back to deployment ecs-svc/3304612239004577911") {
			t.Fatalf("the service events explaining the rollback are not shown: %s", r)
		}
	})

	t.Run("TimesOutWhileInProgress", func(t *testing.T) {
		// No sleep between polls and a 3 s budget: the script must keep
		// polling (several calls) and then give up. Counting calls instead of
		// timing them keeps the test stable on a loaded machine.
		r, calls := rollout(t, []string{"in-progress.json"}, "--cluster", fixtureCluster, "--service", fixtureService,
			"--task-definition", taskDefRev7, "--region", "eu-west-1", "--interval", "0", "--timeout", "3")
		if r.code != 1 || !strings.Contains(r.stderr, "TIMED OUT after 3s") {
			t.Fatalf("want a timeout, got %s", r)
		}
		if len(calls) < 2 {
			t.Fatalf("gave up after %d call(s): it must poll until the timeout", len(calls))
		}
	})

	t.Run("CompletedButShortOfTasksTimesOut", func(t *testing.T) {
		r, _ := rollout(t, []string{"completed-short.json"}, "--cluster", fixtureCluster, "--service", fixtureService,
			"--task-definition", taskDefRev7, "--region", "eu-west-1", "--interval", "0", "--timeout", "1")
		if r.code != 1 || !strings.Contains(r.stderr, "runs 1 of 2 tasks") {
			t.Fatalf("want a failure naming 1 of 2 tasks, got %s", r)
		}
	})

	t.Run("OtherRevisionExpected", func(t *testing.T) {
		// The stack exported revision 8 but ECS runs 7: someone else's
		// deployment or a stale output is as wrong as a rollback.
		r, _ := rollout(t, []string{"completed.json"}, "--cluster", fixtureCluster, "--service", fixtureService,
			"--task-definition", strings.TrimSuffix(taskDefRev7, "7")+"8", "--region", "eu-west-1", "--interval", "0")
		if r.code != 1 || !strings.Contains(r.stderr, "ROLLED BACK") {
			t.Fatalf("want a failure, got %s", r)
		}
	})

	t.Run("FromStackOutputs", func(t *testing.T) {
		dir := t.TempDir()
		outputs := writeFile(t, dir, "outputs.json", `{"apiUrl":"https://x.execute-api.eu-west-1.amazonaws.com/v1",
			"ecsClusterName":"`+fixtureCluster+`","ecsServiceName":"`+fixtureService+`",
			"taskDefinitionArn":"`+taskDefRev7+`","region":"eu-west-1","limitsDemoEnabled":true}`)
		pulumiLog := filepath.Join(dir, "pulumi.log")
		awsLog := filepath.Join(dir, "aws.log")
		fixture, _ := filepath.Abs(filepath.Join("testdata", "ecs", "completed.json"))
		env := []string{fakeBinPath(t), "FAKE_AWS_LOG=" + awsLog, "FAKE_AWS_ECS_RESPONSES=" + fixture,
			"FAKE_PULUMI_OUTPUTS=" + outputs, "FAKE_PULUMI_LOG=" + pulumiLog}
		r := run(t, 30*time.Second, env, "verify-rollout.sh", "--stack", "dev", "--interval", "0")
		if r.code != 0 {
			t.Fatalf("want success, got %s", r)
		}
		if got := readFile(t, pulumiLog); !strings.HasPrefix(got, "stack output --json --stack dev --cwd ") {
			t.Fatalf("pulumi called as %q", got)
		}
		if got := readFile(t, awsLog); !strings.Contains(got, "--cluster "+fixtureCluster+" --services "+fixtureService+" --region eu-west-1") {
			t.Fatalf("aws not called with the stack's outputs: %q", got)
		}
	})

	t.Run("StackOutputMissing", func(t *testing.T) {
		dir := t.TempDir()
		outputs := writeFile(t, dir, "outputs.json", `{"ecsClusterName":"c","region":"eu-west-1"}`)
		env := []string{fakeBinPath(t), "FAKE_AWS_LOG=" + filepath.Join(dir, "aws.log"), "FAKE_AWS_ECS_RESPONSES=x",
			"FAKE_PULUMI_OUTPUTS=" + outputs, "FAKE_PULUMI_LOG=" + filepath.Join(dir, "pulumi.log")}
		r := run(t, 30*time.Second, env, "verify-rollout.sh", "--stack", "dev")
		if r.code != 1 || !strings.Contains(r.stderr, "stack output 'ecsServiceName' is missing") {
			t.Fatalf("want the missing output named, got %s", r)
		}
		if readFile(t, filepath.Join(dir, "aws.log")) != "" {
			t.Fatal("aws was called although an output is missing")
		}
	})
}
