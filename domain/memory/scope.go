package memory

import (
	"strings"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// AgentPrefix marks every mem0 agent id this service owns.
const AgentPrefix = "custom_gpt:"

// Scope is the isolated memory space of one application and one end user.
// It is always derived from authenticated identities, never from a request body.
type Scope struct {
	appID  string
	userID string
}

// NewScope builds the scope of an end user within an application. Until end users
// exist (OAuth), userID is empty and the application is its own single user.
func NewScope(appID, userID string) (Scope, error) {
	if appID == "" {
		return Scope{}, errs.Invalid("app_id", "missing-app-id", "a scope needs an application")
	}
	if strings.ContainsAny(appID, ":") {
		return Scope{}, errs.Invalid("app_id", "invalid-app-id", "an application id may not contain ':'")
	}
	return Scope{appID: appID, userID: userID}, nil
}

// AppID is the owning application.
func (s Scope) AppID() string { return s.appID }

// EndUser is the end user within the application; empty for API-key callers.
func (s Scope) EndUser() string { return s.userID }

// AgentID is the mem0 agent_id of the scope: one agent per application.
func (s Scope) AgentID() string { return AgentPrefix + s.appID }

// UserID is the mem0 user_id of the scope: the application itself until end users
// exist, then "<app_id>:<sub>" so that two applications never share a user.
func (s Scope) UserID() string {
	if s.userID == "" {
		return s.appID
	}
	return s.appID + ":" + s.userID
}
