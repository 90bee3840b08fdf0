package memorybank

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

func TestDecodeItemsAcceptsBothShapes(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantIDs []string
		wantErr bool
	}{
		{"bare list", `[{"id":"a"},{"id":"b"}]`, []string{"a", "b"}, false},
		{"results envelope", `{"results":[{"id":"a"}],"relations":[]}`, []string{"a"}, false},
		{"paginated", `{"count":1,"next":null,"results":[{"id":"a"}]}`, []string{"a"}, false},
		{"null", `null`, nil, false},
		{"empty body", ``, nil, false},
		{"null results", `{"results":null}`, nil, false},
		{"items that are not objects are skipped", `[1, "x", null,	{"id":"a"} , []]`, []string{"a"}, false},
		{"numeric id", `[{"id":42}]`, []string{"42"}, false},
		{"object id dropped", `[{"id":{"x":1}}]`, []string{""}, false},
		{"html", `<html>bad gateway</html>`, nil, true},
		{"a string", `"ok"`, nil, true},
		{"truncated", `[{"id":"a"`, nil, true},
		{"two documents", `[{"id":"a"}] [{"id":"b"}]`, nil, true},
		{"trailing bytes after the envelope", `{"results":[{"id":"a"}]}x`, nil, true},
		{"escaped id", `[{"id":"a\u0062"}]`, []string{"ab"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := decodeItems([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var ids []string
			for _, it := range items {
				ids = append(ids, it.id())
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids = %q, want %q", ids, tt.wantIDs)
			}
		})
	}
}

func TestItemFieldsAreLenient(t *testing.T) {
	scope, _ := memory.NewScope("app1", "alice")
	tests := []struct {
		name          string
		item          string
		wantContent   string
		wantRelevance float64
		wantMeta      bool
		wantAdded     bool
		wantInScope   bool
	}{
		{"oss item", `{"id":"a","memory":"m","score":0.4,"metadata":{"k":"v"},"user_id":"app1:alice","agent_id":"custom_gpt:app1","event":"ADD"}`, "m", 0.4, true, true, true},
		{"platform add result", `{"id":"a","data":{"memory":"m"},"event":"ADD"}`, "m", 0, false, true, true},
		{"score as string", `{"id":"a","score":"0.75"}`, "", 0.75, false, true, true},
		{"score above 1", `{"id":"a","score":3.2}`, "", 1, false, true, true},
		{"negative score", `{"id":"a","score":-0.1}`, "", 0, false, true, true},
		{"score null", `{"id":"a","score":null}`, "", 0, false, true, true},
		{"score garbage", `{"id":"a","score":"high"}`, "", 0, false, true, true},
		{"metadata not an object", `{"id":"a","metadata":"x"}`, "", 0, false, true, true},
		{"memory not a string", `{"id":"a","memory":{"text":"m"}}`, "", 0, false, true, true},
		{"event NONE", `{"id":"a","event":"NONE"}`, "", 0, false, false, true},
		{"event DELETE", `{"id":"a","event":"DELETE"}`, "", 0, false, false, true},
		{"event UPDATE", `{"id":"a","event":"update"}`, "", 0, false, true, true},
		{"other user", `{"id":"a","user_id":"app1:bob"}`, "", 0, false, true, false},
		{"other agent", `{"id":"a","agent_id":"custom_gpt:app2"}`, "", 0, false, true, false},
		{"other app in metadata", `{"id":"a","metadata":{"app_id":"app2"}}`, "", 0, true, true, false},
		{"agent null", `{"id":"a","agent_id":null}`, "", 0, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var it wireItem
			if err := json.Unmarshal([]byte(tt.item), &it); err != nil {
				t.Fatal(err)
			}
			meta := it.metadata()
			h := it.hit(meta)
			if h.Content != tt.wantContent || h.Relevance != tt.wantRelevance || (meta != nil) != tt.wantMeta {
				t.Errorf("hit = %+v, want content %q relevance %v metadata %v", h, tt.wantContent, tt.wantRelevance, tt.wantMeta)
			}
			if it.added() != tt.wantAdded {
				t.Errorf("added() = %v, want %v", it.added(), tt.wantAdded)
			}
			if it.inScope(scope, meta) != tt.wantInScope {
				t.Errorf("inScope() = %v, want %v", !tt.wantInScope, tt.wantInScope)
			}
		})
	}
}

func TestContentIsBounded(t *testing.T) {
	long := strings.Repeat("é", memory.MaxContentChars+10)
	if got := utf8.RuneCountInString(boundContent(long)); got != memory.MaxContentChars {
		t.Errorf("bounded to %d runes, want %d", got, memory.MaxContentChars)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 7, 20, 17, 0, 0, 123456000, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-07-20T10:00:00.123456-07:00", want},
		{"2024-07-20T17:00:00.123456Z", want},
		{"2024-07-20T17:00:00.123456", want},
		{"2024-07-20T10:00:00.123456-0700", want},
		{"2024-07-20 17:00:00.123456", want},
		{"2024-07-20 10:00:00.123456-07:00", want},
		{"2024-07-20T17:00:00Z", want.Truncate(time.Second)},
		{"2024-07-20", time.Date(2024, 7, 20, 0, 0, 0, 0, time.UTC)},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
		{"1721494800", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseTime(tt.in); !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestReasonFromBody(t *testing.T) {
	long := strings.Repeat("x", 1000)
	tests := []struct {
		body, want string
	}{
		{`{"detail":"Memory not found"}`, "Memory not found"},
		{`{"message":"One of the filters is required!"}`, "One of the filters is required!"},
		{`{"error":"400 Bad Request","details":{"message":"bad"}}`, "400 Bad Request"},
		{`{"details":{"message":"bad"}}`, `{"message":"bad"}`},
		{`{"detail":[{"loc":["body","messages"],"msg":"Field required"}]}`, `[{"loc":["body","messages"],"msg":"Field required"}]`},
		{`{"detail":null,"message":"m"}`, "m"},
		{`{"detail":"line1\nline2\u0000"}`, "line1 line2"},
		{`{"detail":"` + long + `"}`, strings.Repeat("x", maxReasonRunes) + "…"},
		{`<html>502</html>`, ""},
		{`{}`, ""},
	}
	for _, tt := range tests {
		if got := reasonFromBody([]byte(tt.body)); got != tt.want {
			t.Errorf("reasonFromBody(%.40q) = %.60q, want %.60q", tt.body, got, tt.want)
		}
	}
}

// decodeAdded reads every shape an add answers with: the open-source
// server's results (ADD, and on older servers UPDATE, DELETE and NONE), the
// platform's synchronous direct import, a PENDING event, and a FAILED one.
func TestDecodeAdded(t *testing.T) {
	const a, b, c = "5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c", "6c8f3b2d-4e5a-4f6b-9cad-1e2f3a4b5c6d", "7d903c3e-5f6b-4a7c-8dbe-2f3a4b5c6d7e"
	tests := []struct {
		name            string
		body            string
		ids, removed    []string
		pending, failed string
	}{
		{"oss add", `{"results":[{"id":"` + a + `","memory":"x","event":"ADD"}]}`, []string{a}, nil, "", ""},
		{"oss inference of an older server", `{"results":[{"id":"` + a + `","event":"ADD"},{"id":"` + b + `","event":"UPDATE"},{"id":"` + c + `","event":"DELETE"},{"id":"` + c + `","event":"NONE"}]}`,
			[]string{a, b}, []string{c}, "", ""},
		{"nothing new", `{"results":[]}`, nil, nil, "", ""},
		{"platform direct import", `{"message":"Memories stored successfully","status":"SUCCEEDED","event_id":"` + c + `","results":[{"id":"` + a + `","data":{"memory":"x"},"event":"ADD"}]}`,
			[]string{a}, nil, "", ""},
		{"platform pending", `{"status":"PENDING","event_id":"` + c + `"}`, nil, nil, c, ""},
		{"platform failed", `{"status":"FAILED","event_id":"` + c + `"}`, nil, nil, "", "its add failed"},
		{"ids that are not mem0's are left out", `{"results":[{"id":"../x","event":"ADD"},{"id":12,"event":"ADD"}]}`, nil, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, failed, err := decodeAdded([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.IDs, tt.ids) || !slices.Equal(got.Removed, tt.removed) || got.Pending != tt.pending || failed != tt.failed {
				t.Errorf("decodeAdded = %+v, failed %q", got, failed)
			}
		})
	}
	if _, _, err := decodeAdded([]byte(`{"status":"PENDING","event_id":"not-an-id"}`)); err == nil {
		t.Error("a pending add without a usable event id was accepted")
	}
}

func TestDecodeItem(t *testing.T) {
	tests := []struct {
		body      string
		wantFound bool
		wantErr   bool
	}{
		{`{"id":"a","memory":"m"}`, true, false},
		{` null `, false, false},
		{``, false, true},
		{`[{"id":"a"}]`, false, true},
		{`<html>`, false, true},
	}
	for _, tt := range tests {
		it, found, err := decodeItem([]byte(tt.body))
		if found != tt.wantFound || (err != nil) != tt.wantErr {
			t.Errorf("decodeItem(%q) = found %v, err %v; want found %v, error %v", tt.body, found, err, tt.wantFound, tt.wantErr)
		}
		if found && it.id() != "a" {
			t.Errorf("decodeItem(%q) id = %q", tt.body, it.id())
		}
	}
}

func TestDecodeChanges(t *testing.T) {
	const id = "m1"
	body := `[
		{"id":"h2","memory_id":"m1","old_memory":"tea","new_memory":"coffee","event":"UPDATE","created_at":"2024-07-20T10:00:01-07:00"},
		{"id":"hx","memory_id":"m2","old_memory":null,"new_memory":"foreign","event":"ADD","created_at":"2024-07-20T10:00:00-07:00"},
		{"id":"h1","memory_id":"m1","old_memory":null,"new_memory":"tea","event":"add","created_at":"2024-07-20T17:00:00Z"},
		{"id":"h3","old_memory":"coffee","new_memory":null,"event":"DELETE","created_at":"2024-07-20T17:00:02Z"},
		"not an object"
	]`
	changes, err := decodeChanges([]byte(body), id)
	if err != nil {
		t.Fatal(err)
	}
	want := []memory.Change{
		{ID: "h1", MemoryID: id, NewContent: "tea", Event: "ADD", CreatedAt: time.Date(2024, 7, 20, 17, 0, 0, 0, time.UTC)},
		{ID: "h2", MemoryID: id, OldContent: "tea", NewContent: "coffee", Event: "UPDATE", CreatedAt: time.Date(2024, 7, 20, 17, 0, 1, 0, time.UTC)},
		{ID: "h3", MemoryID: id, OldContent: "coffee", Event: "DELETE", CreatedAt: time.Date(2024, 7, 20, 17, 0, 2, 0, time.UTC)},
	}
	if len(changes) != len(want) {
		t.Fatalf("changes = %+v, want %+v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, changes[i], want[i])
		}
	}

	if got, err := decodeChanges([]byte(`{"results":[{"id":"h1","memory_id":"m1","event":"ADD"}]}`), id); err != nil || len(got) != 1 {
		t.Errorf("results envelope: %+v %v", got, err)
	}
	if _, err := decodeChanges([]byte(`{"detail":"x"`), id); err == nil {
		t.Error("truncated history decoded without error")
	}
}

// plainString reads every string it takes as encoding/json does, and leaves
// the others (escapes, invalid UTF-8) to it.
func TestPlainStringReadsAsJSONDoes(t *testing.T) {
	for _, raw := range []string{`""`, `"prefers aisle seats"`, `"café ☕"`, `"a\"b"`, `"tab\tand\\n"`, `"\u00e9"`,
		"\"\xff\xfe\"", `"unterminated`, `"`, `"2026-12-06T21:49:47Z"`} {
		got, ok := plainString(json.RawMessage(raw))
		var want string
		err := json.Unmarshal([]byte(raw), &want)
		if ok && (err != nil || got != want) {
			t.Errorf("plainString(%s) = %q, json reads %q (%v)", raw, got, want, err)
		}
		if wantPlain := err == nil && !strings.ContainsAny(raw[1:len(raw)-1], "\\\"") && utf8.ValidString(raw); ok != wantPlain {
			t.Errorf("plainString(%s) took it: %v, want %v", raw, ok, wantPlain)
		}
	}
}

// searchAnswer is what mem0's OSS server answers to a search with limit 10:
// ten memories, each with our tags, scored, timestamped.
func searchAnswer() []byte {
	var b strings.Builder
	b.WriteString(`{"results":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b%02d","memory":"The user prefers window seats on long flights, number %d",`+
			`"hash":"6f1ed002ab5595859014ebf0951522d9","metadata":{"custom_gpt_app_id":"app_123","custom_gpt_conversation_id":"c1","topic":"travel"},`+
			`"score":0.8%d,"created_at":"2026-11-26T10:00:00.123456-08:00","updated_at":null,"user_id":"app_123","agent_id":null,"run_id":null}`, i, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkDecodeSearchAnswer is the CPU api spends reading a search's answer
// (the Memory Bank call's share of the search path; see BENCHMARKS.md).
func BenchmarkDecodeSearchAnswer(b *testing.B) {
	body := searchAnswer()
	b.ReportAllocs()
	for b.Loop() {
		items, err := decodeItems(body)
		if err != nil || len(items) != 10 {
			b.Fatalf("%d items, %v", len(items), err)
		}
		for _, it := range items {
			if h := it.hit(it.metadata()); h.ID == "" || h.Content == "" {
				b.Fatal("a hit without id or content")
			}
		}
	}
}
