// Command gen regenerates the committed corpus from the shipped strongSwan
// captures: capture-derived inputs, hand-made inputs with their manifests,
// provenance notes and the dictionary. It is deterministic; inputs added by
// `hitless corpus import` are left in place.
//
// Run it from anywhere inside the module:
//
//	go run ./corpus/gen        # or: go generate ./corpus
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hitless-ike/hitless/corpus/internal/generate"
)

func main() {
	root := flag.String("root", "", "module root (default: the nearest directory with go.mod)")
	dir := flag.String("dir", "", "corpus directory to write (default: <root>/corpus)")
	flag.Parse()
	if err := run(*root, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root, dir string) error {
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	if dir == "" {
		dir = filepath.Join(root, "corpus")
	}
	return generate.Write(root, dir)
}

// moduleRoot walks up from the working directory to the first go.mod.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("no go.mod above the working directory; pass -root")
		}
		d = p
	}
}
