// Command policy is the books platform's Pulumi policy pack
// (PulumiPolicy.yaml, runtime: go). Run it with
//
//	pulumi preview --policy-pack policy
//
// The rules live in ./rules so tests can run them over a mocked graph.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

func main() {
	if err := policyx.Main(NewPack); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
