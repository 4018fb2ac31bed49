package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
)

// WriteJSON writes the report as indented JSON: the contract documented in docs/json.md.
// It streams (see jsonStream): the bytes are those json.Encoder with
// SetIndent("", "  ") writes, but a report of hundreds of megabytes is never held whole
// in memory, let alone twice.
func WriteJSON(w io.Writer, r *Report) error {
	s := newJSONStream(w)
	err := s.object(r, 0, "findings", len(r.Findings), func(i int) any { return &r.Findings[i] })
	return s.finish(err)
}

// jsonStream writes a document as json.Encoder with SetIndent("", "  ") and
// SetEscapeHTML(false) would, except that one array field of an object is produced
// element by element: each element is encoded on its own and written out.
type jsonStream struct {
	bw  *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONStream(w io.Writer) *jsonStream {
	s := &jsonStream{bw: bufio.NewWriterSize(w, 256<<10)}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

// nested is an element written by its own function (an object with a streamed field
// of its own) instead of being encoded whole.
type nested func(depth int) error

func indent(depth int) string { return strings.Repeat("  ", depth) }

// value writes v indented as at depth, without a trailing newline.
func (s *jsonStream) value(v any, depth int) error {
	if n, ok := v.(nested); ok {
		return n(depth)
	}
	s.buf.Reset()
	s.enc.SetIndent(indent(depth), "  ")
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	_, err := s.bw.Write(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")))
	return err
}

// object writes the struct *v (or v) at depth, with its field called field produced
// by elem(0..n-1) instead of read from the struct. When n is 0 the field is encoded
// from the struct as it is (null for a nil slice, [] for an empty one).
func (s *jsonStream) object(v any, depth int, field string, n int, elem func(int) any) error {
	rv := reflect.Indirect(reflect.ValueOf(v))
	rt := rv.Type()
	s.bw.WriteString("{")
	first := true
	for i := range rt.NumField() {
		name, omitEmpty := jsonName(rt.Field(i))
		streamed := name == field && n > 0
		if name == "" || (omitEmpty && !streamed && rv.Field(i).IsZero()) {
			continue
		}
		if !first {
			s.bw.WriteString(",")
		}
		first = false
		s.bw.WriteString("\n" + indent(depth+1))
		key, _ := json.Marshal(name)
		s.bw.Write(key)
		s.bw.WriteString(": ")
		if !streamed {
			if err := s.value(rv.Field(i).Interface(), depth+1); err != nil {
				return err
			}
			continue
		}
		s.bw.WriteString("[")
		for k := range n {
			if k > 0 {
				s.bw.WriteString(",")
			}
			s.bw.WriteString("\n" + indent(depth+2))
			if err := s.value(elem(k), depth+2); err != nil {
				return err
			}
		}
		s.bw.WriteString("\n" + indent(depth+1) + "]")
	}
	s.bw.WriteString("\n" + indent(depth) + "}")
	return nil
}

func (s *jsonStream) finish(err error) error {
	if err != nil {
		return err
	}
	s.bw.WriteString("\n")
	return s.bw.Flush()
}

// jsonName reads a field's JSON name and omitempty from its tag ("" for "-").
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(","+opts+",", ",omitempty,")
}
