// Command preview-render renders a `pulumi preview --json` document — the
// offline preview's .preview/<stack>/preview.json or a real preview's.
//
//	preview-render [-tree] PREVIEW.json              the resources as a tree with their key settings,
//	                                                 totals per type, stack outputs, unknown inputs
//	preview-render -mermaid PREVIEW.json             the architecture diagram (Mermaid)
//	preview-render -mermaid -readme README.md P.json rewrite the diagram block of README.md
//	preview-render -diff BASE.json PREVIEW.json      config and resources added, removed, changed
//	preview-render -check PREVIEW.json               the policy rules over the preview; exit 1 on a
//	                                                 mandatory violation
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/books-platform/books/offline/render"
	"github.com/books-platform/books/policy/rules"
)

func main() {
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "preview-render:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

func run(args []string) (int, error) {
	fs := flag.NewFlagSet("preview-render", flag.ContinueOnError)
	tree := fs.Bool("tree", false, "render the tree (the default)")
	mermaid := fs.Bool("mermaid", false, "render the Mermaid architecture diagram")
	readme := fs.String("readme", "", "with -mermaid: rewrite this file's diagram block for the preview's stack instead of printing")
	diff := fs.String("diff", "", "compare with this base preview (BASE.json) and list what changed")
	check := fs.String("check", "", "run the policy rules over this saved preview; exit 1 on a mandatory violation")
	prodPattern := fs.String("prod-stack-pattern", "", "with -check: stacks matching this regexp get the prod-only rules (default prod)")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}

	if *check != "" {
		p, err := render.Load(*check)
		if err != nil {
			return 2, err
		}
		cfg := rules.Config{ProdStackPattern: *prodPattern}
		if err := cfg.Validate(); err != nil {
			return 2, err
		}
		mandatory, err := render.Check(os.Stdout, p, cfg)
		if err != nil {
			return 2, err
		}
		if len(mandatory) > 0 {
			return 1, fmt.Errorf("%d mandatory policy violations", len(mandatory))
		}
		return 0, nil
	}

	if fs.NArg() != 1 {
		return 2, errors.New("usage: preview-render [-tree | -mermaid [-readme FILE] | -diff BASE.json] PREVIEW.json | -check PREVIEW.json")
	}
	p, err := render.Load(fs.Arg(0))
	if err != nil {
		return 2, err
	}
	switch {
	case *diff != "":
		base, err := render.Load(*diff)
		if err != nil {
			return 2, err
		}
		return 0, render.WriteDiff(os.Stdout, render.Diff(base, p))
	case *mermaid && *readme != "":
		old, err := os.ReadFile(*readme)
		if err != nil {
			return 2, err
		}
		stack, _ := p.Stack()
		updated := render.ReplaceReadmeDiagram(old, stack, render.Mermaid(p))
		if string(updated) == string(old) {
			fmt.Printf("%s: the %s diagram is up to date\n", *readme, stack)
			return 0, nil
		}
		if err := os.WriteFile(*readme, updated, 0o644); err != nil {
			return 2, err
		}
		fmt.Printf("%s: the %s diagram was regenerated\n", *readme, stack)
		return 0, nil
	case *mermaid:
		fmt.Print(render.Mermaid(p))
		return 0, nil
	default:
		_ = tree
		return 0, render.Tree(os.Stdout, p)
	}
}
