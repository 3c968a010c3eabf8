// Command cost estimates what a stack costs per month, from the mocked graph
// of the real program (every value known), the checked-in price table
// (cost/prices.yaml) and the stack's usage file (cost/usage/<stack>.yaml),
// and compares two estimates.
//
//	go run ./cmd/cost -stack dev                     # table
//	go run ./cmd/cost -stack prod -format markdown   # for a pull request comment
//	go run ./cmd/cost -stack dev -format json > dev.json
//	go run ./cmd/cost -diff base.json head.json      # change by resource
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/books-platform/books/cost"
	"github.com/books-platform/books/tests/harness"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "dev", "stack to estimate (Pulumi.<stack>.yaml)")
	format := fs.String("format", cost.FormatTable, "output: "+strings.Join(cost.Formats, ", "))
	usageFile := fs.String("usage", "", "usage file to use instead of cost/usage/<stack>.yaml")
	diff := fs.Bool("diff", false, "compare two estimates written with -format json: -diff base.json head.json")
	from := fs.String("from", "", "render an estimate written with -format json instead of estimating the stack")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: cost [-stack STACK] [-format %s] [-usage FILE]\n       cost -diff [-format ...] base.json head.json\n       cost -from estimate.json [-format ...]\n\n%s.\n\n", strings.Join(cost.Formats, "|"), cost.Banner)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !slices.Contains(cost.Formats, *format) {
		fmt.Fprintf(stderr, "cost: -format %q is not one of %s\n", *format, strings.Join(cost.Formats, ", "))
		return 2
	}
	if *diff {
		if fs.NArg() != 2 {
			fmt.Fprintln(stderr, "cost: -diff needs two files: base.json head.json")
			return 2
		}
		base, err := cost.ReadEstimate(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, "cost:", err)
			return 1
		}
		head, err := cost.ReadEstimate(fs.Arg(1))
		if err != nil {
			fmt.Fprintln(stderr, "cost:", err)
			return 1
		}
		if err := cost.RenderDiff(stdout, cost.Compare(base, head), *format); err != nil {
			fmt.Fprintln(stderr, "cost:", err)
			return 1
		}
		return 0
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "cost: unexpected arguments %q (did you mean -diff?)\n", fs.Args())
		return 2
	}
	if *from != "" {
		e, err := cost.ReadEstimate(*from)
		if err == nil {
			err = cost.Render(stdout, e, *format)
		}
		if err != nil {
			fmt.Fprintln(stderr, "cost:", err)
			return 1
		}
		return 0
	}
	root, err := harness.RepoRoot()
	if err != nil {
		fmt.Fprintln(stderr, "cost:", err)
		return 1
	}
	stacks, err := harness.Stacks(root)
	if err != nil {
		fmt.Fprintln(stderr, "cost:", err)
		return 1
	}
	if !slices.Contains(stacks, *stack) {
		fmt.Fprintf(stderr, "cost: no stack %q (stack files: %s)\n", *stack, strings.Join(stacks, ", "))
		return 2
	}
	var opts cost.StackOptions
	if *usageFile != "" {
		b, err := os.ReadFile(*usageFile)
		if err != nil {
			fmt.Fprintln(stderr, "cost:", err)
			return 1
		}
		u, err := cost.ParseUsage(b)
		if err != nil {
			fmt.Fprintf(stderr, "cost: %s: %v\n", *usageFile, err)
			return 1
		}
		opts.Usage = &u
	}
	e, err := cost.EstimateStack(root, *stack, opts)
	if err != nil {
		fmt.Fprintln(stderr, "cost:", err)
		return 1
	}
	if *usageFile != "" {
		e.UsageFile = *usageFile
	}
	if err := cost.Render(stdout, e, *format); err != nil {
		fmt.Fprintln(stderr, "cost:", err)
		return 1
	}
	return 0
}
