package infra

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cognito"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// userPool creates the Cognito user pool (e-mail sign-in) and the public
// client the CLI uses (USER_PASSWORD_AUTH, SRP, refresh; no secret).
func (b *apiBuilder) userPool() error {
	deletion := "INACTIVE"
	if b.args.DeletionProtection {
		deletion = "ACTIVE"
	}
	poolArgs := &cognito.UserPoolArgs{
		UsernameAttributes:     pulumi.StringArray{pulumi.String("email")},
		AutoVerifiedAttributes: pulumi.StringArray{pulumi.String("email")},
		UsernameConfiguration:  &cognito.UserPoolUsernameConfigurationArgs{CaseSensitive: pulumi.Bool(false)},
		PasswordPolicy: &cognito.UserPoolPasswordPolicyArgs{
			MinimumLength:                 pulumi.Int(12),
			RequireLowercase:              pulumi.Bool(true),
			RequireUppercase:              pulumi.Bool(true),
			RequireNumbers:                pulumi.Bool(true),
			RequireSymbols:                pulumi.Bool(true),
			TemporaryPasswordValidityDays: pulumi.Int(3),
		},
		AccountRecoverySetting: &cognito.UserPoolAccountRecoverySettingArgs{
			RecoveryMechanisms: cognito.UserPoolAccountRecoverySettingRecoveryMechanismArray{
				cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs{Name: pulumi.String("verified_email"), Priority: pulumi.Int(1)},
			},
		},
		// Users are invited by an administrator: a books catalogue anyone
		// could sign up to write to would need moderation first.
		AdminCreateUserConfig: &cognito.UserPoolAdminCreateUserConfigArgs{AllowAdminCreateUserOnly: pulumi.Bool(true)},
		VerificationMessageTemplate: &cognito.UserPoolVerificationMessageTemplateArgs{
			DefaultEmailOption: pulumi.String("CONFIRM_WITH_CODE"),
		},
		EmailConfiguration: userPoolEmail(b.s),
		MfaConfiguration:   pulumi.String(b.s.Mfa),
		DeletionProtection: pulumi.String(deletion),
	}
	if b.s.Mfa != "OFF" {
		poolArgs.SoftwareTokenMfaConfiguration = &cognito.UserPoolSoftwareTokenMfaConfigurationArgs{Enabled: pulumi.Bool(true)}
	}
	pool, err := cognito.NewUserPool(b.ctx, b.child("users"), poolArgs, b.parent, pulumi.Protect(b.args.DeletionProtection))
	if err != nil {
		return err
	}
	client, err := cognito.NewUserPoolClient(b.ctx, b.child("cli"), &cognito.UserPoolClientArgs{
		UserPoolId:     pool.ID().ToStringOutput(),
		GenerateSecret: pulumi.Bool(false),
		ExplicitAuthFlows: pulumi.StringArray{
			pulumi.String("ALLOW_USER_PASSWORD_AUTH"),
			pulumi.String("ALLOW_USER_SRP_AUTH"),
			pulumi.String("ALLOW_REFRESH_TOKEN_AUTH"),
		},
		AccessTokenValidity:  pulumi.Int(60),
		IdTokenValidity:      pulumi.Int(60),
		RefreshTokenValidity: pulumi.Int(b.s.RefreshTokenDays),
		TokenValidityUnits: &cognito.UserPoolClientTokenValidityUnitsArgs{
			AccessToken:  pulumi.String("minutes"),
			IdToken:      pulumi.String("minutes"),
			RefreshToken: pulumi.String("days"),
		},
		EnableTokenRevocation:      pulumi.Bool(true),
		PreventUserExistenceErrors: pulumi.String("ENABLED"),
	}, pulumi.Parent(pool))
	if err != nil {
		return err
	}
	b.pool = pool
	b.api.UserPoolId = pool.ID().ToStringOutput()
	b.api.UserPoolArn = pool.Arn
	b.api.UserPoolClientId = client.ID().ToStringOutput()
	return nil
}

// userPoolEmail is Cognito's sender: its default (COGNITO_DEFAULT, a few
// dozen e-mails a day, for dev) or, with books:api.sesIdentityArn, SES
// under the account's own sending quota (DEVELOPER; recommended for prod).
// The identity must be verified in SES, in a region Cognito supports for
// it; AWS: https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-email.html
// (terraform-provider-aws internal/service/cognitoidp/user_pool.go:
// email_sending_account COGNITO_DEFAULT|DEVELOPER, source_arn an ARN).
func userPoolEmail(s ApiConfig) *cognito.UserPoolEmailConfigurationArgs {
	if s.SesIdentityArn == "" {
		return &cognito.UserPoolEmailConfigurationArgs{EmailSendingAccount: pulumi.String("COGNITO_DEFAULT")}
	}
	e := &cognito.UserPoolEmailConfigurationArgs{
		EmailSendingAccount: pulumi.String("DEVELOPER"),
		SourceArn:           pulumi.String(s.SesIdentityArn),
	}
	if s.EmailFrom != "" {
		e.FromEmailAddress = pulumi.String(s.EmailFrom)
	}
	return e
}
