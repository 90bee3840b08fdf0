package mem0test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The open-source flavor filters the way mem0's library hands filters to its default
// vector store, pgvector: Memory.search prepares them (mem0/memory/main.py, 2.0.18:
// _has_advanced_operators, _process_metadata_filters) and pgvector turns them into SQL
// over the JSONB payload (mem0/vector_stores/pgvector.py, _build_filter_conditions).
// Payload keys are entity ids and the caller's metadata keys alike, so
// {"user_id": "u", "operation_id": "op"} narrows to one operation.

// errUpstream marks what mem0's server answers 502 "Upstream provider error." for: an
// exception that is neither a ValueError nor an HTTPException (server/main.py).
var errUpstream = errors.New("upstream provider error")

// filterOperators are the operators _process_metadata_filters and pgvector know.
var filterOperators = []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains"}

// ossSearchFilters prepares the filters of POST /search as Memory.search does: entity
// ids validated and trimmed, at least one of them present, advanced operators
// rewritten into pgvector's $or/$not form. Errors are ValueErrors (400) unless they
// wrap errUpstream.
func ossSearchFilters(filters map[string]any) (map[string]any, error) {
	eff := maps.Clone(filters)
	if eff == nil {
		eff = map[string]any{}
	}
	for _, k := range entityKeys {
		v, ok := eff[k]
		if !ok || v == nil { // _validate_and_trim_entity_id(None) is None, and the key stays
			continue
		}
		id, err := validateEntityID(v, k)
		if err != nil {
			return nil, err
		}
		eff[k] = id
	}
	if !slices.ContainsFunc(entityKeys, func(k string) bool { _, ok := eff[k]; return ok }) {
		return nil, errors.New("filters must contain at least one of: user_id, agent_id, run_id. Example: filters={'user_id': 'u1'}")
	}
	if !hasAdvancedOperators(eff) {
		return eff, nil
	}
	processed, err := processMetadataFilters(eff)
	if err != nil {
		return nil, err
	}
	for k, v := range eff {
		_, isMap := v.(map[string]any)
		if k == "AND" || k == "OR" || k == "NOT" || (isMap && !slices.Contains(entityKeys, k)) {
			delete(eff, k)
		}
	}
	maps.Copy(eff, processed)
	return eff, nil
}

func hasAdvancedOperators(filters map[string]any) bool {
	for k, v := range filters {
		if k == "AND" || k == "OR" || k == "NOT" || v == "*" {
			return true
		}
		if m, ok := v.(map[string]any); ok {
			for op := range m {
				if slices.Contains(filterOperators, op) {
					return true
				}
			}
		}
	}
	return false
}

// processMetadataFilters is _process_metadata_filters. Python walks the keys in the
// order they were sent; this walks them sorted, which only differs when one key is
// given twice (the later one wins in mem0).
func processMetadataFilters(filters map[string]any) (map[string]any, error) {
	out := map[string]any{}
	group := func(key string, value any, nonEmpty bool) ([]map[string]any, error) {
		list, ok := value.([]any)
		if !ok || (nonEmpty && len(list) == 0) {
			if key == "AND" {
				return nil, errors.New("AND operator requires a list of conditions")
			}
			return nil, fmt.Errorf("%s operator requires a non-empty list of conditions", key)
		}
		var conds []map[string]any
		for _, c := range list {
			m, ok := c.(map[string]any)
			if !ok { // condition.items() on a non-dict: AttributeError, a 502
				return nil, fmt.Errorf("%w: %s condition is not an object", errUpstream, key)
			}
			cond := map[string]any{}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				c, err := processCondition(k, m[k])
				if err != nil {
					return nil, err
				}
				mergeFilters(cond, c)
			}
			conds = append(conds, cond)
		}
		return conds, nil
	}
	for _, key := range slices.Sorted(maps.Keys(filters)) {
		value := filters[key]
		switch key {
		case "AND":
			conds, err := group(key, value, false)
			if err != nil {
				return nil, err
			}
			for _, c := range conds {
				mergeFilters(out, c)
			}
		case "OR", "NOT":
			conds, err := group(key, value, true)
			if err != nil {
				return nil, err
			}
			list := make([]any, len(conds))
			for i, c := range conds {
				list[i] = c
			}
			out["$"+strings.ToLower(key)] = list
		default:
			c, err := processCondition(key, value)
			if err != nil {
				return nil, err
			}
			mergeFilters(out, c)
		}
	}
	return out, nil
}

func processCondition(key string, cond any) (map[string]any, error) {
	m, ok := cond.(map[string]any)
	if !ok {
		return map[string]any{key: cond}, nil
	}
	ops := map[string]any{}
	for op, v := range m {
		if !slices.Contains(filterOperators, op) {
			return nil, fmt.Errorf("Unsupported metadata filter operator: %s", op)
		}
		ops[op] = v
	}
	return map[string]any{key: ops}, nil
}

func mergeFilters(target, source map[string]any) {
	for k, v := range source {
		tm, tok := target[k].(map[string]any)
		sm, sok := v.(map[string]any)
		if tok && sok {
			maps.Copy(tm, sm)
			continue
		}
		target[k] = v
	}
}

// tri is SQL's three-valued logic: a comparison with a missing payload key is NULL,
// and a row is kept only when its WHERE clause is TRUE.
type tri int8

const (
	triFalse tri = iota
	triTrue
	triNull
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

func (a tri) and(b tri) tri {
	switch {
	case a == triFalse || b == triFalse:
		return triFalse
	case a == triNull || b == triNull:
		return triNull
	}
	return triTrue
}

func (a tri) or(b tri) tri {
	switch {
	case a == triTrue || b == triTrue:
		return triTrue
	case a == triNull || b == triNull:
		return triNull
	}
	return triFalse
}

func (a tri) not() tri {
	switch a {
	case triTrue:
		return triFalse
	case triFalse:
		return triTrue
	}
	return triNull
}

// pgCond is one SQL condition over a payload; an error is a failed cast (a 502).
type pgCond func(p map[string]any) (tri, error)

// pgFilter is a WHERE clause: its conditions ANDed.
type pgFilter []pgCond

func (f pgFilter) eval(p map[string]any) (tri, error) {
	out := triTrue
	for _, c := range f {
		v, err := c(p)
		if err != nil {
			return triFalse, err
		}
		out = out.and(v)
	}
	return out, nil
}

// match keeps a row when its WHERE clause is TRUE.
func (f pgFilter) match(p map[string]any) (bool, error) {
	v, err := f.eval(p)
	return v == triTrue, err
}

// buildPgFilter is _build_filter_conditions of mem0/vector_stores/pgvector.py (2.0.18).
func buildPgFilter(filters map[string]any) (pgFilter, error) {
	var out pgFilter
	for _, key := range slices.Sorted(maps.Keys(filters)) {
		value := filters[key]
		switch key {
		case "$or", "$not":
			groups, err := pgGroups(value)
			if err != nil {
				return nil, err
			}
			if len(groups) == 0 {
				continue
			}
			negate := key == "$not"
			out = append(out, func(p map[string]any) (tri, error) {
				acc := triFalse
				for _, g := range groups {
					v, err := g.eval(p)
					if err != nil {
						return triFalse, err
					}
					acc = acc.or(v)
				}
				if negate {
					return acc.not(), nil
				}
				return acc, nil
			})
			continue
		}
		if value == "*" { // payload ? key
			out = append(out, func(p map[string]any) (tri, error) { _, ok := p[key]; return triOf(ok), nil })
			continue
		}
		switch v := value.(type) {
		case map[string]any:
			for _, op := range slices.Sorted(maps.Keys(v)) {
				c, err := pgOperator(key, op, v[op])
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
		case []any:
			out = append(out, pgIn(key, v, false))
		case bool: // json.dumps(value)
			s := strconv.FormatBool(v)
			out = append(out, pgCompare(key, func(t string) bool { return t == s }))
		default:
			s := pyStr(v)
			out = append(out, pgCompare(key, func(t string) bool { return t == s }))
		}
	}
	return out, nil
}

func pgGroups(value any) ([]pgFilter, error) {
	list, ok := value.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: $or/$not is not a list", errUpstream)
	}
	var groups []pgFilter
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: $or/$not item is not an object", errUpstream)
		}
		g, err := buildPgFilter(m)
		if err != nil {
			return nil, err
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	return groups, nil
}

func pgOperator(key, op string, v any) (pgCond, error) {
	switch op {
	case "eq", "ne":
		s := pyStr(v)
		return pgCompare(key, func(t string) bool { return (t == s) == (op == "eq") }), nil
	case "in", "nin":
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("Filter operator '%s' for key '%s' requires a list value, got %s", op, key, pyTypeName(v))
		}
		return pgIn(key, list, op == "nin"), nil
	case "contains":
		s := pyStr(v)
		return pgCompare(key, func(t string) bool { return strings.Contains(t, s) }), nil
	case "icontains":
		s := strings.ToLower(pyStr(v))
		return pgCompare(key, func(t string) bool { return strings.Contains(strings.ToLower(t), s) }), nil
	case "gt", "gte", "lt", "lte":
		want, err := pyFloatOf(v)
		if err != nil {
			return nil, err
		}
		return func(p map[string]any) (tri, error) {
			t, ok := payloadText(p, key)
			if !ok {
				return triNull, nil
			}
			have, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
			if err != nil { // (payload->>key)::numeric on a non-number: a database error
				return triFalse, fmt.Errorf("%w: invalid input syntax for type numeric: %q", errUpstream, t)
			}
			switch op {
			case "gt":
				return triOf(have > want), nil
			case "gte":
				return triOf(have >= want), nil
			case "lt":
				return triOf(have < want), nil
			}
			return triOf(have <= want), nil
		}, nil
	}
	return nil, fmt.Errorf("Unsupported filter operator: %s", op)
}

func pgIn(key string, list []any, negate bool) pgCond {
	set := make([]string, len(list))
	for i, v := range list {
		set[i] = pyStr(v)
	}
	return func(p map[string]any) (tri, error) {
		t, ok := payloadText(p, key)
		if !ok {
			return triNull, nil
		}
		return triOf(slices.Contains(set, t) != negate), nil
	}
}

func pgCompare(key string, ok func(string) bool) pgCond {
	return func(p map[string]any) (tri, error) {
		t, present := payloadText(p, key)
		if !present {
			return triNull, nil
		}
		return triOf(ok(t)), nil
	}
}

// payloadText is payload->>key: NULL for a missing key or a JSON null.
func payloadText(p map[string]any, key string) (string, bool) {
	switch v := p[key].(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		b, _ := json.Marshal(v)
		return string(b), true
	}
}

// pyFloatOf is Python's float() of a filter value: a bad string is a ValueError (400),
// anything else that is not a number a TypeError (502).
func pyFloatOf(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("could not convert string to float: '%s'", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%w: float() argument must be a string or a real number, not '%s'", errUpstream, pyTypeName(v))
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.(json.Number).String(), ".eE") {
			return "float"
		}
		return "int"
	case map[string]any:
		return "dict"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}
