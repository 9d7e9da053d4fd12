package event

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Document returns the read model document of an entity: its state's JSON object with
// "id" and "version" first, e.g. {"id":"28sk...","version":3,"balance":"5.00"}. The
// state's own JSON must therefore not use the names "id" and "version".
func Document(id string, version int64, state any) ([]byte, error) {
	return FencedDocument(id, version, nil, state)
}

// FencedDocument is Document with the entity's fencing tokens, if any, after "version":
// {"id":"28sk...","version":3,"fencing":{"myapp.resource":7},"balance":"5.00"}.
func FencedDocument(id string, version int64, fencing map[string]int64, state any) ([]byte, error) {
	body, err := json.Marshal(state)
	if err != nil || len(body) < 2 || body[0] != '{' {
		return nil, errors.New("the state must marshal to a JSON object")
	}
	idJSON, _ := json.Marshal(id)
	doc := make([]byte, 0, len(body)+len(idJSON)+32)
	doc = append(doc, `{"id":`...)
	doc = append(doc, idJSON...)
	doc = append(doc, `,"version":`...)
	doc = strconv.AppendInt(doc, version, 10)
	if len(fencing) > 0 {
		f, _ := json.Marshal(fencing) // keys sorted: the same tokens always give the same bytes
		doc = append(doc, `,"fencing":`...)
		doc = append(doc, f...)
	}
	if len(body) > 2 {
		doc = append(doc, ',')
	}
	return append(doc, body[1:]...), nil
}
