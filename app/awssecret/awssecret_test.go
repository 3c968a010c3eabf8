package awssecret

import (
	"strings"
	"testing"
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
