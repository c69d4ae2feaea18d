package fuzz

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fuzzFuncs parses the test files of this package and returns, for each
// Fuzz function, the name of the property its f.Fuzz callback calls.
func fuzzFuncs(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("*_test.go")
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fd.Name.Name, "Fuzz") || fd.Recv != nil {
				continue
			}
			out[fd.Name.Name] = "" // no f.Fuzz(func(t, b) { X(t, b) }) found yet
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if sel, ok2 := fnOf(call, ok); !ok2 || sel != "f.Fuzz" || len(call.Args) != 1 {
					return true
				}
				lit, ok := call.Args[0].(*ast.FuncLit)
				if !ok || len(lit.Body.List) != 1 {
					return true
				}
				if es, ok := lit.Body.List[0].(*ast.ExprStmt); ok {
					if inner, ok := es.X.(*ast.CallExpr); ok {
						if id, ok := inner.Fun.(*ast.Ident); ok {
							out[fd.Name.Name] = id.Name
						}
					}
				}
				return false
			})
		}
	}
	return out
}

// fnOf names the function a call expression calls, as written ("f.Fuzz").
func fnOf(call *ast.CallExpr, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name, true
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name, true
		}
	}
	return "", false
}

// TestEntriesInSync keeps the three lists of fuzz targets from drifting:
// every Fuzz function calls its non-test property, Targets lists each
// with that property, and fuzz/libfuzzer/<lowercase name>/main.go is a
// libFuzzer entry running the same property; no entry lacks a target.
func TestEntriesInSync(t *testing.T) {
	funcs := fuzzFuncs(t)
	if len(funcs) == 0 {
		t.Fatal("no Fuzz functions found")
	}
	byName := map[string]Target{}
	for _, tg := range Targets() {
		byName[tg.Name] = tg
	}
	for name, prop := range funcs {
		if prop == "" || "Fuzz"+prop != name {
			t.Errorf("%s: f.Fuzz must call %s(t, b) and nothing else, found %q", name, strings.TrimPrefix(name, "Fuzz"), prop)
			continue
		}
		tg, ok := byName[name]
		if !ok {
			t.Errorf("%s: missing from Targets()", name)
			continue
		}
		fn := runtime.FuncForPC(reflect.ValueOf(tg.Check).Pointer()).Name()
		if fn != "github.com/hitless-ike/hitless/fuzz."+prop {
			t.Errorf("%s: Targets() runs %s, not %s", name, fn, prop)
		}
		checkEntry(t, filepath.Join("libfuzzer", strings.ToLower(prop), "main.go"), prop)
	}
	for name := range byName {
		if _, ok := funcs[name]; !ok {
			t.Errorf("Targets() lists %s, which has no Fuzz function", name)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join("libfuzzer", "*", "main.go"))
	for _, d := range dirs {
		prop := filepath.Base(filepath.Dir(d))
		if !slices.ContainsFunc(Targets(), func(tg Target) bool { return strings.EqualFold(tg.Name, "Fuzz"+prop) }) {
			t.Errorf("%s: a libFuzzer entry without a Go fuzz target", d)
		}
	}
}

// checkEntry checks that path is a libfuzzer-tagged main package exporting
// LLVMFuzzerTestOneInput, which hands its input to libfuzzer.Run(fuzz.prop, ...).
func checkEntry(t *testing.T, path, prop string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("libFuzzer entry: %v", err)
		return
	}
	if !strings.HasPrefix(string(src), "//go:build libfuzzer\n") {
		t.Errorf("%s: missing //go:build libfuzzer", path)
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var exported, runs bool
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != "LLVMFuzzerTestOneInput" {
			continue
		}
		exported = fd.Doc != nil && strings.Contains(fd.Doc.Text(), "export LLVMFuzzerTestOneInput") ||
			strings.Contains(string(src), "//export LLVMFuzzerTestOneInput\nfunc LLVMFuzzerTestOneInput(")
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if fn, ok := fnOf(call, ok); ok && fn == "libfuzzer.Run" && len(call.Args) == 3 {
				if sel, ok := call.Args[0].(*ast.SelectorExpr); ok && sel.Sel.Name == prop {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "fuzz" {
						runs = true
					}
				}
			}
			return true
		})
	}
	if f.Name.Name != "main" || !exported || !runs {
		t.Errorf("%s: want package main exporting LLVMFuzzerTestOneInput that calls libfuzzer.Run(fuzz.%s, ...) (main %v, exported %v, runs %v)",
			path, prop, f.Name.Name == "main", exported, runs)
	}
}
