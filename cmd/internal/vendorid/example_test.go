package vendorid_test

import (
	"crypto/md5"
	"fmt"

	"github.com/hitless-ike/hitless/cmd/internal/vendorid"
)

func ExampleName() {
	vid := md5.Sum([]byte("RFC 3947"))
	fmt.Println(vendorid.Name(vid[:]))
	// Output: RFC 3947 NAT-T
}
