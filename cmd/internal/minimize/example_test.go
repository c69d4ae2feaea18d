package minimize_test

import (
	"fmt"

	"github.com/hitless-ike/hitless/cmd/internal/minimize"
)

// Three inputs, as block coverage of the code under test: the second and
// third together cover everything the first does and more, and the first
// adds nothing they lack.
func ExampleCover() {
	size := []int{40, 10, 12}
	features := [][]string{
		{"parse.go:10", "parse.go:20"},
		{"parse.go:10", "sa.go:5"},
		{"parse.go:20", "id.go:7"},
	}
	fmt.Println(minimize.Cover(size, features))
	// Output: [1 2]
}
