package tests

import (
	"slices"
	"strings"
	"testing"
)

func TestApiCognito(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		g := run.g
		pool := only(t, g, "aws:cognito/userPool:UserPool")
		if n, _ := propNumber(pool, "passwordPolicy", "minimumLength"); n < 12 {
			t.Errorf("minimum password length %v", n)
		}
		for _, k := range []string{"requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"} {
			if !propBool(pool, "passwordPolicy", k) {
				t.Errorf("password policy %s off", k)
			}
		}
		if !slices.Equal(propStrings(pool, "usernameAttributes"), []string{"email"}) || !slices.Equal(propStrings(pool, "autoVerifiedAttributes"), []string{"email"}) {
			t.Errorf("sign-in %v verified %v", propStrings(pool, "usernameAttributes"), propStrings(pool, "autoVerifiedAttributes"))
		}
		want := "INACTIVE"
		if run.cfg.Protect {
			want = "ACTIVE"
		}
		if stack == "prod" && want != "ACTIVE" {
			t.Error("prod is not protected")
		}
		if propString(pool, "deletionProtection") != want || propString(pool, "mfaConfiguration") != run.cfg.Api.Mfa {
			t.Errorf("deletion protection %q mfa %q", propString(pool, "deletionProtection"), propString(pool, "mfaConfiguration"))
		}
		client := only(t, g, "aws:cognito/userPoolClient:UserPoolClient")
		if propBool(client, "generateSecret") || !propBool(client, "enableTokenRevocation") || propString(client, "preventUserExistenceErrors") != "ENABLED" {
			t.Errorf("client %v", client.Inputs)
		}
		for _, f := range []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} {
			if !slices.Contains(propStrings(client, "explicitAuthFlows"), f) {
				t.Errorf("client lacks %s", f)
			}
		}
		if d, _ := propNumber(client, "refreshTokenValidity"); int(d) != run.cfg.Api.RefreshTokenDays {
			t.Errorf("refresh token validity %v", d)
		}
	})
}

// TestCognitoEmail: the default Cognito sender (a few dozen e-mails a day)
// unless an SES identity is configured, then SES with DEVELOPER sending.
func TestCognitoEmail(t *testing.T) {
	def := only(t, mustRunWith(t, "dev", "api", map[string]any{}), "aws:cognito/userPool:UserPool")
	if got := propString(def, "emailConfiguration", "emailSendingAccount"); got != "COGNITO_DEFAULT" {
		t.Errorf("default e-mail sending %q, want COGNITO_DEFAULT", got)
	}
	identity := "arn:aws:ses:eu-west-1:123456789012:identity/books.example.com"
	ses := only(t, mustRunWith(t, "prod", "api", map[string]any{
		"sesIdentityArn": identity, "emailFrom": "Books <no-reply@books.example.com>",
	}), "aws:cognito/userPool:UserPool")
	if propString(ses, "emailConfiguration", "emailSendingAccount") != "DEVELOPER" ||
		propString(ses, "emailConfiguration", "sourceArn") != identity ||
		propString(ses, "emailConfiguration", "fromEmailAddress") != "Books <no-reply@books.example.com>" {
		t.Errorf("SES e-mail configuration %v", prop(ses, "emailConfiguration"))
	}
	for _, bad := range []map[string]any{
		{"sesIdentityArn": "arn:aws:sns:eu-west-1:123456789012:topic"},
		{"emailFrom": "no-reply@books.example.com"},
	} {
		_, err := runWith(t, "dev", "api", bad)
		if err == nil || !strings.Contains(err.Error(), "books:api.") {
			t.Errorf("books:api %v: error %v, want one naming the key", bad, err)
		}
	}
}
