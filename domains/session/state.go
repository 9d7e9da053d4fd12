package session

import "encoding/json"

// State is a session's state: its attributes by namespace and key. The zero value is a
// session never written. Its JSON is {"attributes":{"<ns>":{"<key>":{"value":"...",
// "frozen":false}}}} while the session lives ("attributes" always present, {} when
// empty) and {"destroyed":true} once it is destroyed.
type State struct {
	Attributes map[string]Namespace `json:"attributes"`
	Destroyed  bool                 `json:"destroyed,omitempty"`
}

// Namespace is the attributes of one namespace, by key.
type Namespace map[string]Attribute

// Attribute is one attribute. An attribute with an empty value that is not frozen does
// not exist: setting a value to "" removes it. A frozen one never changes again (a frozen
// empty one stays, empty).
type Attribute struct {
	Value  string `json:"value"`
	Frozen bool   `json:"frozen"`
}

// exists reports whether a is kept in the state.
func (a Attribute) exists() bool { return a.Value != "" || a.Frozen }

// MarshalJSON writes {"destroyed":true} for a destroyed session, else its attributes.
func (s State) MarshalJSON() ([]byte, error) {
	if s.Destroyed {
		return []byte(`{"destroyed":true}`), nil
	}
	attrs := s.Attributes
	if attrs == nil {
		attrs = map[string]Namespace{}
	}
	return json.Marshal(struct {
		Attributes map[string]Namespace `json:"attributes"`
	}{attrs})
}

// count returns how many attributes the session holds, across its namespaces.
func (s State) count() int {
	n := 0
	for _, ns := range s.Attributes {
		n += len(ns)
	}
	return n
}
