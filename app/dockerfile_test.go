package books_test

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// dockerfile is a Dockerfile split into stages of instructions, with
// continuation lines joined and comments dropped.
type dockerfile struct {
	stages [][]string
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" && cur.Len() == 0 {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		ins := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if ins == "" {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(ins), "FROM ") {
			d.stages = append(d.stages, nil)
		}
		if len(d.stages) == 0 {
			t.Fatalf("instruction before FROM: %s", ins)
		}
		d.stages[len(d.stages)-1] = append(d.stages[len(d.stages)-1], ins)
	}
	return d
}

func hasInstruction(stage []string, re string) bool {
	r := regexp.MustCompile(re)
	for _, ins := range stage {
		if r.MatchString(ins) {
			return true
		}
	}
	return false
}

// TestDockerfile checks the image's key properties, since no Docker engine
// runs the build in tests: a cross-compiling builder stage on the build
// platform, a static stripped binary, a distroless non-root final stage.
func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t, "Dockerfile")
	if len(d.stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(d.stages))
	}
	build, final := d.stages[0], d.stages[len(d.stages)-1]
	checks := []struct {
		name  string
		stage []string
		re    string
	}{
		{"BuilderOnBuildPlatform", build, `^FROM --platform=\$BUILDPLATFORM golang:1\.26\S* AS build$`},
		{"TargetArgs", build, `^ARG TARGETOS TARGETARCH$`},
		{"CrossCompile", build, `GOOS=\$TARGETOS GOARCH=\$TARGETARCH`},
		{"StaticBinary", build, `CGO_ENABLED=0 .*go build`},
		{"Trimpath", build, `go build .*-trimpath`},
		{"Stripped", build, `go build .*-ldflags "-s -w"`},
		{"BuildsCmd", build, `go build .* \./cmd/books$`},
		{"DistrolessNonroot", final, `^FROM gcr\.io/distroless/static-debian12:nonroot$`},
		{"CopiesBinary", final, `^COPY --from=build /out/books /books$`},
		{"NonRootUser", final, `^USER (nonroot|65532)(:(nonroot|65532))?$`},
		{"Expose8080", final, `^EXPOSE 8080$`},
		{"ExecFormEntrypoint", final, `^ENTRYPOINT \["/books"\]$`},
		{"HealthcheckWithoutShell", final, `^HEALTHCHECK .*CMD \["/books", "healthcheck"\]$`},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !hasInstruction(c.stage, c.re) {
				t.Errorf("no instruction matches %s in %q", c.re, c.stage)
			}
		})
	}
	t.Run("GoVersionMatchesGoMod", func(t *testing.T) {
		mod, err := os.ReadFile("go.mod")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
		if m == nil || !hasInstruction(build, `golang:`+regexp.QuoteMeta(string(m[1]))+`\b`) {
			t.Errorf("go.mod says go %s; the builder image must be that Go release", m[1])
		}
	})
	t.Run("Dockerignore", func(t *testing.T) {
		data, err := os.ReadFile(".dockerignore")
		if err != nil {
			t.Fatal(err)
		}
		ignored := strings.Fields(string(data))
		for _, want := range []string{".git", "bench/", "**/*_test.go", "bin/"} {
			found := false
			for _, f := range ignored {
				found = found || f == want
			}
			if !found {
				t.Errorf(".dockerignore lacks %s", want)
			}
		}
		for _, f := range ignored {
			if f == "go.mod" || f == "go.sum" || f == "*.go" || f == "cmd/" || f == "postgres/" {
				t.Errorf(".dockerignore drops %s, which the build needs", f)
			}
		}
	})
}
