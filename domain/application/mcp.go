package application

import "time"

// MCPEnabled tells whether the application's MCP endpoint answers. It is off
// until its operator switches it on: a new door is opened on purpose.
func (a *Application) MCPEnabled() bool { return a.mcp }

// SetMCP switches the application's MCP endpoint on or off.
func (a *Application) SetMCP(enabled bool, now time.Time) {
	a.mcp = enabled
	a.updatedAt = now
}

// WithStoredMCP restores the MCP switch read from storage; adapters only.
func (a *Application) WithStoredMCP(enabled bool) *Application {
	a.mcp = enabled
	return a
}
