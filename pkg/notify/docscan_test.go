package notify

import (
	"encoding/json"
	"reflect"
	"testing"
)

// viaJSON is what encoding/json reads of doc: the reference readDoc must agree with.
func viaJSON(doc string, want map[string]bool) (ok, destroyed bool, a Attributes) {
	var d sessionDoc
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false, false, nil
	}
	for ns := range d.Attributes {
		if !want[ns] {
			delete(d.Attributes, ns)
		}
	}
	if len(d.Attributes) == 0 {
		d.Attributes = nil
	}
	return true, d.Destroyed, d.Attributes
}

var docSeeds = []string{
	`{"id":"x","version":2,"attributes":{"app":{"tier":{"value":"gold","frozen":false},"n":{"value":"1","frozen":true}},"web":{"k":{"value":"v","frozen":false}}}}`,
	`{"id":"x","version":3,"destroyed":true}`,
	`{"id":"x","version":1,"attributes":{}}`,
	`{"id":"x","version":1}`,
	` { "attributes" : { "app" : { "tier" : { "frozen" : true , "value" : "a\"b\u00e9" } } } , "version" : 1.5e3 } `,
	`{"attributes":{"app":{"tier":{"value":"é, ü","extra":[1,{"a":null},-2.5,true]}}},"destroyed":false,"x":[]}`,
	`{"attributes":{"app":{"tier":{"value":null}}}}`,
	`{"attributes":{"app":{"tier":{"value":"a"},"tier":{"value":"b"}}}}`,
	`{"destroyed":true,"destroyed":false,"attributes":{"app":{}}}`,
	`{"attributes":{"app":{"k":{"value":"\xff"}}}}`,
	`{"attributes":{"app":{"k":{"value":"v"}}}} x`,
	`{"attributes":{"app":{"k":{"value":"v",}}}}`,
	`{"version":01}`,
	`[]`, `null`, ``, `{"destroyed":tru}`, `{"Destroyed":true}`, `{"attributes":{"app":{"k":{"VALUE":"v"}}}}`,
	"{\"de\u017ftroyed\":true}",
}

// TestReadDoc: readDoc reads what encoding/json reads of every document it reads. (Of
// one it refuses, readDoc may still read the namespaces it wants: the read model writes
// none such.)
func TestReadDoc(t *testing.T) {
	for _, doc := range docSeeds {
		checkReadDoc(t, doc)
	}
}

func FuzzReadDoc(f *testing.F) {
	for _, doc := range docSeeds {
		f.Add(doc)
	}
	f.Fuzz(checkReadDoc)
}

func checkReadDoc(t *testing.T, doc string) {
	want := map[string]bool{"app": true}
	ok, destroyed, a := viaJSON(doc, want)
	gotDestroyed, got := readDoc(doc, want)
	if len(got) == 0 {
		got = nil
	}
	if !ok {
		return
	}
	if gotDestroyed != destroyed || !reflect.DeepEqual(got, a) {
		t.Fatalf("%q: readDoc %v %v, encoding/json %v %v", doc, gotDestroyed, got, destroyed, a)
	}
}
