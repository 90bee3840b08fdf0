package mem0test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the platform writes its timestamps in America/Los_Angeles
	"unicode"
)

// message is one chat message of an add.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// fieldError is one item of FastAPI's 422 answer (pydantic v2 error shape).
type fieldError struct {
	Type  string `json:"type"`
	Loc   []any  `json:"loc"`
	Msg   string `json:"msg"`
	Input any    `json:"input"`
}

// decodeJSON decodes one JSON value, numbers kept as json.Number so a stored value is
// answered back exactly as it was sent.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// pyBody checks a JSON request body field by field the way the pydantic models of
// mem0's server/main.py do (pydantic v2, lax mode), collecting FastAPI's 422 errors.
type pyBody struct {
	fields map[string]any
	errs   []fieldError
}

func parsePyBody(data []byte) *pyBody {
	b := &pyBody{}
	if len(bytes.TrimSpace(data)) == 0 {
		b.fail("missing", []any{"body"}, "Field required", nil)
		return b
	}
	v, err := decodeJSON(data)
	if err != nil {
		b.fail("json_invalid", []any{"body", 0}, "JSON decode error", map[string]any{})
		return b
	}
	m, ok := v.(map[string]any)
	if !ok {
		b.fail("model_attributes_type", []any{"body"}, "Input should be a valid dictionary or object to extract fields from", v)
		return b
	}
	b.fields = m
	return b
}

func (b *pyBody) fail(typ string, loc []any, msg string, input any) {
	b.errs = append(b.errs, fieldError{Type: typ, Loc: loc, Msg: msg, Input: input})
}

// set reports whether the field was sent, null included (pydantic's model_fields_set).
func (b *pyBody) set(key string) bool {
	_, ok := b.fields[key]
	return ok
}

// value returns a field that was sent and is not null.
func (b *pyBody) value(key string, required bool) (any, bool) {
	v, ok := b.fields[key]
	if !ok || v == nil {
		if required && b.fields != nil {
			b.fail("missing", []any{"body", key}, "Field required", b.fieldsOrNil())
		}
		return nil, false
	}
	return v, true
}

func (b *pyBody) fieldsOrNil() any {
	if b.fields == nil {
		return nil
	}
	return b.fields
}

func (b *pyBody) str(key string, required bool) *string {
	v, ok := b.value(key, required)
	if !ok {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		b.fail("string_type", []any{"body", key}, "Input should be a valid string", v)
		return nil
	}
	return &s
}

func (b *pyBody) boolean(key string) *bool {
	v, ok := b.value(key, false)
	if !ok {
		return nil
	}
	if x, ok := laxBool(v); ok {
		return &x
	}
	b.fail("bool_parsing", []any{"body", key}, "Input should be a valid boolean, unable to interpret input", v)
	return nil
}

func (b *pyBody) integer(key string) *int {
	v, ok := b.value(key, false)
	if !ok {
		return nil
	}
	if n, ok := laxInt(v); ok {
		return &n
	}
	b.fail("int_parsing", []any{"body", key}, "Input should be a valid integer, unable to parse string as an integer", v)
	return nil
}

func (b *pyBody) number(key string) *float64 {
	v, ok := b.value(key, false)
	if !ok {
		return nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		b.fail("float_type", []any{"body", key}, "Input should be a valid number", v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.fail("float_parsing", []any{"body", key}, "Input should be a valid number, unable to parse string as a number", v)
		return nil
	}
	return &f
}

func (b *pyBody) object(key string) map[string]any {
	v, ok := b.value(key, false)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		b.fail("dict_type", []any{"body", key}, "Input should be a valid dictionary", v)
		return nil
	}
	return m
}

// messages reads List[Message] where Message is {role: str, content: str}.
func (b *pyBody) messages(key string) []message {
	v, ok := b.value(key, true)
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		b.fail("list_type", []any{"body", key}, "Input should be a valid list", v)
		return nil
	}
	out := make([]message, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			b.fail("model_type", []any{"body", key, i}, "Input should be a valid dictionary or instance of Message", item)
			continue
		}
		var msg message
		for _, f := range []struct {
			name string
			dst  *string
		}{{"role", &msg.Role}, {"content", &msg.Content}} {
			switch s := m[f.name].(type) {
			case string:
				*f.dst = s
			case nil:
				b.fail("missing", []any{"body", key, i, f.name}, "Field required", m)
			default:
				b.fail("string_type", []any{"body", key, i, f.name}, "Input should be a valid string", s)
			}
		}
		out = append(out, msg)
	}
	return out
}

// laxBool is pydantic's lax boolean: true/false, 0/1 and the usual words.
func laxBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case json.Number:
		switch x.String() {
		case "0":
			return false, true
		case "1":
			return true, true
		}
	case string:
		return queryBool(x)
	}
	return false, false
}

// queryBool parses a boolean the way pydantic reads one from a string.
func queryBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "on", "t", "true", "y", "yes":
		return true, true
	case "0", "off", "f", "false", "n", "no":
		return false, true
	}
	return false, false
}

// laxInt is pydantic's lax integer: integers, floats without a fraction, numeric strings.
func laxInt(v any) (int, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// pyStr is Python's str() of a decoded JSON value, which mem0 applies to filter values
// and entity ids.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		s := x.String()
		if !strings.ContainsAny(s, ".eE") {
			return s
		}
		f, err := x.Float64()
		if err != nil {
			return s
		}
		return pyFloat(f)
	case float64:
		return pyFloat(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// pyFloat is Python's repr of a float.
func pyFloat(f float64) string {
	if a := math.Abs(f); a >= 1e16 || (a != 0 && a < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// validateEntityID is _validate_and_trim_entity_id of mem0/memory/main.py (2.0.18):
// coerced to str, trimmed, empty or inner whitespace refused.
func validateEntityID(v any, name string) (string, error) {
	s := strings.TrimSpace(pyStr(v))
	if s == "" {
		return "", fmt.Errorf("Invalid %s: cannot be empty or whitespace-only. Provide a valid identifier.", name)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("Invalid %s: cannot contain whitespace. Provide a valid identifier without spaces.", name)
	}
	return s, nil
}

// normalizeExpirationDate is _normalize_expiration_date of mem0/memory/main.py (2.0.18).
func normalizeExpirationDate(s string) (string, error) {
	for _, layout := range []string{"2006-01-02", "20060102"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d.Format("2006-01-02"), nil
		}
	}
	return "", errors.New("expiration_date must be a valid date in YYYY-MM-DD format.")
}

// payloadIsExpired is _payload_is_expired of mem0/memory/main.py (2.0.18): expired when
// the expiration date is before today (UTC).
func payloadIsExpired(p map[string]any) bool {
	s, _ := p["expiration_date"].(string)
	if s == "" {
		return false
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return false
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	return d.Before(today)
}

// pyISO is datetime.now(timezone.utc).isoformat(), the timestamp mem0's library writes.
func pyISO(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000-07:00")
}

// pacific is the zone of the platform's timestamps ("2024-10-15T21:52:11.474901-07:00"
// in docs/platform/features/direct-import.mdx).
var pacific = func() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*60*60)
}()

func platformTime(t time.Time) string {
	return t.In(pacific).Format("2006-01-02T15:04:05.000000-07:00")
}

func parseTimestamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 300 {
		line = line[:300]
	}
	return line
}
