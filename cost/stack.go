package cost

import (
	"fmt"

	"github.com/books-platform/books/tests/harness"
)

// StackOptions adjust EstimateStack.
type StackOptions struct {
	// Usage replaces the stack's usage file when set.
	Usage *Usage
	// EditConfig changes the stack's config before the mocked run (what a
	// pull request would change), as harness.WithConfig does.
	EditConfig func(*harness.StackConfig)
	// Prices replaces the checked-in price table when set.
	Prices *PriceTable
}

// EstimateStack runs the real program for a stack under the harness's mocks
// (every value known) with the stack's own config, and prices the graph in
// the stack's region (aws:region) with its usage file.
func EstimateStack(root, stack string, o StackOptions) (*Estimate, error) {
	cfg, err := harness.LoadStackConfig(root, stack)
	if err != nil {
		return nil, err
	}
	if o.EditConfig != nil {
		o.EditConfig(cfg)
	}
	region := cfg.Values["aws:region"]
	if region == "" {
		return nil, fmt.Errorf("stack %s sets no aws:region", stack)
	}
	usage, file := DefaultUsage(), ""
	if o.Usage != nil {
		usage = *o.Usage
	} else {
		u, found, err := LoadUsage(root, stack)
		if err != nil {
			return nil, err
		}
		usage = u
		if found {
			file = UsageFile(stack)
		}
	}
	table := o.Prices
	if table == nil {
		if table, err = Prices(); err != nil {
			return nil, err
		}
	}
	var opts []harness.Option
	if o.EditConfig != nil {
		opts = append(opts, harness.WithConfig(o.EditConfig))
	}
	g, err := harness.Run(stack, opts...)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	e, err := Compute(g, region, usage, table)
	if err != nil {
		return nil, err
	}
	e.UsageFile = file
	return e, nil
}
