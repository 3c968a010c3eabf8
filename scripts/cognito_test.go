package scripts

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cognitoRun runs cognito-token.sh against the stand-in aws and returns the
// result plus the JSON inputs the aws CLI received, by operation.
func cognitoRun(t *testing.T, env []string, args ...string) (result, map[string]map[string]any, string) {
	t.Helper()
	requireProgram(t, "jq", "apt-get install jq")
	dir := t.TempDir()
	log := filepath.Join(dir, "aws.log")
	auth := writeFile(t, dir, "auth.json", `{"ChallengeParameters":{},"AuthenticationResult":{"AccessToken":"access-token-value","ExpiresIn":3600,"TokenType":"Bearer","RefreshToken":"refresh-token-value","IdToken":"eyJraWQiOiJ0ZXN0In0.eyJzdWIiOiJzbW9rZSJ9.c2lnbmF0dXJl"}}`)
	env = append([]string{fakeBinPath(t), "FAKE_AWS_LOG=" + log, "FAKE_AWS_AUTH_RESPONSE=" + auth}, env...)
	r := run(t, 30*time.Second, env, "cognito-token.sh", args...)
	inputs := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, log+".inputs")), "\n") {
		op, doc, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("aws input for %s is not JSON: %v", op, err)
		}
		inputs[op] = m
	}
	return r, inputs, readFile(t, log)
}

var poolArgs = []string{"--user-pool-id", "eu-west-1_AbCdEf123", "--client-id", "1example23456789abcdefghij", "--region", "eu-west-1"}

func TestCognitoToken(t *testing.T) {
	const idToken = "eyJraWQiOiJ0ZXN0In0.eyJzdWIiOiJzbW9rZSJ9.c2lnbmF0dXJl"

	t.Run("NewUser", func(t *testing.T) {
		r, in, argv := cognitoRun(t, nil, poolArgs...)
		if r.code != 0 {
			t.Fatalf("want success, got %s", r)
		}
		if r.stdout != idToken+"\n" {
			t.Fatalf("stdout must be the ID token alone, got %q", r.stdout)
		}
		create := in["admin-create-user"]
		if create == nil || create["MessageAction"] != "SUPPRESS" || create["Username"] != "smoke-test@example.com" || create["UserPoolId"] != "eu-west-1_AbCdEf123" {
			t.Fatalf("admin-create-user input: %v", create)
		}
		set, auth := in["admin-set-user-password"], in["initiate-auth"]
		if set == nil || set["Permanent"] != true {
			t.Fatalf("admin-set-user-password input: %v", set)
		}
		pw, _ := set["Password"].(string)
		params, _ := auth["AuthParameters"].(map[string]any)
		if auth["AuthFlow"] != "USER_PASSWORD_AUTH" || auth["ClientId"] != "1example23456789abcdefghij" || params["PASSWORD"] != pw || params["USERNAME"] != "smoke-test@example.com" {
			t.Fatalf("initiate-auth input %v does not use the password just set", auth)
		}
		if len(pw) < 32 || !strings.ContainsAny(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") || !strings.ContainsAny(pw, "abcdef") ||
			!strings.ContainsAny(pw, "0123456789") || !strings.ContainsAny(pw, "!") {
			t.Fatalf("generated password does not meet a strong policy (length %d)", len(pw))
		}
		if strings.Contains(argv, pw) || strings.Contains(r.stderr, pw) {
			t.Fatal("the password appeared on a command line or in the output")
		}
		for _, op := range []string{"admin-get-user", "admin-create-user", "admin-set-user-password", "initiate-auth"} {
			if !strings.Contains(argv, "cognito-idp "+op+" --region eu-west-1 --output json --cli-input-json file://") {
				t.Fatalf("no %s call in %q", op, argv)
			}
		}
	})

	t.Run("ExistingUserGetsNewPassword", func(t *testing.T) {
		r, in, _ := cognitoRun(t, []string{"FAKE_AWS_USER_EXISTS=1", "COGNITO_PASSWORD=Given-Passw0rd-For-The-Test!"}, append(poolArgs, "--username", "ci@example.org")...)
		if r.code != 0 || r.stdout != idToken+"\n" {
			t.Fatalf("want the token, got %s", r)
		}
		if in["admin-create-user"] != nil {
			t.Fatal("admin-create-user called for an existing user")
		}
		if in["admin-set-user-password"]["Password"] != "Given-Passw0rd-For-The-Test!" || in["admin-set-user-password"]["Username"] != "ci@example.org" {
			t.Fatalf("COGNITO_PASSWORD/--username not used: %v", in["admin-set-user-password"])
		}
	})

	t.Run("ChallengeInsteadOfToken", func(t *testing.T) {
		dir := t.TempDir()
		challenge := writeFile(t, dir, "challenge.json", `{"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"s","ChallengeParameters":{}}`)
		r, _, _ := cognitoRun(t, []string{"FAKE_AWS_AUTH_RESPONSE=" + challenge}, poolArgs...)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "no ID token (challenge: SOFTWARE_TOKEN_MFA)") {
			t.Fatalf("want a failure naming the challenge, got %s", r)
		}
	})

	t.Run("FromStackOutputs", func(t *testing.T) {
		dir := t.TempDir()
		outputs := writeFile(t, dir, "outputs.json", `{"userPoolId":"eu-central-1_Stack0001","userPoolClientId":"stackclient0001","region":"eu-central-1"}`)
		r, in, argv := cognitoRun(t, []string{"FAKE_PULUMI_OUTPUTS=" + outputs, "FAKE_PULUMI_LOG=" + filepath.Join(dir, "pulumi.log")}, "--stack", "prod")
		if r.code != 0 || r.stdout != idToken+"\n" {
			t.Fatalf("want the token, got %s", r)
		}
		if in["admin-create-user"]["UserPoolId"] != "eu-central-1_Stack0001" || in["initiate-auth"]["ClientId"] != "stackclient0001" || !strings.Contains(argv, "--region eu-central-1") {
			t.Fatalf("stack outputs not used: %v %q", in, argv)
		}
	})
}
