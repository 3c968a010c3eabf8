package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/books-platform/books/infra"
)

// TestApiPassesBinaryPayloads: a REST API without binaryMediaTypes treats
// every request body as UTF-8 text, so an upload through an S3 service
// integration (the payload demo) reaches the bucket altered. Whenever the
// API has one, binary content types pass as bytes; JSON stays text so the
// request validator still checks book bodies against the model.
func TestApiPassesBinaryPayloads(t *testing.T) {
	forEachApiStack(t, func(t *testing.T, stack string, run apiRun) {
		_, integs := methodsByRoute(t, run.g)
		uploads := false
		for _, i := range integs {
			if propString(i, "type") == "AWS" && strings.Contains(propString(i, "uri"), ":s3:path/") {
				uploads = true
			}
		}
		types := propStrings(only(t, run.g, typRestApi), "binaryMediaTypes")
		if uploads && !slices.Contains(types, "application/octet-stream") {
			t.Errorf("the API uploads to S3 but binaryMediaTypes is %v: binary bodies are mangled", types)
		}
		for _, bt := range types {
			if bt == "*/*" || strings.HasPrefix(bt, "application/json") {
				t.Errorf("binary media type %q makes JSON bodies binary: the book model is no longer validated", bt)
			}
		}
	})
	d := infra.ApiDefinition{Routes: infra.BookRoutes, BookModel: infra.BookModelSchema}
	before := infra.DeploymentHash(d)
	d.BinaryMediaTypes = infra.PayloadBinaryMediaTypes
	if infra.DeploymentHash(d) == before {
		t.Error("binary media types take effect with a deployment, but changing them does not change the deployment trigger")
	}
}
