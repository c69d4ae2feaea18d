package effect

import (
	"testing"

	"github.com/hitless-ike/hitless/props/rapidseed"
)

// TestMain fixes rapid's seed unless -rapid.seed is given (see rapidseed).
func TestMain(m *testing.M) { rapidseed.Main(m) }
