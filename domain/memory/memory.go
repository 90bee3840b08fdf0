// Package memory holds what a memory is, how it is searched, and the rules a
// request must follow before anything reaches the Memory Bank.
package memory

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

const (
	MaxContentChars  = 16384
	MaxMetadataKeys  = 32
	MaxMetadataKey   = 64
	MaxMetadataValue = 2048
	MaxConversation  = 256
	MaxQueryChars    = 2000
	MaxSearchLimit   = 50
	DefaultSearchMax = 10
)

// Metadata tags the service itself puts on every memory; callers may not set them.
const (
	TagSource         = "source"
	TagAppID          = "app_id"
	TagOperationID    = "operation_id"
	TagConversationID = "conversation_id"
	SourceValue       = "custom-gpt"
)

var reservedTags = map[string]bool{TagSource: true, TagAppID: true, TagOperationID: true, TagConversationID: true}

// mem0Keys are the keys mem0's open-source library keeps beside the caller's
// metadata in one flat payload (mem0/memory/main.py, 2.0.18: the entity ids
// and core_and_promoted_keys). A caller's key of that name would set a memory's
// identity (whose user it is, on a filtered search) or vanish from its
// metadata, so none may be set.
var mem0Keys = map[string]bool{
	"user_id": true, "agent_id": true, "run_id": true, "actor_id": true, "role": true, "app_id": true,
	"attributed_to": true, "expiration_date": true,
	"data": true, "hash": true, "id": true, "created_at": true, "updated_at": true, "text_lemmatized": true,
}

// Draft is a memory a caller asked to store, already validated.
type Draft struct {
	Content        string
	Metadata       map[string]any
	ConversationID string
}

// NewDraft validates a memory to be stored. Metadata must be flat: strings, numbers,
// booleans or null, so that it survives both mem0 flavors unchanged.
func NewDraft(content string, metadata map[string]any, conversationID string) (Draft, error) {
	content, err := NewContent(content)
	if err != nil {
		return Draft{}, err
	}
	if len(metadata) > MaxMetadataKeys {
		return Draft{}, errs.Invalid("metadata", "metadata-too-many-keys", "metadata may have at most 32 keys")
	}
	for k, v := range metadata {
		field := "metadata." + k
		if k == "" || utf8.RuneCountInString(k) > MaxMetadataKey || !utf8.ValidString(k) || hasNUL(k) {
			return Draft{}, errs.Invalid(field, "metadata-key-invalid", "metadata keys must be 1 to 64 characters, without NUL")
		}
		if reservedTags[k] {
			return Draft{}, errs.Invalid(field, "metadata-key-reserved", "this metadata key is set by the service")
		}
		if mem0Keys[k] {
			return Draft{}, errs.Invalid(field, "metadata-key-reserved", "this metadata key is the Memory Bank's own (an identity or a field of every memory)")
		}
		switch v := v.(type) {
		case string:
			if utf8.RuneCountInString(v) > MaxMetadataValue || !utf8.ValidString(v) {
				return Draft{}, errs.Invalid(field, "metadata-value-too-long", "metadata strings must be valid UTF-8 of at most 2048 characters")
			}
			if hasNUL(v) {
				return Draft{}, errs.Invalid(field, "metadata-value-nul", "metadata strings must not contain NUL characters")
			}
		case float64, bool, nil, int, int64:
		default:
			return Draft{}, errs.Invalid(field, "metadata-not-flat", "metadata values must be strings, numbers, booleans or null")
		}
	}
	if utf8.RuneCountInString(conversationID) > MaxConversation {
		return Draft{}, errs.Invalid("conversation_id", "conversation-id-too-long", "conversation_id must be at most 256 characters")
	}
	if !utf8.ValidString(conversationID) || hasNUL(conversationID) {
		return Draft{}, errs.Invalid("conversation_id", "conversation-id-invalid", "conversation_id must be UTF-8 text without NUL characters")
	}
	return Draft{Content: content, Metadata: metadata, ConversationID: conversationID}, nil
}

// NewContent validates the text of a memory, stored or replaced: 1 to 16384
// characters of valid UTF-8, without NUL, and not only whitespace: mem0 stores
// such a text as a memory nobody can find (and its search refuses one as a query).
func NewContent(content string) (string, error) {
	n := utf8.RuneCountInString(content)
	switch {
	case n == 0 || strings.TrimSpace(content) == "":
		return "", errs.Invalid("content", "content-empty", "content must not be empty or only whitespace")
	case n > MaxContentChars:
		return "", errs.Invalid("content", "content-too-long", "content must be at most 16384 characters")
	case !utf8.ValidString(content):
		return "", errs.Invalid("content", "content-not-utf8", "content must be valid UTF-8")
	case hasNUL(content):
		return "", errs.Invalid("content", "content-nul", "content must not contain NUL characters")
	}
	return content, nil
}

// hasNUL: no text a memory holds or is searched by may contain U+0000.
// Postgres text and jsonb cannot store it (the embedded bank would fail every
// retry of an accepted write), and no fact needs it.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// PublicMetadata is a memory's metadata as its owner sees it: without the
// tags the service keeps for itself (the source, the application, the
// operation; the conversation is the caller's own).
func PublicMetadata(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case TagSource, TagAppID, TagOperationID:
			continue
		}
		out[k] = v
	}
	return out
}

// Tags returns the metadata stored with the memory: the caller's keys plus the
// service's own, which always win.
func (d Draft) Tags(scope Scope, operationID string) map[string]any {
	tags := make(map[string]any, len(d.Metadata)+4)
	for k, v := range d.Metadata {
		tags[k] = v
	}
	tags[TagSource] = SourceValue
	tags[TagAppID] = scope.AppID()
	tags[TagOperationID] = operationID
	if d.ConversationID != "" {
		tags[TagConversationID] = d.ConversationID
	}
	return tags
}

// Query is a validated search request.
type Query struct {
	Text  string
	Limit int
}

// NewQuery validates a search; a nil limit takes the default.
func NewQuery(text string, limit *int) (Query, error) {
	n := utf8.RuneCountInString(text)
	if n == 0 || strings.TrimSpace(text) == "" {
		// mem0 refuses a blank query itself (_validate_and_trim_search_query).
		return Query{}, errs.Invalid("query", "query-empty", "query must not be empty or only whitespace")
	}
	if n > MaxQueryChars {
		return Query{}, errs.Invalid("query", "query-too-long", "query must be at most 2000 characters")
	}
	if !utf8.ValidString(text) || hasNUL(text) {
		return Query{}, errs.Invalid("query", "query-invalid", "query must be UTF-8 text without NUL characters")
	}
	l := DefaultSearchMax
	if limit != nil {
		l = *limit
	}
	if l < 1 || l > MaxSearchLimit {
		return Query{}, errs.Invalid("limit", "limit-out-of-range", "limit must be between 1 and 50")
	}
	return Query{Text: text, Limit: l}, nil
}

// Hit is one search result as the Memory Bank returned it, already bounded.
type Hit struct {
	ID        string
	Content   string
	Relevance float64 // 0..1
	Metadata  map[string]any
	CreatedAt time.Time
}

// Record is a stored memory as the Memory Bank lists it.
type Record struct {
	ID        string
	Content   string
	Metadata  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time // zero when the Memory Bank did not say
}

// OperationID returns the operation that stored the record, if tagged.
func (r Record) OperationID() string {
	s, _ := r.Metadata[TagOperationID].(string)
	return s
}
