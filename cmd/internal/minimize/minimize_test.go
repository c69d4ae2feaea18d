package minimize

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCover(t *testing.T) {
	for _, c := range []struct {
		class    string
		size     []int
		features [][]string
		want     []int
	}{
		{"no inputs", nil, nil, nil},
		{"inputs covering nothing", []int{1, 2}, [][]string{nil, {}}, nil},
		{"one input covers all", []int{5, 1, 1}, [][]string{{"a", "b", "c"}, {"a"}, {"b"}}, []int{0}},
		{"disjoint inputs all needed", []int{1, 1}, [][]string{{"a"}, {"b"}}, []int{0, 1}},
		{"duplicate features count once", []int{1, 1}, [][]string{{"a", "a", "a"}, {"a", "b"}}, []int{1}},
		{"tie goes to the smaller input", []int{9, 3, 5}, [][]string{{"a"}, {"a"}, {"a"}}, []int{1}},
		{"tie of equal size goes to the first", []int{3, 3}, [][]string{{"a"}, {"a"}}, []int{0}},
		// Greedy takes the big set first, then needs both halves' rest.
		{"greedy, not optimal", []int{1, 1, 1}, [][]string{{"1", "2", "3", "4"}, {"1", "2", "5"}, {"3", "4", "6"}}, []int{0, 1, 2}},
	} {
		if got := Cover(c.size, c.features); !slices.Equal(got, c.want) {
			t.Errorf("%s: Cover = %v, want %v", c.class, got, c.want)
		}
	}
}

// TestCoverKeepsCoverage checks on random sets that the union of the
// features is kept and that no input covering nothing is picked.
func TestCoverKeepsCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := r.IntN(12)
		size := make([]int, n)
		feats := make([][]string, n)
		all := map[string]bool{}
		for i := range n {
			size[i] = 1 + r.IntN(50)
			for range r.IntN(6) {
				f := fmt.Sprint(r.IntN(15))
				feats[i] = append(feats[i], f)
				all[f] = true
			}
		}
		got := Cover(size, feats)
		kept := map[string]bool{}
		for _, i := range got {
			for _, f := range feats[i] {
				kept[f] = true
			}
		}
		if len(kept) != len(all) || len(got) > n {
			t.Fatalf("sizes %v features %v: picked %v covers %d of %d", size, feats, got, len(kept), len(all))
		}
		for _, i := range got {
			if len(feats[i]) == 0 {
				t.Fatalf("picked input %d, which covers nothing", i)
			}
		}
	}
}

func TestParseProfile(t *testing.T) {
	prof := "mode: set\n" +
		"github.com/x/p/a.go:1.2,3.4 2 1\n" +
		"github.com/x/p/a.go:5.2,6.4 1 0\n" +
		"github.com/x/p/b.go:7.1,8.9 3 1\n"
	got, err := ParseProfile([]byte(prof))
	want := []string{"github.com/x/p/a.go:1.2,3.4", "github.com/x/p/b.go:7.1,8.9"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseProfile = %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct{ class, prof string }{
		{"empty profile", ""},
		{"no mode line", "a.go:1.2,3.4 2 1\n"},
		{"short block line", "mode: set\na.go:1.2,3.4 2\n"},
	} {
		if _, err := ParseProfile([]byte(c.prof)); err == nil {
			t.Errorf("%s: no error", c.class)
		}
	}
}

func TestGoCoverBadTarget(t *testing.T) {
	for _, name := range []string{"", "Parse", "FuzzX$|.*", "FuzzX/sub"} {
		_, err := GoCover{Target: name}.Features(t.Context(), nil)
		if !errors.Is(err, ErrTarget) {
			t.Errorf("target %q: %v, want ErrTarget", name, err)
		}
	}
}
