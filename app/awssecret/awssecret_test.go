package awssecret

import (
	"context"
	"strings"
	"testing"

	"github.com/books-platform/books/app/internal/testenv"
)

func TestParse(t *testing.T) {
	t.Run("RDSManagedSecret", func(t *testing.T) {
		c, err := Parse(`{"username":"books_admin","password":"s3cr3t!\"x","engine":"postgres","host":"h","port":5432}`)
		if err != nil || c.Username != "books_admin" || c.Password != `s3cr3t!"x` {
			t.Fatalf("%v %+v", err, c)
		}
	})
	for name, s := range map[string]string{"NotJSON": `password=hunter2`, "NoPassword": `{"username":"u"}`, "Empty": ``} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(s)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatal("the error leaks the secret")
			}
		})
	}
}

// TestSource reads through the real SDK client from a stand-in endpoint.
func TestSource(t *testing.T) {
	sm := testenv.StartSecretsManager(t, `{"username":"books_admin","password":"first"}`)
	t.Setenv("AWS_ENDPOINT_URL", sm.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "example")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	src, err := New(context.Background(), "arn:aws:secretsmanager:eu-west-1:123456789012:secret:books-db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := src.Credentials(context.Background())
	if err != nil || c.Username != "books_admin" || c.Password != "first" {
		t.Fatalf("%v %+v", err, c)
	}
	sm.Set(`{"username":"books_admin","password":"second"}`)
	c, err = src.Credentials(context.Background())
	if err != nil || c.Password != "second" {
		t.Fatalf("after rotation: %v %+v", err, c)
	}
}
