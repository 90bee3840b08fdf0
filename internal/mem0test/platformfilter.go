package mem0test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The platform's filter grammar, from docs/platform/features/v2-memory-filters.mdx:
//   - the root is a bare condition, sibling keys (implicitly ANDed) or AND/OR/NOT;
//   - keys outside an allow-list are refused with 400;
//   - user_id, agent_id, app_id, run_id take a value (equality), "*" (any non-null
//     value), eq, ne (which also matches records where the field is null) and in;
//   - {"metadata": {"k": "v"}} matches memories whose metadata holds each pair, with
//     eq, ne and contains as the only operators;
//   - memory_ids restricts to a list of ids; keywords matches the text (contains,
//     icontains) and answers 500 inside a search (MEM-5746);
//   - an object holding both AND and OR silently drops the OR branch.
//
// A filter on user_id and agent_id together only matches records that carry both,
// which an inferred add never writes.

var platformFilterKeys = []string{
	"AND", "OR", "NOT", "user_id", "agent_id", "app_id", "run_id", "created_at", "updated_at", "timestamp",
	"expiration_date", "text", "categories", "metadata", "keywords_search", "memory_ids", "keywords",
}

// filterError is a filter the platform refuses (status 400, or 500 for keywords in a
// search), or one the fake does not model (notModelled).
type filterError struct {
	status      int
	msg         string
	notModelled bool
}

func (e *filterError) Error() string { return e.msg }

func badFilter(format string, args ...any) *filterError {
	return &filterError{status: 400, msg: fmt.Sprintf(format, args...)}
}

type pmatch func(r *record) bool

type filterParser struct {
	search bool // inside a search, where keywords fail with 500
}

// parse turns a filter object into a predicate.
func (fp filterParser) parse(m map[string]any) (pmatch, error) {
	var parts []pmatch
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if key == "OR" && m["AND"] != nil {
			continue // documented: an OR beside an AND is silently dropped
		}
		p, err := fp.condition(key, m[key])
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return func(r *record) bool {
		for _, p := range parts {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

func (fp filterParser) condition(key string, v any) (pmatch, error) {
	if !slices.Contains(platformFilterKeys, key) {
		return nil, badFilter("Top-level key must be a logical operator or an allowed field: ['%s']", strings.Join(platformFilterKeys, "', '"))
	}
	switch key {
	case "AND", "OR", "NOT":
		return fp.logical(key, v)
	case "user_id", "agent_id", "app_id", "run_id":
		return entityCondition(key, v)
	case "created_at", "updated_at", "timestamp", "expiration_date":
		return timeCondition(key, v)
	case "categories":
		return categoriesCondition(v)
	case "metadata":
		return metadataCondition(v)
	case "memory_ids":
		return memoryIDsCondition(v)
	case "keywords":
		if fp.search {
			return nil, &filterError{status: 500, msg: "Internal server error (keywords filter in search, MEM-5746)"}
		}
		return keywordsCondition(v)
	}
	return nil, &filterError{status: 501, msg: "the " + key + " filter", notModelled: true}
}

func (fp filterParser) logical(key string, v any) (pmatch, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		if key != "NOT" {
			return nil, badFilter("%s must be a list of conditions", key)
		}
		items = []any{x} // the documented form is {"NOT": {...}}
	default:
		return nil, badFilter("%s must be a list of conditions", key)
	}
	if len(items) == 0 {
		return nil, badFilter("%s must not be empty", key)
	}
	var children []pmatch
	for _, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, badFilter("each condition of %s must be an object", key)
		}
		c, err := fp.parse(m)
		if err != nil {
			return nil, err
		}
		children = append(children, c)
	}
	anyOf := func(r *record) bool {
		for _, c := range children {
			if c(r) {
				return true
			}
		}
		return false
	}
	switch key {
	case "AND":
		return func(r *record) bool {
			for _, c := range children {
				if !c(r) {
					return false
				}
			}
			return true
		}, nil
	case "OR":
		return anyOf, nil
	}
	return func(r *record) bool { return !anyOf(r) }, nil
}

func entityCondition(key string, v any) (pmatch, error) {
	field := func(r *record) (string, bool) { s, ok := r.payload[key].(string); return s, ok && s != "" }
	switch x := v.(type) {
	case string:
		if x == "*" {
			return func(r *record) bool { _, ok := field(r); return ok }, nil
		}
		return func(r *record) bool { s, ok := field(r); return ok && s == x }, nil
	case map[string]any:
		var parts []pmatch
		for op, arg := range x {
			switch op {
			case "eq", "ne":
				want, ok := arg.(string)
				if !ok {
					return nil, badFilter("%s %s takes a string", key, op)
				}
				eq := op == "eq"
				parts = append(parts, func(r *record) bool { s, ok := field(r); return (ok && s == want) == eq })
			case "in":
				list, ok := arg.([]any)
				if !ok {
					return nil, badFilter("%s in takes a list", key)
				}
				parts = append(parts, func(r *record) bool {
					s, ok := field(r)
					return ok && slices.ContainsFunc(list, func(e any) bool { return e == s })
				})
			default:
				return nil, badFilter("Operator '%s' is not supported for field '%s'", op, key)
			}
		}
		return allOf(parts), nil
	}
	return nil, badFilter("%s takes a string or an operator object", key)
}

// timeCondition compares created_at, updated_at (timestamp is created_at) or
// expiration_date with gt, gte, lt, lte, ne, in or a bare value; an explicit eq is
// refused, as the documentation says.
func timeCondition(key string, v any) (pmatch, error) {
	field := func(r *record) (time.Time, bool) {
		name := key
		if key == "timestamp" {
			name = "created_at"
		}
		s, _ := r.payload[name].(string)
		return parseFilterTime(s)
	}
	parse := func(arg any) (time.Time, error) {
		s, _ := arg.(string)
		t, ok := parseFilterTime(s)
		if !ok {
			return time.Time{}, badFilter("%s needs a date or an ISO 8601 datetime, got %v", key, arg)
		}
		return t, nil
	}
	ops, isMap := v.(map[string]any)
	if !isMap {
		want, err := parse(v)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { t, ok := field(r); return ok && t.Equal(want) }, nil
	}
	var parts []pmatch
	for op, arg := range ops {
		if op == "in" {
			list, ok := arg.([]any)
			if !ok {
				return nil, badFilter("%s in takes a list", key)
			}
			var set []time.Time
			for _, e := range list {
				t, err := parse(e)
				if err != nil {
					return nil, err
				}
				set = append(set, t)
			}
			parts = append(parts, func(r *record) bool {
				t, ok := field(r)
				return ok && slices.ContainsFunc(set, t.Equal)
			})
			continue
		}
		if !slices.Contains([]string{"gt", "gte", "lt", "lte", "ne"}, op) {
			return nil, badFilter("Operator '%s' is not supported for field '%s'", op, key)
		}
		want, err := parse(arg)
		if err != nil {
			return nil, err
		}
		parts = append(parts, func(r *record) bool {
			t, ok := field(r)
			if !ok {
				return op == "ne"
			}
			c := t.Compare(want)
			switch op {
			case "gt":
				return c > 0
			case "gte":
				return c >= 0
			case "lt":
				return c < 0
			case "lte":
				return c <= 0
			}
			return c != 0
		})
	}
	return allOf(parts), nil
}

func parseFilterTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// categoriesCondition: the fake's memories have no categories, so in and contains
// match nothing; eq and ne are refused as documented.
func categoriesCondition(v any) (pmatch, error) {
	ops, ok := v.(map[string]any)
	if !ok {
		return nil, badFilter("categories takes in or contains")
	}
	for op := range ops {
		if op != "in" && op != "contains" {
			return nil, badFilter("Operator '%s' is not supported for field 'categories'", op)
		}
	}
	return func(*record) bool { return false }, nil
}

func metadataCondition(v any) (pmatch, error) {
	pairs, ok := v.(map[string]any)
	if !ok {
		return nil, badFilter("metadata takes an object of key/value pairs")
	}
	var parts []pmatch
	for k, want := range pairs {
		have := func(r *record) (any, bool) {
			md, _ := r.payload["metadata"].(map[string]any)
			v, ok := md[k]
			return v, ok && v != nil
		}
		ops, isOps := want.(map[string]any)
		if !isOps {
			parts = append(parts, func(r *record) bool { v, ok := have(r); return ok && jsonEqual(v, want) })
			continue
		}
		for op, arg := range ops {
			switch op {
			case "eq", "ne":
				eq := op == "eq"
				parts = append(parts, func(r *record) bool { v, ok := have(r); return (ok && jsonEqual(v, arg)) == eq })
			case "contains":
				sub := pyStr(arg)
				parts = append(parts, func(r *record) bool {
					v, ok := have(r)
					s, isString := v.(string)
					return ok && isString && strings.Contains(s, sub)
				})
			default:
				return nil, badFilter("FilterValidationError: metadata filters support only eq, ne and contains, not '%s'", op)
			}
		}
	}
	return allOf(parts), nil
}

func memoryIDsCondition(v any) (pmatch, error) {
	list, ok := v.([]any)
	if m, isMap := v.(map[string]any); isMap && len(m) == 1 {
		list, ok = m["in"].([]any)
	}
	if !ok {
		return nil, badFilter("memory_ids takes a list of ids")
	}
	return func(r *record) bool { return slices.ContainsFunc(list, func(e any) bool { return e == r.id }) }, nil
}

func keywordsCondition(v any) (pmatch, error) {
	ops, ok := v.(map[string]any)
	if !ok || len(ops) == 0 {
		return nil, badFilter("keywords takes contains or icontains")
	}
	var parts []pmatch
	for op, arg := range ops {
		sub, isString := arg.(string)
		switch {
		case !isString:
			return nil, badFilter("keywords %s takes a string", op)
		case op == "contains":
			parts = append(parts, func(r *record) bool { return strings.Contains(r.text(), sub) })
		case op == "icontains":
			parts = append(parts, func(r *record) bool {
				return strings.Contains(strings.ToLower(r.text()), strings.ToLower(sub))
			})
		default:
			return nil, badFilter("Operator '%s' is not supported for field 'keywords'", op)
		}
	}
	return allOf(parts), nil
}

func allOf(parts []pmatch) pmatch {
	return func(r *record) bool {
		for _, p := range parts {
			if !p(r) {
				return false
			}
		}
		return true
	}
}

// platformScoped reports whether a filter names an entity positively: equality, "*",
// eq or in on an entity field at the root or inside AND, or in every branch of an OR.
// A NOT or a ne does not scope ("no positively-scoped entity ID" is a 400).
func platformScoped(m map[string]any) bool {
	for key, v := range m {
		switch key {
		case "user_id", "agent_id", "app_id", "run_id":
			switch x := v.(type) {
			case string:
				if x != "" {
					return true
				}
			case map[string]any:
				if x["eq"] != nil || x["in"] != nil {
					return true
				}
			}
		case "AND":
			list, _ := v.([]any)
			for _, item := range list {
				if c, ok := item.(map[string]any); ok && platformScoped(c) {
					return true
				}
			}
		case "OR":
			list, _ := v.([]any)
			if m["AND"] != nil || len(list) == 0 {
				continue
			}
			all := true
			for _, item := range list {
				c, ok := item.(map[string]any)
				all = all && ok && platformScoped(c)
			}
			if all {
				return true
			}
		}
	}
	return false
}

// jsonEqual compares two decoded JSON values; numbers by value.
func jsonEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		af, err1 := an.Float64()
		bf, err2 := bn.Float64()
		return err1 == nil && err2 == nil && af == bf
	}
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ab) == string(bb)
}
