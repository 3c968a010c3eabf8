// Command preview-offline runs a real `pulumi preview` of the books program
// (infra.Deploy, the entry point of main.go) for one stack with no AWS
// account: the Pulumi CLI's engine, stand-in aws/awsx/docker providers, the
// repository's policy pack (or any packs, of any runtime, given with
// -policy-pack), throwaway secrets, and a temporary copy of Pulumi.yaml and
// Pulumi.<stack>.yaml (the repository is never modified).
//
//	go run ./cmd/preview-offline -stack dev            # or: make preview-offline STACK=dev
//	go run ./cmd/preview-offline -stack dev -policy-pack policy -policy-pack ../org-pack
//
// It prints the engine's preview and writes .preview/<stack>/preview.json
// (`pulumi preview --json`), preview.txt and events.jsonl. It exits non-zero
// when the preview fails: a program or config error, or a mandatory policy
// violation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/books-platform/books/infra"
	"github.com/books-platform/books/offline"
	"github.com/books-platform/books/offline/standin"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "preview-offline:", err)
		os.Exit(1)
	}
}

func run() error {
	stack := flag.String("stack", "dev", "stack to preview (reads Pulumi.<stack>.yaml)")
	out := flag.String("out", "", "output directory (default .preview/<stack>)")
	var packs policyPacks
	flag.Var(&packs, "policy-pack", `policy pack directory, any runtime (go, nodejs, python); repeat for several (default policy/; "-" for none)`)
	color := flag.String("color", "auto", "display colors: auto, always, never, raw")
	keep := flag.Bool("keep", false, "keep the temporary work directory (its path is printed)")
	flag.Parse()

	root, err := offline.RepoRoot(".")
	if err != nil {
		return err
	}
	// Pack directories are relative to where the command was started, not
	// to the repository root the program runs in.
	packDirs, err := packs.dirs()
	if err != nil {
		return err
	}
	// The program runs in this process; like `pulumi preview`, which runs it
	// in the project directory, give it the repository root as its working
	// directory (relative paths such as the image's build context).
	if err := os.Chdir(root); err != nil {
		return err
	}
	outDir := *out
	if outDir == "" {
		outDir = filepath.Join(root, ".preview", *stack)
	}
	if *color == "auto" {
		*color = "never"
		if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			*color = "always"
		}
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()

	banner := strings.Repeat("=", len(standin.Banner))
	fmt.Printf("%s\n%s\n%s\n", banner, standin.Banner, banner)
	fmt.Printf("stack %s · program infra.Deploy · policy pack %s · throwaway secrets for %s\n\n",
		*stack, packs.describe(), strings.Join(requiredSecrets(), ", "))

	res, err := offline.Preview(ctx, offline.Options{
		Stack:           *stack,
		RepoDir:         root,
		Program:         infra.Deploy,
		RequiredSecrets: requiredSecrets(),
		PolicyPacks:     packDirs,
		Display:         os.Stdout,
		Color:           *color,
		OutDir:          outDir,
		KeepWorkDir:     *keep,
	})
	fmt.Println()
	fmt.Println(standin.Banner)
	if res != nil {
		if len(res.Changes) > 0 {
			fmt.Printf("planned: %s\n", formatChanges(res.Changes))
		}
		if *keep {
			fmt.Printf("work directory: %s\n", res.WorkDir)
		}
		if res.JSON != nil {
			fmt.Printf("pulumi preview --json: %s\n", filepath.Join(outDir, "preview.json"))
			fmt.Printf("render it: go run ./cmd/preview-render -tree %s\n", filepath.Join(outDir, "preview.json"))
		}
		fmt.Printf("took %s\n", res.Duration.Round(100_000_000))
	}
	var perr *offline.PreviewError
	if errors.As(err, &perr) && res != nil && res.Display != "" {
		// The engine has printed why; keep the summary short.
		return fmt.Errorf("the preview of stack %s failed (see the engine's diagnostics above)", *stack)
	}
	return err
}

// requiredSecrets are the config keys the program refuses to run without.
func requiredSecrets() []string {
	return []string{infra.KeyBasicAuthPassword, infra.KeyCacheAuthToken}
}

func formatChanges(changes map[string]int) string {
	var ops []string
	for op := range changes {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%d to %s", changes[op], op)
	}
	return strings.Join(parts, ", ")
}

// policyPacks is the repeatable -policy-pack flag.
type policyPacks []string

func (p *policyPacks) String() string { return strings.Join(*p, ",") }

func (p *policyPacks) Set(v string) error {
	if v == "" {
		return errors.New("empty policy pack directory")
	}
	*p = append(*p, v)
	return nil
}

// dirs returns the absolute pack directories: nil (the default pack) when
// the flag was not given, none for "-".
func (p policyPacks) dirs() ([]string, error) {
	if len(p) == 0 {
		return nil, nil
	}
	dirs := []string{}
	for _, d := range p {
		if d == "-" {
			if len(p) > 1 {
				return nil, errors.New(`-policy-pack "-" (no policy pack) cannot be combined with packs`)
			}
			return dirs, nil
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, abs)
	}
	return dirs, nil
}

func (p policyPacks) describe() string {
	switch {
	case len(p) == 0:
		return "policy/"
	case len(p) == 1 && p[0] == "-":
		return "none"
	}
	return strings.Join(p, ", ")
}
