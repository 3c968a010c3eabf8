// Command books is the Pulumi program of the books platform; everything it
// does is in infra.Deploy.
package main

import (
	"github.com/books-platform/books/infra"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(infra.Deploy)
}
