// Package awssecret reads database credentials from an AWS Secrets Manager
// secret in the shape RDS writes for a managed master password:
// {"username":"…","password":"…", …}. It is deliberately thin; caching and
// rotation handling live in postgres.CachedCredentials.
package awssecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/books-platform/books/app/postgres"
)

// Source implements postgres.CredentialsSource.
type Source struct {
	client   *secretsmanager.Client
	secretID string
}

var _ postgres.CredentialsSource = (*Source)(nil)

// New loads the AWS configuration the usual way (on ECS: the task role via
// the container credentials endpoint, region from AWS_REGION).
func New(ctx context.Context, secretID string) (*Source, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("awssecret: load AWS config: %w", err)
	}
	return &Source{client: secretsmanager.NewFromConfig(cfg), secretID: secretID}, nil
}

// Credentials reads the current (AWSCURRENT) version of the secret.
func (s *Source) Credentials(ctx context.Context) (postgres.Credentials, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return postgres.Credentials{}, fmt.Errorf("awssecret: get secret value: %w", err)
	}
	return Parse(aws.ToString(out.SecretString))
}

// Parse decodes an RDS-style secret. The error never includes the secret.
func Parse(secret string) (postgres.Credentials, error) {
	var c postgres.Credentials
	if err := json.Unmarshal([]byte(secret), &c); err != nil {
		return postgres.Credentials{}, errors.New("awssecret: the secret is not a JSON object with username and password")
	}
	if c.Password == "" {
		return postgres.Credentials{}, errors.New("awssecret: the secret has no password")
	}
	return c, nil
}
