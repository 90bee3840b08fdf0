package memory_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// requireInvalid fails unless err is a KindInvalid *errs.Error on field.
func requireInvalid(t *testing.T, err error, field, slug string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *errs.Error", err)
	}
	if e.Kind != errs.KindInvalid {
		t.Errorf("kind = %v, want KindInvalid", e.Kind)
	}
	if e.Field != field {
		t.Errorf("field = %q, want %q", e.Field, field)
	}
	if slug != "" && e.Slug != slug {
		t.Errorf("slug = %q, want %q", e.Slug, slug)
	}
}

func flatMetadata(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = i
	}
	return m
}

func TestNewDraft_content(t *testing.T) {
	t.Parallel()

	// "é" is two bytes and "😀" four: the limits count characters, not bytes.
	atLimit := strings.Repeat("é", memory.MaxContentChars)
	overLimit := strings.Repeat("😀", memory.MaxContentChars+1)
	if len(atLimit) <= memory.MaxContentChars {
		t.Fatal("test content must be longer than the limit in bytes")
	}

	tests := []struct {
		name    string
		content string
		slug    string // "" means valid
	}{
		{"empty", "", "content-empty"},
		{"only whitespace", " \t\n\u00a0\u3000", "content-empty"},
		{"one character", "x", ""},
		{"whitespace around text", "  x  ", ""},
		{"16384 two-byte characters", atLimit, ""},
		{"16384 four-byte characters", strings.Repeat("😀", memory.MaxContentChars), ""},
		{"16385 characters", strings.Repeat("a", memory.MaxContentChars+1), "content-too-long"},
		{"16385 four-byte characters", overLimit, "content-too-long"},
		{"invalid UTF-8", "abc\xffdef", "content-not-utf8"},
		{"truncated multi-byte sequence", "caf\xc3", "content-not-utf8"},
		{"NUL", "a\x00b", "content-nul"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := memory.NewDraft(tt.content, nil, "")
			if tt.slug == "" {
				if err != nil {
					t.Fatalf("NewDraft: %v", err)
				}
				if d.Content != tt.content {
					t.Errorf("content changed: %d bytes in, %d out", len(tt.content), len(d.Content))
				}
				return
			}
			requireInvalid(t, err, "content", tt.slug)
			if d.Content != "" {
				t.Errorf("draft returned with error: %+v", d)
			}
		})
	}
}

func TestNewDraft_metadata(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		metadata map[string]any
		field    string // "" means valid
		slug     string
	}{
		{"nil", nil, "", ""},
		{"flat values", map[string]any{"s": "x", "f": 1.5, "b": true, "n": nil, "i": 3, "i64": int64(4)}, "", ""},
		{"32 keys", flatMetadata(memory.MaxMetadataKeys), "", ""},
		{"33 keys", flatMetadata(memory.MaxMetadataKeys + 1), "metadata", "metadata-too-many-keys"},
		{"nested object", map[string]any{"topic": "x", "nested": map[string]any{"a": 1}}, "metadata.nested", "metadata-not-flat"},
		{"array", map[string]any{"list": []any{"a", "b"}}, "metadata.list", "metadata-not-flat"},
		{"string slice", map[string]any{"list": []string{"a"}}, "metadata.list", "metadata-not-flat"},
		{"empty key", map[string]any{"": "x"}, "metadata.", "metadata-key-invalid"},
		{"64-character key", map[string]any{strings.Repeat("é", memory.MaxMetadataKey): 1}, "", ""},
		{"65-character key", map[string]any{strings.Repeat("k", memory.MaxMetadataKey+1): 1}, "metadata." + strings.Repeat("k", memory.MaxMetadataKey+1), "metadata-key-invalid"},
		{"2048-character value", map[string]any{"note": strings.Repeat("é", memory.MaxMetadataValue)}, "", ""},
		{"2049-character value", map[string]any{"note": strings.Repeat("a", memory.MaxMetadataValue+1)}, "metadata.note", "metadata-value-too-long"},
		{"value not UTF-8", map[string]any{"note": "\xff"}, "metadata.note", "metadata-value-too-long"},
		{"value with NUL", map[string]any{"note": "a\x00"}, "metadata.note", "metadata-value-nul"},
		{"key with NUL", map[string]any{"a\x00": "x"}, "metadata.a\x00", "metadata-key-invalid"},
		{"reserved source", map[string]any{"source": "me"}, "metadata.source", "metadata-key-reserved"},
		{"reserved app_id", map[string]any{"app_id": "other-app"}, "metadata.app_id", "metadata-key-reserved"},
		{"reserved operation_id", map[string]any{"operation_id": "op"}, "metadata.operation_id", "metadata-key-reserved"},
		{"reserved conversation_id", map[string]any{"conversation_id": "c"}, "metadata.conversation_id", "metadata-key-reserved"},
		{"mem0's user_id", map[string]any{"user_id": "someone-else"}, "metadata.user_id", "metadata-key-reserved"},
		{"mem0's agent_id", map[string]any{"agent_id": "custom_gpt:other"}, "metadata.agent_id", "metadata-key-reserved"},
		{"mem0's run_id", map[string]any{"run_id": "r"}, "metadata.run_id", "metadata-key-reserved"},
		{"mem0's actor_id", map[string]any{"actor_id": "a"}, "metadata.actor_id", "metadata-key-reserved"},
		{"mem0's role", map[string]any{"role": "assistant"}, "metadata.role", "metadata-key-reserved"},
		{"mem0's data", map[string]any{"data": "another text"}, "metadata.data", "metadata-key-reserved"},
		{"mem0's hash", map[string]any{"hash": "0"}, "metadata.hash", "metadata-key-reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := memory.NewDraft("content", tt.metadata, "")
			if tt.field == "" {
				if err != nil {
					t.Fatalf("NewDraft: %v", err)
				}
				if len(d.Metadata) != len(tt.metadata) {
					t.Errorf("metadata has %d keys, want %d", len(d.Metadata), len(tt.metadata))
				}
				return
			}
			requireInvalid(t, err, tt.field, tt.slug)
		})
	}
}

func TestNewDraft_conversationID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		id   string
		slug string // "" means valid
	}{
		{"empty", "", ""},
		{"256 multi-byte characters", strings.Repeat("ü", memory.MaxConversation), ""},
		{"257 characters", strings.Repeat("c", memory.MaxConversation+1), "conversation-id-too-long"},
		{"NUL", "c\x00", "conversation-id-invalid"},
		{"invalid UTF-8", "c\xff", "conversation-id-invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := memory.NewDraft("content", nil, tt.id)
			if tt.slug != "" {
				requireInvalid(t, err, "conversation_id", tt.slug)
				return
			}
			if err != nil {
				t.Fatalf("NewDraft: %v", err)
			}
			if d.ConversationID != tt.id {
				t.Errorf("conversation id = %q, want %q", d.ConversationID, tt.id)
			}
		})
	}
}

func TestDraft_Tags(t *testing.T) {
	t.Parallel()

	scope, err := memory.NewScope("app-1", "")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("service tags win and caller keys are kept", func(t *testing.T) {
		t.Parallel()
		// Built directly: NewDraft would refuse the reserved keys, but Tags must
		// still win if a draft ever carries them.
		d := memory.Draft{Content: "c", Metadata: map[string]any{
			"topic": "food", "rating": 5, memory.TagSource: "spoofed", memory.TagAppID: "other-app",
			memory.TagOperationID: "other-op",
		}}
		tags := d.Tags(scope, "op-1")
		want := map[string]any{
			"topic": "food", "rating": 5, memory.TagSource: memory.SourceValue, memory.TagAppID: "app-1",
			memory.TagOperationID: "op-1",
		}
		if len(tags) != len(want) {
			t.Errorf("tags = %v, want %v", tags, want)
		}
		for k, v := range want {
			if tags[k] != v {
				t.Errorf("tags[%q] = %v, want %v", k, tags[k], v)
			}
		}
		if _, ok := tags[memory.TagConversationID]; ok {
			t.Errorf("conversation_id set without a conversation: %v", tags)
		}
		if d.Metadata[memory.TagSource] != "spoofed" {
			t.Error("Tags modified the draft's own metadata")
		}
	})

	t.Run("conversation id only when set", func(t *testing.T) {
		t.Parallel()
		d, err := memory.NewDraft("c", map[string]any{"topic": "x"}, "conv-9")
		if err != nil {
			t.Fatal(err)
		}
		tags := d.Tags(scope, "op-2")
		if tags[memory.TagConversationID] != "conv-9" {
			t.Errorf("conversation_id = %v, want conv-9", tags[memory.TagConversationID])
		}
		if tags["topic"] != "x" || tags[memory.TagOperationID] != "op-2" {
			t.Errorf("tags = %v", tags)
		}
	})

	t.Run("record reads its operation id back", func(t *testing.T) {
		t.Parallel()
		d := memory.Draft{Content: "c"}
		r := memory.Record{Metadata: d.Tags(scope, "op-3")}
		if got := r.OperationID(); got != "op-3" {
			t.Errorf("OperationID = %q, want op-3", got)
		}
		if got := (memory.Record{}).OperationID(); got != "" {
			t.Errorf("untagged OperationID = %q, want empty", got)
		}
	})
}

func TestNewQuery(t *testing.T) {
	t.Parallel()

	intp := func(n int) *int { return &n }
	tests := []struct {
		name      string
		text      string
		limit     *int
		field     string // "" means valid
		wantLimit int
	}{
		{"empty text", "", nil, "query", 0},
		{"only whitespace", " \t ", nil, "query", 0},
		{"2000 multi-byte characters", strings.Repeat("ß", memory.MaxQueryChars), nil, "", memory.DefaultSearchMax},
		{"2001 characters", strings.Repeat("q", memory.MaxQueryChars+1), nil, "query", 0},
		{"nil limit takes the default", "q", nil, "", 10},
		{"limit 0", "q", intp(0), "limit", 0},
		{"negative limit", "q", intp(-1), "limit", 0},
		{"limit 1", "q", intp(1), "", 1},
		{"limit 50", "q", intp(50), "", 50},
		{"limit 51", "q", intp(51), "limit", 0},
		{"NUL", "a\x00", nil, "query", 0},
		{"invalid UTF-8", "a\xff", nil, "query", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := memory.NewQuery(tt.text, tt.limit)
			if tt.field != "" {
				requireInvalid(t, err, tt.field, "")
				return
			}
			if err != nil {
				t.Fatalf("NewQuery: %v", err)
			}
			if q.Limit != tt.wantLimit || q.Text != tt.text {
				t.Errorf("query = {%d chars, limit %d}, want limit %d", len(q.Text), q.Limit, tt.wantLimit)
			}
		})
	}
}

func TestScope(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		appID     string
		endUser   string
		wantAgent string
		wantUser  string
	}{
		{"application without end user", "app-1", "", "custom_gpt:app-1", "app-1"},
		{"application with end user", "app-1", "sub-7", "custom_gpt:app-1", "app-1:sub-7"},
		{"end user with colon", "app-1", "a:b", "custom_gpt:app-1", "app-1:a:b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := memory.NewScope(tt.appID, tt.endUser)
			if err != nil {
				t.Fatalf("NewScope: %v", err)
			}
			if s.AgentID() != tt.wantAgent {
				t.Errorf("AgentID = %q, want %q", s.AgentID(), tt.wantAgent)
			}
			if s.UserID() != tt.wantUser {
				t.Errorf("UserID = %q, want %q", s.UserID(), tt.wantUser)
			}
			if s.AppID() != tt.appID || s.EndUser() != tt.endUser {
				t.Errorf("scope = (%q, %q), want (%q, %q)", s.AppID(), s.EndUser(), tt.appID, tt.endUser)
			}
		})
	}
}

func TestScope_rejectsBadAppID(t *testing.T) {
	t.Parallel()

	for _, id := range []string{"", "a:b", ":", "app:"} {
		_, err := memory.NewScope(id, "")
		requireInvalid(t, err, "app_id", "")
	}
}

// Two different applications, with or without end users, must never map to the
// same mem0 user: that would let one read the other's memories.
func TestScope_appsNeverShareUserID(t *testing.T) {
	t.Parallel()

	apps := []string{"a", "ab", "a-b", "b", "app", "app1"}
	users := []string{"", "b", "1", "x", "b:c", "app"}
	owner := map[string]string{} // user id -> app id
	for _, app := range apps {
		for _, user := range users {
			s, err := memory.NewScope(app, user)
			if err != nil {
				t.Fatalf("NewScope(%q, %q): %v", app, user, err)
			}
			if prev, ok := owner[s.UserID()]; ok && prev != app {
				t.Errorf("apps %q and %q share user id %q", prev, app, s.UserID())
			}
			owner[s.UserID()] = app
			if s.AgentID() != memory.AgentPrefix+app {
				t.Errorf("AgentID = %q", s.AgentID())
			}
		}
	}
}

func TestIsTransient(t *testing.T) {
	t.Parallel()

	cause := errors.New("connection reset")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"transient bank error", &memory.BankError{Transient: true, Reason: "down"}, true},
		{"permanent bank error", &memory.BankError{StatusCode: 400, Reason: "bad request"}, false},
		{"wrapped permanent bank error", fmt.Errorf("add: %w", &memory.BankError{StatusCode: 422}), false},
		{"wrapped transient bank error", fmt.Errorf("add: %w", &memory.BankError{Transient: true}), true},
		{"other error", cause, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := memory.IsTransient(tt.err); got != tt.want {
				t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestBankError(t *testing.T) {
	t.Parallel()

	cause := errors.New("connection reset")
	tests := []struct {
		name string
		err  *memory.BankError
		want string
	}{
		{"reason only", &memory.BankError{Reason: "refused"}, "memory bank: refused"},
		{"with status", &memory.BankError{Reason: "refused", StatusCode: 400}, "memory bank: refused (status 400)"},
		{"with status and cause", &memory.BankError{Reason: "down", StatusCode: 503, Err: cause}, "memory bank: down (status 503): connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(&memory.BankError{Err: cause}, cause) {
		t.Error("BankError does not unwrap to its cause")
	}
}
